package app

import (
	"errors"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/storage"
)

// Storage states, as /metrics and the logs name them.
const (
	// StorageOff: no storage.directory; a restart starts afresh.
	StorageOff = "off"
	// StorageDurable: every acknowledged count is in the WAL or a
	// checkpoint; a kill -9 loses nothing acknowledged.
	StorageDurable = "durable"
	// StorageMemoryOnly: counts are acknowledged from memory; a kill -9
	// loses what was counted since storage stopped being durable.
	StorageMemoryOnly = "memory_only"
)

// retryInterval is how often upkeep tries to make storage durable again.
const retryInterval = 5 * time.Second

// storageState names the state of storage for logs and /metrics.
func (a *App) storageState() string {
	switch {
	case a.persist == nil:
		return StorageOff
	case a.persist.durable.Load():
		return StorageDurable
	}
	return StorageMemoryOnly
}

// setDurableLocked marks storage durable and, if it was not for a reason,
// says it recovered. The caller holds p.mu.
func (p *persistence) setDurableLocked() {
	p.durable.Store(true)
	if p.reason == "" {
		return
	}
	p.recoveries.Inc()
	p.logger.Warn("storage is durable again", zap.String("was", p.reason), zap.String("directory", p.cfg.Directory))
	p.reason = ""
}

// setNotDurableLocked marks storage memory only; the first reason is logged
// and stands until storage is durable again. The caller holds p.mu.
func (p *persistence) setNotDurableLocked(reason string) {
	p.durable.Store(false)
	if p.reason != "" {
		return
	}
	p.reason = reason
	ack := "batches are still acknowledged (storage.acknowledge: always); a crash now loses what is counted until storage recovers"
	if p.cfg.Acknowledge == AckDurable {
		ack = "batches are refused until storage recovers (storage.acknowledge: durable)"
	}
	p.logger.Error("storage is not durable: going on from memory", zap.String("reason", reason),
		zap.String("directory", p.cfg.Directory), zap.String("acknowledge", ack))
}

// notDurable is setNotDurableLocked for callers without the lock.
func (p *persistence) notDurable(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setNotDurableLocked(reason)
}

// upkeep runs on each evaluation. It notices a data directory that
// vanished (removed or replaced while the daemon runs: the open files keep
// accepting writes that no restart will see), writes a checkpoint when due,
// and while storage is memory only tries every retryInterval to make it
// durable again: reopen the directory (recreating it) and write a
// checkpoint of the whole state. It reports whether a checkpoint was
// written.
func (p *persistence) upkeep(engine *slo.Engine, alerts func() alertState, now time.Time, due bool) bool {
	if err := p.check(); err != nil {
		p.fail("check data directory", err)
		p.mu.Lock()
		p.setNotDurableLocked(err.Error())
		_ = p.closeLocked()
		p.mu.Unlock()
		p.nextRetry = time.Time{} // recover at once
	}
	if p.durable.Load() {
		if !due {
			return false
		}
		return p.checkpoint(engine, alerts(), now) == nil
	}
	if now.Before(p.nextRetry) {
		return false
	}
	p.nextRetry = now.Add(retryInterval)
	if err := p.open(); err != nil {
		p.fail("reopen storage", err)
		return false
	}
	return p.checkpoint(engine, alerts(), now) == nil
}

// check reports whether the open data directory and its files are still
// where they were: the directory itself, the WAL's active segment and lock,
// the checkpoints' and the history's directories.
func (p *persistence) check() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wal == nil {
		return nil
	}
	fi, err := os.Stat(p.cfg.Directory)
	if err != nil || !os.SameFile(fi, p.dir) {
		return fmt.Errorf("storage.directory %s: %w", p.cfg.Directory, storage.ErrVanished)
	}
	for _, c := range []struct {
		what  string
		check func() error
	}{{"wal", p.wal.Check}, {"checkpoints", p.store.Check}, {"history", p.history.Check}} {
		if err := c.check(); errors.Is(err, storage.ErrVanished) {
			return fmt.Errorf("storage.directory %s: %s: %w", p.cfg.Directory, c.what, err)
		}
	}
	return nil
}

// writeMetrics exposes the storage layer's state and counters on /metrics.
func (p *persistence) writeMetrics(e *exposition) {
	e.single("burnwatch_storage_durable", "gauge", boolValue(p.durable.Load()))
	p.mu.Lock()
	if p.wal == nil {
		p.mu.Unlock()
		return
	}
	ws, hs := p.wal.Stats(), p.history.Stats()
	p.mu.Unlock()
	e.single("burnwatch_wal_records_total", "counter", float64(ws.Records))
	e.single("burnwatch_wal_bytes_written_total", "counter", float64(ws.BytesWritten))
	e.single("burnwatch_wal_segments", "gauge", float64(ws.Segments))
	e.single("burnwatch_wal_compression_ratio", "gauge", ws.CompressionRatio())
	e.single("burnwatch_wal_fsyncs_total", "counter", float64(ws.Fsyncs))
	e.single("burnwatch_wal_fsync_seconds_total", "counter", ws.FsyncTime.Seconds())
	e.single("burnwatch_wal_repairs_total", "counter", float64(ws.Repairs))
	e.single("burnwatch_wal_write_errors_total", "counter", float64(ws.WriteErrors))
	e.single("burnwatch_history_lines_total", "counter", float64(hs.Lines))
	e.single("burnwatch_history_write_errors_total", "counter", float64(hs.WriteErrors))
}
