package slo

import (
	"math"
	"time"
)

// WindowStats is one window's exact counts at an evaluation.
type WindowStats struct {
	Window time.Duration
	Total  uint64
	Bad    uint64
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
	// Enough says the long window holds at least the minimum event count.
	Enough bool
	// Firing says both burn rates exceed the factor and Enough holds.
	Firing bool
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
	// Period is the counts over the whole rolling period.
	Period WindowStats
	// BudgetLeft is the share of the period's error budget not yet spent: 1
	// when nothing is spent, negative when overspent.
	BudgetLeft float64
	Tiers      []TierStatus
	// Exemplars are up to three recent bad events, newest first.
	Exemplars []Exemplar
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
