package app

import (
	"errors"
	"fmt"
	"sync"

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
// by reason. With storage on, what was merged is written to the WAL with
// the sequence numbers it was merged under before it returns, so an
// acknowledged export survives a kill -9, and one sent again after it is
// still merged once; under storage.acknowledge: durable it returns ErrNotDurable,
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
	checked := make([]int, 0, len(batch))
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
		checked = append(checked, i)
	}
	// Marked and merged as one: with storage on, under the lock a
	// checkpoint cuts under (persistence.merge).
	merge := func() (marks []mergeMark, merged bool) {
		aggs := make([]slo.Aggregate, 0, len(checked))
		for _, i := range checked {
			b := &batch[i]
			switch a.scale.dedup.mark(dedupKey{b.Agent, names[i]}, b.Seq, now) {
			case seqDuplicate:
				g.duplicate.Inc()
				continue
			case seqStale:
				g.stale.Inc()
				continue
			case seqUnremembered:
				g.unremembered.Inc()
			default:
				marks = append(marks, mergeMark{agent: b.Agent, flow: names[i], seq: b.Seq})
			}
			aggs = append(aggs, b.Aggregate)
		}
		if len(aggs) == 0 {
			return nil, false
		}
		st := c.engine.Merge(now, aggs)
		g.merged.Add(len(aggs))
		g.events.AddInt64(int64(st.Events))
		g.misaligned.AddInt64(int64(st.Misaligned))
		g.unmatched.AddInt64(int64(st.Unmatched))
		return marks, true
	}
	if p == nil {
		merge()
	} else {
		p.merge(c.engine, now, merge)
	}
	return errors.Join(errs...)
}
