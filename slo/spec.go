package slo

import (
	"errors"
	"fmt"
	"time"
)

// Objective says what makes an event good.
type Objective int

const (
	// Availability: an event is good unless it is an error.
	Availability Objective = iota + 1
	// LatencyThreshold: an event is good when it is not an error and takes at
	// most Threshold ("at least target% of requests take ≤ T").
	LatencyThreshold
	// PercentileSlices: a time-slice SLO. Each slice of length Slice is good
	// when its true Percentile latency (from the slice's histogram) is at
	// most Threshold; the budget is the allowed share of bad slices
	// ("p99 of each 1 m slice ≤ 300 ms on 99% of slices").
	PercentileSlices
)

func (o Objective) String() string {
	switch o {
	case Availability:
		return "availability"
	case LatencyThreshold:
		return "latency"
	case PercentileSlices:
		return "percentile"
	}
	return fmt.Sprintf("objective(%d)", int(o))
}

// Severity is what a tier asks of a person: a page now, or a ticket.
type Severity string

const (
	Page   Severity = "page"
	Ticket Severity = "ticket"
)

// Tier is one multi-window multi-burn-rate alert condition: it holds when the
// burn rate over both Long and Short exceeds Factor.
type Tier struct {
	Name     string
	Severity Severity
	Long     time.Duration
	Short    time.Duration
	Factor   float64
	// MinEvents, when > 0, overrides the SLO's MinEvents for this tier.
	MinEvents uint64
}

// Spec is one SLO as a team wrote it, validated and with defaults applied.
type Spec struct {
	Name        string
	Labels      map[string]string
	Description string
	Flow        string
	Objective   Objective
	// Threshold is the latency bound of a LatencyThreshold objective.
	Threshold time.Duration
	// Target is the good fraction, in (0, 1): 0.999 for "99.9%".
	Target float64
	// Period is the rolling compliance period (default 30 d).
	Period time.Duration
	// Tiers are the alert conditions; nil means DefaultTiers(Period).
	Tiers []Tier
	// MinEvents is the least number of events the long window must hold
	// before a tier may fire, so one error in a quiet hour does not page.
	MinEvents uint64
	Runbook   string
	Dashboard string

	// Slice is the slice length of a PercentileSlices objective.
	Slice time.Duration
	// Percentile is the quantile in (0, 1) a slice is judged by: 0.99.
	Percentile float64
	// EmptySlices says how a slice without traffic counts.
	EmptySlices EmptySlicePolicy
	// Calendar, when set, replaces the rolling Period for the budget: the
	// budget resets at each calendar month or week in its time zone. Burn
	// windows stay rolling.
	Calendar *Calendar
	// BudgetAlerts fire when a share of the period's budget is spent.
	BudgetAlerts []BudgetAlert
	// ExhaustionAlerts fire when the budget left runs out within a horizon
	// at the burn rate of a window.
	ExhaustionAlerts []ExhaustionAlert
	// NoData, when > 0, fires an alert when the flow has had no events for
	// this long.
	NoData time.Duration
	// NoDataSeverity is the severity of the no-data alert (default ticket).
	NoDataSeverity Severity
}

// EmptySlicePolicy is how a time slice without events counts.
type EmptySlicePolicy int

const (
	// EmptyGood: a quiet slice met the objective (nothing was slow). The
	// default, as Google's Cloud Monitoring and OpenSLO count it.
	EmptyGood EmptySlicePolicy = iota
	// EmptyBad: a quiet slice counts against the budget (a flow that should
	// never be silent).
	EmptyBad
	// EmptySkip: a quiet slice counts neither way.
	EmptySkip
)

// CalendarUnit is a calendar period's length.
type CalendarUnit int

const (
	Month CalendarUnit = iota + 1
	Week
)

// Calendar is a calendar-aligned compliance period.
type Calendar struct {
	Unit     CalendarUnit
	Location *time.Location // nil means UTC
	// WeekStart is the first day of a Week period (default Monday).
	WeekStart time.Weekday
}

// BudgetAlert fires once Consumed (a share in (0, 1]) of the period's
// error budget is spent: "50% of the period's budget gone".
type BudgetAlert struct {
	Name     string
	Severity Severity
	Consumed float64
}

// ExhaustionAlert fires when, at the burn rate over Window, the budget left
// is gone within Within: "budget gone within 24 h at the current burn".
type ExhaustionAlert struct {
	Name     string
	Severity Severity
	Window   time.Duration
	Within   time.Duration
}

// DefaultPeriod is the SRE Workbook's 30-day rolling period.
const DefaultPeriod = 30 * 24 * time.Hour

// DefaultMinEvents guards low-traffic SLOs when a spec says nothing.
const DefaultMinEvents = 10

// DefaultTiers is the SRE Workbook table (for 30 d: page 1h/5m at 14.4x, page
// 6h/30m at 6x, ticket 1d/2h at 3x, ticket 3d/6h at 1x) with windows scaled by
// period/30d. The factors do not change with the period: a factor is the
// budget share a tier guards times period over its long window, and both scale
// alike.
func DefaultTiers(period time.Duration) []Tier {
	scale := func(d time.Duration) time.Duration {
		return time.Duration(float64(d) * float64(period) / float64(DefaultPeriod))
	}
	return []Tier{
		{Name: "page-fast", Severity: Page, Long: scale(time.Hour), Short: scale(5 * time.Minute), Factor: 14.4},
		{Name: "page-slow", Severity: Page, Long: scale(6 * time.Hour), Short: scale(30 * time.Minute), Factor: 6},
		{Name: "ticket-fast", Severity: Ticket, Long: scale(24 * time.Hour), Short: scale(2 * time.Hour), Factor: 3},
		{Name: "ticket-slow", Severity: Ticket, Long: scale(72 * time.Hour), Short: scale(6 * time.Hour), Factor: 1},
	}
}

// Validate checks a spec the engine is about to run. Spec files are checked
// with file and line by package specs; this is the engine's own guard.
func (s *Spec) Validate() error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if s.Flow == "" {
		errs = append(errs, errors.New("flow is empty"))
	}
	if !(s.Target > 0 && s.Target < 1) {
		errs = append(errs, fmt.Errorf("target %v is not in (0, 1)", s.Target))
	}
	if s.Period <= 0 {
		errs = append(errs, fmt.Errorf("period %v is not positive", s.Period))
	}
	switch s.Objective {
	case Availability:
	case LatencyThreshold:
		if s.Threshold <= 0 {
			errs = append(errs, fmt.Errorf("latency threshold %v is not positive", s.Threshold))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown objective %d", int(s.Objective)))
	}
	for _, t := range s.Tiers {
		if t.Long <= 0 || t.Short <= 0 || t.Short > t.Long {
			errs = append(errs, fmt.Errorf("tier %q: windows long %v short %v must be positive with short <= long", t.Name, t.Long, t.Short))
		}
		if t.Factor <= 0 {
			errs = append(errs, fmt.Errorf("tier %q: factor %v is not positive", t.Name, t.Factor))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("slo %q: %w", s.Name, errors.Join(errs...))
	}
	return nil
}
