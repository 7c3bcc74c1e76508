package app

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/burnwatch/burnwatch/slo"
)

// AgentAggregate is an aggregate as a gateway receives it: which agent
// cut it (an id the agent draws at start) and the sequence number of the
// cut, so that an export the agent sends again is merged once.
type AgentAggregate struct {
	Agent string
	Seq   uint64
	slo.Aggregate
}

// ErrAgentMerge is returned by MergeAggregates on an App in agent mode.
var ErrAgentMerge = errors.New("this daemon is an agent (mode: agent): it exports aggregates and merges none; send them to a gateway")

// dedupWindow is how many sequence numbers below the newest one a gateway
// remembers per agent and flow: exports sent again after more than that
// many newer ones are refused as stale.
const dedupWindow = 64

const (
	// dedupMaxEntries bounds the agents×flows remembered; past it an export
	// is merged without being remembered, and counted.
	dedupMaxEntries = 100_000
	// dedupIdle forgets an agent's flow not heard from for this long.
	dedupIdle = time.Hour
)

// dedup remembers, per agent and flow, which sequence numbers were merged:
// the newest and a bitmap of the dedupWindow below it, so exports that
// arrive twice or out of order (an exporter's retries and parallel
// consumers) are each merged once. It lives in memory: an export merged
// and written whose response a crash cut off is merged again when it is
// sent again after the restart (docs/deploy.md).
type dedup struct {
	// mu guards the map and lastSweep.
	mu        sync.Mutex
	seen      map[dedupKey]*seqWindow
	lastSweep time.Time
}

type dedupKey struct{ agent, flow string }

type seqWindow struct {
	top  uint64
	bits uint64 // bit i: top-i was merged
	at   time.Time
}

// Verdicts of dedup.mark.
const (
	seqFresh = iota
	seqDuplicate
	seqStale
	seqUnremembered
)

// mark says whether seq of key is new, and remembers it.
func (d *dedup) mark(key dedupKey, seq uint64, now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = make(map[dedupKey]*seqWindow)
	}
	if now.Sub(d.lastSweep) >= dedupIdle/4 {
		for k, w := range d.seen {
			if now.Sub(w.at) >= dedupIdle {
				delete(d.seen, k)
			}
		}
		d.lastSweep = now
	}
	w := d.seen[key]
	if w == nil {
		if len(d.seen) >= dedupMaxEntries {
			return seqUnremembered
		}
		d.seen[key] = &seqWindow{top: seq, bits: 1, at: now}
		return seqFresh
	}
	w.at = now
	switch {
	case seq > w.top:
		if shift := seq - w.top; shift >= 64 {
			w.bits = 1
		} else {
			w.bits = w.bits<<shift | 1
		}
		w.top = seq
		return seqFresh
	case w.top-seq >= dedupWindow:
		return seqStale
	case w.bits&(1<<(w.top-seq)) != 0:
		return seqDuplicate
	}
	w.bits |= 1 << (w.top - seq)
	return seqFresh
}

// gatewayCounters are what /metrics says of merges; made at first use.
type gatewayCounters struct {
	once                                       sync.Once
	merged, events, duplicate, stale, invalid  *metrics.Counter
	unremembered, misaligned, unmatched, flows *metrics.Counter
}

func (a *App) gatewayCounters() *gatewayCounters {
	g := &a.scale.gateway
	g.once.Do(func() {
		g.merged = a.self.GetOrCreateCounter("burnwatch_aggregates_merged_total")
		g.events = a.self.GetOrCreateCounter("burnwatch_aggregate_events_total")
		g.duplicate = a.self.GetOrCreateCounter(series("burnwatch_aggregates_dropped_total", "reason", "duplicate"))
		g.stale = a.self.GetOrCreateCounter(series("burnwatch_aggregates_dropped_total", "reason", "stale"))
		g.invalid = a.self.GetOrCreateCounter(series("burnwatch_aggregates_dropped_total", "reason", "invalid"))
		g.flows = a.self.GetOrCreateCounter(series("burnwatch_aggregates_dropped_total", "reason", "unknown_flow"))
		g.unremembered = a.self.GetOrCreateCounter("burnwatch_aggregates_unremembered_total")
		g.misaligned = a.self.GetOrCreateCounter("burnwatch_aggregate_slots_misaligned_total")
		g.unmatched = a.self.GetOrCreateCounter("burnwatch_aggregate_events_unmatched_total")
	})
	return g
}

// DropInvalidAggregates counts n aggregates a producer could not decode.
func (a *App) DropInvalidAggregates(n int) { a.gatewayCounters().invalid.Add(n) }

// MergeAggregates merges agents' aggregates into the engine, exactly (see
// slo.Engine.Merge): the gateway's side of scale-out. An aggregate already
// merged (same agent, flow and sequence number) is dropped, as are
// malformed ones and those of flows the specs do not define, each counted
// by reason. With storage on, what was merged is written to the WAL before
// it returns, as Observe's events are, so an acknowledged export survives
// a kill -9; under storage.acknowledge: durable it returns ErrNotDurable,
// merging nothing, while storage cannot be written. The error for
// malformed aggregates lists them; the rest are merged all the same. A
// group an agent made of a grouped flow (group_by) is adopted as Observe
// adopts it, which may rename the batch's flows.
func (a *App) MergeAggregates(batch []AgentAggregate) error {
	if a.scale.agent != nil {
		return ErrAgentMerge
	}
	if len(batch) == 0 {
		return nil
	}
	g := a.gatewayCounters()
	a.syncGroups()
	a.swapMu.RLock()
	defer a.swapMu.RUnlock()
	c := a.core.Load()
	p := a.persist
	if p != nil && a.cfg.Storage.Acknowledge == AckDurable && !p.durable.Load() {
		return ErrNotDurable
	}
	// The agents' names: what their sequence numbers are remembered by,
	// whatever group a name is adopted as here.
	names := make([]string, len(batch))
	adopted := false
	for i := range batch {
		b := &batch[i]
		names[i] = b.Flow
		if _, ok := c.known[b.Flow]; !ok {
			// A group an agent made of a flow grouped here too, as
			// Observe adopts them.
			if name, ok := a.reload.groups.adopt(b.Flow); ok {
				b.Flow, adopted = name, true
			}
		}
	}
	if adopted {
		a.swapMu.RUnlock()
		a.syncGroups()
		a.swapMu.RLock()
		c = a.core.Load()
	}
	now := a.clock.Now()
	var errs []error
	aggs := make([]slo.Aggregate, 0, len(batch))
	for i := range batch {
		b := &batch[i]
		if err := b.Check(); err != nil {
			g.invalid.Inc()
			if len(errs) < 10 {
				errs = append(errs, fmt.Errorf("agent %q: %w", b.Agent, err))
			}
			continue
		}
		if _, ok := c.known[b.Flow]; !ok {
			g.flows.Inc()
			continue
		}
		switch a.scale.dedup.mark(dedupKey{b.Agent, names[i]}, b.Seq, now) {
		case seqDuplicate:
			g.duplicate.Inc()
			continue
		case seqStale:
			g.stale.Inc()
			continue
		case seqUnremembered:
			g.unremembered.Inc()
		}
		aggs = append(aggs, b.Aggregate)
	}
	if len(aggs) > 0 {
		st := c.engine.Merge(now, aggs)
		if p != nil {
			p.appendDelta(c.engine)
		}
		g.merged.Add(len(aggs))
		g.events.AddInt64(int64(st.Events))
		g.misaligned.AddInt64(int64(st.Misaligned))
		g.unmatched.AddInt64(int64(st.Unmatched))
	}
	return errors.Join(errs...)
}
