package slo

import (
	"math"
	"time"
)

// Evaluate returns every SLO's status at now, in spec order, in storage
// of its own.
func (e *Engine) Evaluate(now time.Time) []Status {
	return e.EvaluateInto(new(Evaluation), now)
}

// Evaluation is storage for the statuses of an evaluation, for
// EvaluateInto to reuse: writing thousands of statuses into fresh memory
// every tick costs more than computing them.
type Evaluation struct {
	statuses []Status
	tiers    []TierStatus
	lat      []Percentiles
	conds    []ConditionStatus
	ex       []Exemplar
}

// EvaluateInto is Evaluate writing into ev, whose previous statuses (and
// everything they point to) it overwrites.
func (e *Engine) EvaluateInto(ev *Evaluation, now time.Time) []Status {
	nowNs := now.UnixNano()
	e.firstEval.CompareAndSwap(noTime, nowNs)
	first := e.firstEval.Load()
	// One block each for every SLO's tiers, percentiles, conditions and
	// exemplars.
	var nt, nl, nc int
	for _, s := range e.slos {
		nt += len(s.tiers)
		nl += len(s.latIdx)
		nc += s.nconditions()
	}
	a := arena{
		tiers: grow(&ev.tiers, nt), lat: grow(&ev.lat, nl),
		conds: grow(&ev.conds, nc), ex: grow(&ev.ex, len(e.slos)*maxExemplars),
	}
	out := grow(&ev.statuses, len(e.slos))
	for i, s := range e.slos {
		s.flow.mu.Lock()
		out[i] = s.status(now, nowNs, first, &a)
		s.flow.mu.Unlock()
	}
	return out
}

// grow returns (*buf)[:n], reallocating *buf when it is too short.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// arena is the storage an evaluation hands out to its statuses.
type arena struct {
	tiers []TierStatus
	lat   []Percentiles
	conds []ConditionStatus
	ex    []Exemplar
}

// take returns the next n elements of *buf, with capacity n.
func take[T any](buf *[]T, n int) []T {
	if n == 0 {
		return nil
	}
	out := (*buf)[:n:n]
	*buf = (*buf)[n:]
	return out
}

func (s *sloState) status(now time.Time, nowNs, firstEval int64, a *arena) Status {
	s.read(nowNs)
	if s.since == noTime {
		s.since, s.sinceDirty = nowNs, true
		s.flow.markChanged()
	}
	observed := sinceTime(nowNs, s.since)
	st := Status{SLO: s.spec, At: now, Tiers: take(&a.tiers, len(s.tiers)), CountedTotal: s.cum.total, CountedBad: s.cum.bad}
	if s.cal != nil {
		st.Period = s.cal.stats(s.budget)
		st.PeriodStart = time.Unix(0, s.cal.start)
		st.PeriodLength = time.Duration(s.cal.end - s.cal.start)
	} else {
		st.Period = s.stats(s.period)
		st.PeriodStart = time.Unix(0, s.period.start())
		st.PeriodLength = s.spec.Period
	}
	st.BudgetLeft = 1 - st.Period.Burn
	st.Exemplars = s.ex.list(take(&a.ex, s.ex.n))
	for i, t := range s.tiers {
		ts := TierStatus{Tier: t.tier, Long: s.stats(t.long), Short: s.stats(t.short)}
		ts.Enough = ts.Long.Events >= t.minEvents && ts.Long.Total > 0
		if left := t.tier.WarmUp - observed; left > 0 {
			ts.WarmingUp, ts.WarmUpLeft = true, left
		}
		ts.Firing = ts.Enough && !ts.WarmingUp && ts.Long.Burn > t.tier.Factor && ts.Short.Burn > t.tier.Factor
		ts.Exemplars = s.ex.since(st.Exemplars, t.long.start())
		st.Tiers[i] = ts
	}
	st.Conditions = s.conditions(&st, nowNs, firstEval, take(&a.conds, s.nconditions())[:0])
	if len(s.latIdx) > 0 {
		pcts := s.flow.percentiles(nowNs)
		st.Latency = take(&a.lat, len(s.latIdx))
		for j, i := range s.latIdx {
			st.Latency[j] = pcts[i]
		}
	}
	return st
}

// sinceTime is now - since as a Duration: 0 when now is not after since,
// the largest Duration when the difference overflows.
func sinceTime(now, since int64) time.Duration {
	if now <= since {
		return 0
	}
	if d := now - since; d > 0 {
		return time.Duration(d)
	}
	return time.Duration(math.MaxInt64)
}

func (s *sloState) nconditions() int {
	n := len(s.spec.BudgetAlerts) + len(s.spec.ExhaustionAlerts)
	if s.spec.NoData > 0 {
		n++
	}
	return n
}

// conditions appends the budget, exhaustion and no-data alerts to out.
func (s *sloState) conditions(st *Status, now, firstEval int64, out []ConditionStatus) []ConditionStatus {
	sp := s.spec
	if cap(out) == 0 {
		return nil
	}
	consumed := 1 - st.BudgetLeft
	for _, a := range sp.BudgetAlerts {
		out = append(out, ConditionStatus{
			Name: a.Name, Kind: BudgetConsumed, Severity: a.Severity,
			Firing: consumed >= a.Consumed, Value: consumed, Threshold: a.Consumed,
			Exemplars: st.Exemplars,
		})
	}
	for i, a := range sp.ExhaustionAlerts {
		ws := s.stats(s.exh[i])
		tte := TimeToExhaustion(st.BudgetLeft, ws.Burn, st.PeriodLength)
		out = append(out, ConditionStatus{
			Name: a.Name, Kind: Exhaustion, Severity: a.Severity,
			Firing: ws.Burn > 0 && tte <= a.Within && ws.Events >= sp.MinEvents,
			Value:  tte.Seconds(), Threshold: a.Within.Seconds(), Window: a.Window, Burn: ws.Burn,
			Exemplars: s.ex.since(st.Exemplars, s.exh[i].start()),
		})
	}
	if sp.NoData > 0 {
		since := s.flow.lastEvent.Load()
		if since == noTime {
			since = firstEval
		}
		silent := time.Duration(max(now-since, 0))
		out = append(out, ConditionStatus{
			Name: NoDataName, Kind: NoData, Severity: sp.NoDataSeverity,
			Firing: silent >= sp.NoData, Value: silent.Seconds(), Threshold: sp.NoData.Seconds(),
		})
	}
	return out
}
