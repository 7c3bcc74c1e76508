package app

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/specs"
)

// reloadState is what spec reloads share: one at a time, the outcome of
// the last, and the file watcher.
type reloadState struct {
	// mu serialises reloads and guards lastErr and lastAt.
	mu      sync.Mutex
	lastErr error
	lastAt  time.Time

	applied, rejected *metrics.Counter
	stop              chan struct{}
	stopped           chan struct{}

	// groups are the grouped flows' groups, kept across reloads
	// (groups.go).
	groups *groupRegistry
}

// ReloadSpecs reads the spec files again and, when they changed and are
// valid, swaps in an engine for them that keeps the state of every SLO
// whose flow and objective did not change (slo.Engine.Restore matches state
// by SLO). A broken set is rejected: logged, counted, reported by
// SpecError, and the running set goes on. A reload never stops ingestion:
// batches wait on it for the time of a snapshot, not on a receiver.
func (a *App) ReloadSpecs() error {
	a.reload.mu.Lock()
	defer a.reload.mu.Unlock()
	old := a.core.Load()
	if digest, err := specDigest(a.cfg.Files); err == nil && digest == old.digest {
		return nil // unchanged
	}
	next, err := loadCore(a.cfg, a.reload.groups)
	if err != nil {
		return a.rejected(err)
	}
	report, err := a.swap(old, next)
	if err != nil {
		return a.rejected(err)
	}
	now := a.clock.Now()
	a.reload.lastErr, a.reload.lastAt = nil, now
	a.reload.applied.Inc()
	a.logger.Info("spec files reloaded", zap.Int("flows", len(next.specs.Flows)), zap.Int("slos", len(next.specs.SLOs)),
		zap.Int("kept", report.SLOs), zap.Strings("rebuilt", report.Rebuilt), zap.Strings("restarted", report.Changed), zap.Strings("removed", report.Removed),
		zap.Strings("new", report.New))
	return nil
}

// swap installs next in place of old, carrying the state of every SLO over
// (slo.Engine.Restore), and checkpoints it. a.reload.mu must be held.
func (a *App) swap(old, next *core) (slo.RestoreReport, error) {
	a.swapMu.Lock()
	defer a.swapMu.Unlock()
	now := a.clock.Now()
	snap := old.engine.AppendSnapshot(nil, now)
	report, err := next.engine.Restore(snap)
	if err != nil {
		return report, fmt.Errorf("carry state over: %w", err)
	}
	a.core.Store(next)
	if a.persist != nil && a.alerts != nil {
		// The WAL's deltas after this are the new engine's: a checkpoint
		// now keeps a restart from replaying them onto the old specs.
		_ = a.persist.checkpoint(next.engine, a.checkpointState(), now)
	}
	return report, nil
}

func (a *App) rejected(err error) error {
	a.reload.lastErr, a.reload.lastAt = err, a.clock.Now()
	a.reload.rejected.Inc()
	a.logger.Error("spec files rejected; the running set goes on", zap.Error(err))
	return err
}

// SpecError is the error of the last spec reload, nil when it was applied
// (or there was none), and when it happened.
func (a *App) SpecError() (error, time.Time) {
	a.reload.mu.Lock()
	defer a.reload.mu.Unlock()
	return a.reload.lastErr, a.reload.lastAt
}

// startWatching polls the spec files every WatchInterval and reloads them
// once a change has held still for one interval, so an editor's or a
// ConfigMap's write in several steps is read whole.
func (a *App) startWatching() {
	if a.cfg.WatchInterval <= 0 {
		return
	}
	a.reload.stop, a.reload.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(a.reload.stopped)
		tick := time.NewTicker(a.cfg.WatchInterval)
		defer tick.Stop()
		var seen [32]byte
		for {
			select {
			case <-a.reload.stop:
				return
			case <-tick.C:
			}
			digest, err := specDigest(a.cfg.Files)
			if err != nil || digest == a.core.Load().digest {
				seen = digest
				continue
			}
			if digest == seen { // still for one interval: read it
				_ = a.ReloadSpecs()
			}
			seen = digest
		}
	}()
}

func (a *App) stopWatching() {
	if a.reload.stop != nil {
		close(a.reload.stop)
		<-a.reload.stopped
		a.reload.stop = nil
	}
}

// specDigest hashes the names and contents of the files patterns name, as
// specs.Load reads them; a pattern of files built into the binary hashes as
// its name.
func specDigest(patterns []string) ([32]byte, error) {
	h := sha256.New()
	var errs []error
	for _, p := range patterns {
		if strings.HasPrefix(p, specs.BuiltinPrefix) {
			fmt.Fprintf(h, "%s\x00", p)
			continue
		}
		names, err := filepath.Glob(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sort.Strings(names)
		for _, name := range names {
			f, err := os.Open(name)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Fprintf(h, "%s\x00", name)
			_, err = io.Copy(h, f)
			f.Close()
			errs = append(errs, err)
		}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, errors.Join(errs...)
}
