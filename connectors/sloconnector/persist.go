package sloconnector

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/storage/checkpoint"
	"github.com/burnwatch/burnwatch/storage/journal"
	"github.com/burnwatch/burnwatch/storage/wal"
)

// WAL record types. The WAL holds engine deltas (sealed slot counts, never
// raw spans) and the alert state after each change, so replay after the
// newest checkpoint rebuilds both.
const (
	recDelta  wal.RecordType = 1
	recAlerts wal.RecordType = 2
)

// checkpointMagic starts a checkpoint body: engine snapshot, then alert state.
var checkpointMagic = []byte("BWCP1")

// alertState is what the alerting side needs to resume: firing alerts (so
// they stay firing without a second page) and notifications not yet
// delivered (so delivery is at least once across restarts).
type alertState struct {
	Alerts  []alerting.AlertState   `json:"alerts"`
	Pending []alerting.Notification `json:"pending"`
}

// persistence keeps the engine and alert state on disk. Disk trouble never
// stops ingestion or alerting: errors are counted and logged, and the daemon
// goes on from memory.
type persistence struct {
	cfg     StorageConfig
	logger  *zap.Logger
	wal     *wal.WAL
	store   *checkpoint.Store
	history *journal.Journal

	// mu orders appends: a delta is appended before the checkpoint that
	// follows it, and alert records interleave whole.
	mu  sync.Mutex
	buf []byte

	errs     *metrics.Counter
	restored *metrics.Counter
	// logMu guards lastLog, the time of the last storage error logged.
	logMu   sync.Mutex
	lastLog time.Time
}

func openPersistence(cfg StorageConfig, self *metrics.Set, logger *zap.Logger) (*persistence, error) {
	p := &persistence{cfg: cfg, logger: logger,
		errs:     self.NewCounter("burnwatch_storage_errors_total"),
		restored: self.NewCounter("burnwatch_storage_restored_records_total")}
	var err error
	w, report, err := wal.Open(filepath.Join(cfg.Directory, "wal"), wal.Options{SegmentSize: cfg.WALSegmentSize})
	if err != nil {
		return nil, fmt.Errorf("storage.directory: open wal: %w", err)
	}
	p.wal = w
	if !report.Clean() {
		logger.Warn("wal repaired on open", zap.String("report", report.String()))
	}
	if p.store, err = checkpoint.Open(filepath.Join(cfg.Directory, "checkpoints"), checkpoint.Options{}); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("storage.directory: open checkpoints: %w", err)
	}
	hpath := cfg.History.Path
	if hpath == "" {
		hpath = filepath.Join(cfg.Directory, "history", "alerts.jsonl")
	}
	if err := os.MkdirAll(filepath.Dir(hpath), 0o755); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("storage.history.path: %w", err)
	}
	if p.history, err = journal.Open(hpath, journal.Options{MaxSize: cfg.History.MaxSize, MaxAge: cfg.History.MaxAge, MaxFiles: cfg.History.MaxFiles}); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("storage.history.path: %w", err)
	}
	self.RegisterMetricsWriter(p.writeMetrics)
	return p, nil
}

// restore loads the newest checkpoint and replays the WAL after it.
func (p *persistence) restore(engine *slo.Engine, alerts *alertPath) error {
	cp, report, err := p.store.Load()
	if len(report.Skipped) > 0 {
		p.logger.Warn("damaged checkpoints skipped", zap.Any("skipped", report.Skipped))
	}
	from := wal.LSN(0)
	switch {
	case errors.Is(err, checkpoint.ErrNoCheckpoint):
	case err != nil:
		p.fail("load checkpoint", err)
	default:
		if err := p.applyCheckpoint(cp.Body, engine, alerts); err != nil {
			p.fail("restore checkpoint", err)
		}
		from = wal.LSN(cp.LSN) + 1
	}
	var state *alertState
	err = p.wal.Replay(from, func(r wal.Record) error {
		p.restored.Inc()
		switch r.Type {
		case recDelta:
			if err := engine.ApplyDelta(r.Data); err != nil {
				return fmt.Errorf("record %d: %w", r.LSN, err)
			}
		case recAlerts:
			var s alertState
			if err := json.Unmarshal(r.Data, &s); err != nil {
				return fmt.Errorf("record %d: %w", r.LSN, err)
			}
			state = &s
		}
		return nil
	})
	if err != nil {
		// Everything before the damage is applied; say what was lost.
		p.fail("replay wal", err)
	}
	if state != nil {
		alerts.restore(*state)
	}
	return nil
}

