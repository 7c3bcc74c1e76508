package slo

import (
	"math"
	"time"
)

// WindowStats is one window's exact counts at an evaluation.
type WindowStats struct {
	Window time.Duration
	// Total and Bad are events, or for a PercentileSlices SLO judged
	// slices.
	Total uint64
	Bad   uint64
	// Events is the number of requests the counts rest on, which the
	// minimum-traffic guard (MinEvents) counts: Total for an event-based
	// SLO, the requests inside the judged slices for a PercentileSlices
	// one.
	Events uint64
	// Burn is (Bad/Total)/(1-target); 0 when Total is 0.
	Burn float64
}

// Good is Total - Bad.
func (w WindowStats) Good() uint64 { return w.Total - w.Bad }

// TierStatus is one tier's condition at an evaluation.
type TierStatus struct {
	Tier  Tier
	Long  WindowStats
	Short WindowStats
	// Enough says the long window holds at least the minimum event count
	// (Long.Events, requests for a PercentileSlices SLO) and something to
	// judge.
	Enough bool
	// WarmingUp says the engine has observed the SLO for less than the
	// tier's WarmUp (since its first evaluation of the SLO, restored
	// history included), and WarmUpLeft how much longer it must: a long
	// window that holds a few minutes of a day means little yet. 0 once
	// warm.
	WarmingUp  bool
	WarmUpLeft time.Duration
	// Firing says both burn rates exceed the factor, Enough holds and the
	// tier is not WarmingUp.
	Firing bool
	// Exemplars are up to three of the newest bad events (newest first)
	// inside the tier's long window, for the tier's alert to link: a prefix
	// of Status.Exemplars, sharing its storage.
	Exemplars []Exemplar
}

// Exemplar is a recent bad event, for an alert to link a trace.
type Exemplar struct {
	TraceID  [16]byte
	SpanID   [8]byte
	End      int64
	Duration time.Duration
}

// Status is one SLO's state at an evaluation.
type Status struct {
	SLO *Spec
	At  time.Time
	// Period is the counts over the whole rolling period, or over the
	// current calendar period so far (its Window is then the calendar
	// period's full length).
	Period WindowStats
	// PeriodStart is where the counted period begins: the start of the
	// current calendar month or week, or for a rolling period the start of
	// its oldest slot. PeriodLength is the length the budget is spread
	// over, which TimeToExhaustion scales by: the current calendar period's
	// length (DST and month lengths included), or Period.
	PeriodStart  time.Time
	PeriodLength time.Duration
	// CountedTotal and CountedBad are the events counted into the SLO's
	// windows since its state began: they never decrease, and restarts
	// and reloads that keep the SLO's state keep them, for the counters
	// Prometheus rules read (burnwatch_slo_events_total). Events beyond
	// the allowed lateness are not in them, as they are in no window.
	// Both 0 for a time-slice SLO.
	CountedTotal, CountedBad uint64
	// BudgetLeft is the share of the period's error budget not yet spent: 1
	// when nothing is spent, negative when overspent.
	BudgetLeft float64
	Tiers      []TierStatus
	// Exemplars are up to three recent bad events, newest (by event time)
	// first. For a PercentileSlices SLO a bad event is one slower than the
	// threshold.
	Exemplars []Exemplar
	// Latency holds latency percentiles of the SLO's flow (all its events,
	// errors included) over each distinct window of the SLO's tiers,
	// shortest first. See Engine.FlowPercentiles for their accuracy.
	Latency []Percentiles
	// Conditions are the SLO's alerts beyond the burn-rate tiers: budget
	// consumed, exhaustion time and no data, in spec order.
	Conditions []ConditionStatus
}

// ConditionKind names an alert kind beyond the burn-rate tiers.
type ConditionKind string

const (
	BudgetConsumed ConditionKind = "budget"
	Exhaustion     ConditionKind = "exhaustion"
	NoData         ConditionKind = "nodata"
)

// ConditionStatus is one non-tier alert condition at an evaluation. Each is
// an alert of its own, keyed (SLO, Name) like a tier.
type ConditionStatus struct {
	Name     string
	Kind     ConditionKind
	Severity Severity
	Firing   bool
	// Value is what was measured (budget consumed share, time to exhaustion
	// in seconds, seconds since the last event) and Threshold what it was
	// compared with, in the same unit.
	Value, Threshold float64
	// Window is the burn window of an Exhaustion condition.
	Window time.Duration
	// Burn is the burn rate over Window of an Exhaustion condition.
	Burn float64
	// Exemplars are the bad events for the alert to link, a prefix of
	// Status.Exemplars: those inside Window for an Exhaustion condition,
	// all of them for a BudgetConsumed one, none for NoData.
	Exemplars []Exemplar
}

// Percentiles are latency percentiles over one window.
type Percentiles struct {
	Window time.Duration
	Count  uint64
	// P50 ... P999 are nearest-rank estimates within the sketch's relative
	// error (≤ 1.08% at scale 5, ≤ 4.33% for windows longer than
	// Options.FinePercentilesUpTo); zero when Count is 0.
	P50, P90, P95, P99, P999 time.Duration
}

// TimeToExhaustion is how long the budget left lasts at burn rate burn: a
// burn of 1 spends a whole budget in one period. It is 0 when the budget is
// gone and +Inf (as the largest Duration) when nothing burns.
func TimeToExhaustion(budgetLeft, burn float64, period time.Duration) time.Duration {
	if budgetLeft <= 0 {
		return 0
	}
	if burn <= 0 {
		return time.Duration(math.MaxInt64)
	}
	d := budgetLeft / burn * float64(period)
	if d >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}
