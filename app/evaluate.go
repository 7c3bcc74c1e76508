package app

import (
	"cmp"
	"context"
	"time"
)

// run evaluates every EvaluationInterval until ctx is done.
func (a *App) run(ctx context.Context) {
	defer close(a.done)
	tick := a.clock.NewTicker(a.cfg.EvaluationInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			a.evaluate(a.clock.Now())
		}
	}
}

// evaluate runs one evaluation at now: burn rates, alert transitions, then
// the storage's upkeep (a checkpoint when due; noticing a vanished or
// failing data directory and recovering from it). Only the evaluation
// goroutine calls it, or a test in its stead.
func (a *App) evaluate(now time.Time) {
	if a.scale.agent != nil {
		return // an agent's gateways evaluate and alert
	}
	a.swapMu.RLock()
	defer a.swapMu.RUnlock()
	engine := a.Engine()
	began := time.Now()
	// Only this goroutine changes shown, so it reads it unlocked.
	next := 1 - a.shown
	statuses := engine.EvaluateInto(&a.evals[next], now)
	a.alerts.update(now, statuses)
	a.lastMu.Lock()
	a.last, a.lastAt, a.shown = statuses, now, next
	a.lastMu.Unlock()
	a.recordBudgets(now, statuses)
	a.counters.evalTime.UpdateDuration(began)
	if p := a.persist; p != nil {
		walSize := int64(cmp.Or(a.cfg.Storage.CheckpointWALSize, defaultCheckpointWALSize))
		due := now.Sub(a.lastCheckpoint) >= a.cfg.Storage.CheckpointInterval || walSize > 0 && p.walBytes.Load() >= walSize
		if p.upkeep(engine, func() alertState { return a.checkpointState() }, now, due) {
			a.lastCheckpoint = now
		}
	}
}
