package app

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/history"
	"github.com/burnwatch/burnwatch/alerting/silence"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/storage/checkpoint"
	"github.com/burnwatch/burnwatch/storage/journal"
	"github.com/burnwatch/burnwatch/storage/wal"
)

// WAL record types. The WAL holds engine deltas (sealed slot counts, never
// raw spans) and the alert state after each change, so replay after the
// newest checkpoint rebuilds both. More types: recHeld and recHeldApplied
// (restoring.go), recMerged (dedup.go).
const (
	recDelta    wal.RecordType = 1
	recAlerts   wal.RecordType = 2
	recOutbox   wal.RecordType = 3
	recSilences wal.RecordType = 4
)

// checkpointMagic starts a checkpoint body: engine snapshot, then alert
// state (JSON), then on a gateway that merged anything checkpointExtra
// (JSON).
var checkpointMagic = []byte("BWCP1")

// checkpointExtra is the part of a checkpoint after the alert state, which
// earlier checkpoints do not have.
type checkpointExtra struct {
	Merged []dedupEntry `json:"merged,omitempty"`
}

// persistence keeps the engine and alert state in the data directory: the
// WAL, the checkpoints and the alert history. Disk trouble never stops
// ingestion or alerting: it is counted, logged, and makes storage "memory
// only" until upkeep has recovered it (durability.go).
type persistence struct {
	cfg    StorageConfig
	logger *zap.Logger

	// mu guards the handles (nil while closed), dir, buf and reason, and
	// orders WAL appends: a delta is appended before the checkpoint that
	// follows it, and alert records interleave whole.
	mu      sync.Mutex
	wal     *wal.WAL
	store   *checkpoint.Store
	history *journal.Journal
	// dir is the data directory as opened, to notice it vanish.
	dir os.FileInfo
	buf []byte
	// reason says why storage is not durable; empty while it is, and
	// before it was first opened.
	reason string
	// nextRetry is when upkeep next tries to recover; evaluation
	// goroutine only.
	nextRetry time.Time

	// durable says every count acknowledged so far is on disk (in the WAL
	// or a checkpoint); Observe reads it without the lock.
	durable atomic.Bool
	// walBytes counts what was appended to the WAL since the last
	// checkpoint: a checkpoint is due when it reaches
	// storage.checkpoint_wal_size, so that a restart replays a bounded
	// log however busy the daemon is.
	walBytes atomic.Int64
	// snapSize is the size of the last checkpoint's snapshot: the next is
	// built in one buffer of about that size, not grown by doubling (with
	// 100,000 flows a snapshot is hundreds of megabytes).
	snapSize int

	// dedup is a gateway's memory of what it merged, which checkpoints
	// keep beside the engine (nil in tests that have none).
	dedup *dedup

	errs       *metrics.Counter
	restored   *metrics.Counter
	recoveries *metrics.Counter
	skipped    *metrics.Counter
	// logMu guards lastLog, the time of the last storage error logged.
	logMu   sync.Mutex
	lastLog time.Time
}

func newPersistence(cfg StorageConfig, self *metrics.Set, logger *zap.Logger) *persistence {
	p := &persistence{cfg: cfg, logger: logger,
		errs:       self.NewCounter("burnwatch_storage_errors_total"),
		restored:   self.NewCounter("burnwatch_storage_restored_records_total"),
		recoveries: self.NewCounter("burnwatch_storage_recoveries_total"),
		skipped:    self.NewCounter("burnwatch_storage_checkpoints_skipped_total")}
	return p
}

func (p *persistence) historyPath() string {
	if p.cfg.History.Path != "" {
		return p.cfg.History.Path
	}
	return filepath.Join(p.cfg.Directory, "history", "alerts.jsonl")
}