func (p *persistence) applyCheckpoint(body []byte, engine *slo.Engine, alerts *alertPath) error {
	if len(body) < len(checkpointMagic) || string(body[:len(checkpointMagic)]) != string(checkpointMagic) {
		return errors.New("not a burnwatch checkpoint")
	}
	body = body[len(checkpointMagic):]
	n, k := binary.Uvarint(body)
	if k <= 0 || uint64(len(body)-k) < n {
		return errors.New("truncated engine snapshot")
	}
	report, err := engine.Restore(body[k : k+int(n)])
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	p.logger.Info("engine state restored", zap.Time("snapshot", report.At), zap.Int("slos", report.SLOs), zap.Int("flows", report.Flows),
		zap.Strings("changed", report.Changed), zap.Strings("removed", report.Removed), zap.Strings("new", report.New))
	var s alertState
	if err := json.Unmarshal(body[k+int(n):], &s); err != nil {
		return fmt.Errorf("alert state: %w", err)
	}
	alerts.restore(s)
	return nil
}

// appendDelta writes what the engine counted since the last delta. It runs
// before a batch is acknowledged, so a span the sender saw accepted survives
// a kill -9.
func (p *persistence) appendDelta(engine *slo.Engine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = engine.AppendDelta(p.buf[:0])
	if len(p.buf) == 0 {
		return
	}
	if _, err := p.wal.Append(recDelta, p.buf); err != nil {
		p.fail("append delta", err)
	}
}

func (p *persistence) appendAlerts(s alertState) {
	data, err := json.Marshal(s)
	if err != nil {
		p.fail("encode alert state", err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.wal.Append(recAlerts, data); err != nil {
		p.fail("append alert state", err)
	}
}

// checkpoint writes the whole state and lets the WAL drop what it covers.
// The engine cuts the delta and the snapshot at one instant; the delta is in
// the WAL before the snapshot is saved, so a failed save loses nothing.
func (p *persistence) checkpoint(engine *slo.Engine, alerts *alertPath, now time.Time) {
	p.mu.Lock()
	var snap []byte
	p.buf, snap = engine.AppendDeltaAndSnapshot(p.buf[:0], nil, now)
	if _, err := p.wal.Append(recDelta, p.buf); err != nil {
		p.fail("append delta", err)
	}
	lsn := p.wal.NextLSN() - 1
	p.mu.Unlock()
	body := append([]byte(nil), checkpointMagic...)
	body = binary.AppendUvarint(body, uint64(len(snap)))
	body = append(body, snap...)
	a, err := json.Marshal(alerts.state())
	if err != nil {
		p.fail("encode alert state", err)
		return
	}
	body = append(body, a...)
	if _, err := p.store.Save(uint64(lsn), body); err != nil {
		p.fail("save checkpoint", err)
		return
	}
	if floor, err := p.store.Floor(); err == nil {
		if err := p.wal.KeepFrom(wal.LSN(floor)); err != nil {
			p.fail("wal retention", err)
		}
	}
}

// record writes one line of alert history.
func (p *persistence) record(v any) {
	if err := p.history.Write(v); err != nil {
		p.fail("write alert history", err)
	}
}

// fail counts a storage error and logs it at most every 10 s, so a full disk
// does not flood the log.
func (p *persistence) fail(what string, err error) {
	p.errs.Inc()
	now := time.Now()
	p.logMu.Lock()
	quiet := now.Sub(p.lastLog) < 10*time.Second
	if !quiet {
		p.lastLog = now
	}
	p.logMu.Unlock()
	if !quiet {
		p.logger.Error("storage: "+what+" failed; going on from memory", zap.Error(err))
	}
}

func (p *persistence) close() error {
	return errors.Join(p.wal.Close(), p.history.Close())
}

// writeMetrics exposes the storage layer's own counters on /metrics.
func (p *persistence) writeMetrics(w io.Writer) {
	ws := p.wal.Stats()
	metrics.WriteCounterUint64(w, "burnwatch_wal_records_total", ws.Records)
	metrics.WriteCounterUint64(w, "burnwatch_wal_bytes_written_total", ws.BytesWritten)
	metrics.WriteGaugeUint64(w, "burnwatch_wal_segments", uint64(ws.Segments))
	metrics.WriteGaugeFloat64(w, "burnwatch_wal_compression_ratio", ws.CompressionRatio())
	metrics.WriteCounterUint64(w, "burnwatch_wal_fsyncs_total", ws.Fsyncs)
	metrics.WriteCounterFloat64(w, "burnwatch_wal_fsync_seconds_total", ws.FsyncTime.Seconds())
	metrics.WriteCounterUint64(w, "burnwatch_wal_repairs_total", ws.Repairs)
	metrics.WriteCounterUint64(w, "burnwatch_wal_write_errors_total", ws.WriteErrors)
	hs := p.history.Stats()
	metrics.WriteCounterUint64(w, "burnwatch_history_lines_total", hs.Lines)
	metrics.WriteCounterUint64(w, "burnwatch_history_write_errors_total", hs.WriteErrors)
}