// open creates the data directory if need be and opens the WAL, the
// checkpoints and the history. It does not make storage durable: restore
// or a checkpoint does.
func (p *persistence) open() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wal != nil {
		return nil
	}
	if err := os.MkdirAll(p.cfg.Directory, 0o755); err != nil {
		return fmt.Errorf("storage.directory: %w", err)
	}
	dir, err := os.Stat(p.cfg.Directory)
	if err != nil {
		return fmt.Errorf("storage.directory: %w", err)
	}
	w, report, err := wal.Open(filepath.Join(p.cfg.Directory, "wal"), wal.Options{SegmentSize: int64(p.cfg.WALSegmentSize)})
	if err != nil {
		return fmt.Errorf("storage.directory: open wal: %w", err)
	}
	if !report.Clean() {
		p.logger.Warn("wal repaired on open", zap.String("report", report.String()))
	}
	store, err := checkpoint.Open(filepath.Join(p.cfg.Directory, "checkpoints"), checkpoint.Options{})
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("storage.directory: open checkpoints: %w", err)
	}
	hpath := p.historyPath()
	if err := os.MkdirAll(filepath.Dir(hpath), 0o755); err != nil {
		_ = w.Close()
		return fmt.Errorf("storage.history.path: %w", err)
	}
	history, err := journal.Open(hpath, journal.Options{MaxSize: int64(p.cfg.History.MaxSize), MaxAge: p.cfg.History.MaxAge, MaxFiles: p.cfg.History.MaxFiles})
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("storage.history.path: %w", err)
	}
	p.wal, p.store, p.history, p.dir = w, store, history, dir
	return nil
}

func (p *persistence) isOpen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wal != nil
}

// close closes what is open at shutdown.
func (p *persistence) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.durable.Store(false)
	return p.closeLocked()
}

// closeLocked closes the handles; the caller holds p.mu and decides what
// that means for durability.
func (p *persistence) closeLocked() error {
	if p.wal == nil {
		return nil
	}
	err := errors.Join(p.wal.Close(), p.history.Close())
	p.wal, p.store, p.history = nil, nil, nil
	return err
}

// nextLSN is the LSN the next WAL record gets (0 while closed).
func (p *persistence) nextLSN() wal.LSN {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wal == nil {
		return 0
	}
	return p.wal.NextLSN()
}

// errReplayed stops a replay at the records that were not there before it.
var errReplayed = errors.New("replayed up to the bound")

// pendingSet rebuilds the outbox from its records: per receiver and group
// the newest notification put and not yet done, in the order groups first
// became pending.
type pendingSet struct {
	order []string
	byKey map[string]alerting.Notification
}

func (s *pendingSet) put(n alerting.Notification) {
	if s.byKey == nil {
		s.byKey = map[string]alerting.Notification{}
	}
	k := n.Receiver + "\x00" + n.GroupKey
	if _, ok := s.byKey[k]; !ok {
		s.order = append(s.order, k)
	}
	s.byKey[k] = n
}

func (s *pendingSet) apply(r outboxRecord) {
	switch {
	case r.Put != nil:
		s.put(*r.Put)
	case r.Done != nil:
		k := r.Done.Receiver + "\x00" + r.Done.GroupKey
		if n, ok := s.byKey[k]; ok && n.ID == r.Done.ID {
			delete(s.byKey, k)
			s.order = slices.DeleteFunc(s.order, func(o string) bool { return o == k })
		}
	}
}

func (s *pendingSet) list() []alerting.Notification {
	out := make([]alerting.Notification, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, s.byKey[k])
	}
	return out
}

func (p *persistence) applyCheckpoint(body []byte, engine *slo.Engine) (*alertState, error) {
	if len(body) < len(checkpointMagic) || string(body[:len(checkpointMagic)]) != string(checkpointMagic) {
		return nil, errors.New("not a burnwatch checkpoint")
	}
	body = body[len(checkpointMagic):]
	n, k := binary.Uvarint(body)
	if k <= 0 || uint64(len(body)-k) < n {
		return nil, errors.New("truncated engine snapshot")
	}
	report, err := engine.Restore(body[k : k+int(n)])
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	p.logger.Info("engine state restored", zap.Time("snapshot", report.At), zap.Int("slos", report.SLOs), zap.Int("flows", report.Flows),
		zap.Strings("rebuilt", report.Rebuilt), zap.Strings("changed", report.Changed), zap.Strings("removed", report.Removed), zap.Strings("new", report.New))
	dec := json.NewDecoder(bytes.NewReader(body[k+int(n):]))
	var s alertState
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("alert state: %w", err)
	}
	var extra checkpointExtra
	if err := dec.Decode(&extra); err != nil && !errors.Is(err, io.EOF) {
		return &s, fmt.Errorf("gateway's merge memory: %w", err)
	}
	if p.dedup != nil {
		p.dedup.load(extra.Merged)
	}
	return &s, nil
}

// appendDelta writes what the engine counted since the last delta. It runs
// before a batch is acknowledged, so a span the sender saw accepted survives
// a kill -9. While storage is closed the delta is taken all the same (so it
// does not grow) and dropped: the next checkpoint holds its counts.
func (p *persistence) appendDelta(engine *slo.Engine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = engine.AppendDelta(p.buf[:0])
	if len(p.buf) == 0 || p.wal == nil {
		return
	}
	if _, err := p.wal.Append(recDelta, p.buf); err != nil {
		p.fail("append delta", err)
		p.setNotDurableLocked("write-ahead log append failed: " + err.Error())
		return
	}
	p.walBytes.Add(int64(len(p.buf)))
}

// saveAlerts writes the alert state after a change, so a restart resumes
// it.
func (p *persistence) saveAlerts(s alertState) { p.appendJSON(recAlerts, "alert state", s) }

// saveSilences writes every silence after a change (they are few).
func (p *persistence) saveSilences(ss []silence.Silence) { p.appendJSON(recSilences, "silences", ss) }

// saveOutbox writes a change of the outbox.
func (p *persistence) saveOutbox(r outboxRecord) { p.appendJSON(recOutbox, "outbox", r) }

func (p *persistence) appendJSON(t wal.RecordType, what string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		p.fail("encode "+what, err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wal == nil {
		return
	}
	if _, err := p.wal.Append(t, data); err != nil {
		p.fail("append "+what, err)
		p.setNotDurableLocked("write-ahead log append failed: " + err.Error())
		return
	}
	p.walBytes.Add(int64(len(data)))
}

// checkpoint writes the whole state and lets the WAL drop what it covers.
// The engine cuts the delta and the snapshot at one instant; the delta is in
// the WAL before the snapshot is saved, so a failed save loses nothing. It
// returns an error when either could not be written.
func (p *persistence) checkpoint(engine *slo.Engine, alerts alertState, now time.Time) error {
	a, err := json.Marshal(alerts)
	if err != nil {
		p.fail("encode alert state", err)
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wal == nil {
		return errors.New("storage is closed")
	}
	snap := make([]byte, 0, p.snapSize+p.snapSize/8)
	p.buf, snap = engine.AppendDeltaAndSnapshot(p.buf[:0], snap, now)
	p.snapSize = len(snap)
	var appendErr error
	if _, appendErr = p.wal.Append(recDelta, p.buf); appendErr != nil {
		p.fail("append delta", appendErr)
	}
	lsn := p.wal.NextLSN() - 1
	// The gateway's memory of merges, taken under the lock merges are
	// made and written under (persistence.merge): it holds the marks of
	// exactly the merges the snapshot holds.
	var merged []byte
	if p.dedup != nil {
		if es := p.dedup.entries(); len(es) > 0 {
			merged, _ = json.Marshal(checkpointExtra{Merged: es})
		}
	}
	// Saved under the lock: a checkpoint every few seconds at most, and
	// the lock keeps the store from closing under it. Streamed, not
	// copied into one body: the snapshot is the daemon's largest buffer.
	_, err = p.store.SaveFunc(uint64(lsn), func(w io.Writer) error {
		head := binary.AppendUvarint(append([]byte(nil), checkpointMagic...), uint64(len(snap)))
		for _, part := range [][]byte{head, snap, a, merged} {
			if _, err := w.Write(part); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		p.fail("save checkpoint", err)
		if appendErr != nil {
			// Neither the delta nor the snapshot holds what was counted.
			p.setNotDurableLocked("checkpoint failed: " + err.Error())
		}
		return errors.Join(appendErr, err)
	}
	p.walBytes.Store(0)
	if floor, err := p.store.Floor(); err == nil {
		if err := p.wal.KeepFrom(wal.LSN(floor)); err != nil {
			p.fail("wal retention", err)
		}
	}
	// The snapshot holds everything counted, whatever was lost before.
	p.setDurableLocked()
	return nil
}

// reopenHistory reopens the history file at its path.
func (p *persistence) reopenHistory() error {
	p.mu.Lock()
	h := p.history
	p.mu.Unlock()
	if h == nil {
		return nil
	}
	if err := h.Reopen(); err != nil {
		p.fail("reopen alert history", err)
		return fmt.Errorf("reopen alert history: %w", err)
	}
	p.logger.Info("alert history reopened", zap.String("path", h.Path()))
	return nil
}

// record writes one line of alert history.
func (p *persistence) record(v history.Record) {
	p.mu.Lock()
	h := p.history
	p.mu.Unlock()
	if h == nil {
		return
	}
	if err := h.Write(v); err != nil && !errors.Is(err, journal.ErrClosed) {
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
		p.logger.Error("storage: "+what+" failed", zap.Error(err))
	}
}
