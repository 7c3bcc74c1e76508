package slo

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
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
	// WarmUp is how long the engine must have observed the SLO (since its
	// first evaluation of it, restored history included) before the tier
	// may fire, so a long window that holds a minute of a day cannot page.
	// At most Long; 0 means DefaultWarmUp(Long, Short).
	WarmUp time.Duration
	// Hold is how long a firing tier's condition must have stopped holding
	// before it resolves (hysteresis). 0 means the short window.
	Hold time.Duration
	// ResolveFactor, when in (0, Factor], is the burn rate both windows
	// must fall to, not only below Factor, for the hold to begin. 0 means
	// Factor.
	ResolveFactor float64
}

// DefaultWarmUp is a tier's warm-up when its spec says none: a sixtieth of
// its long window ("a minute of an hour"), at most its short window. For a
// 30 d period that is 1m, 6m, 24m and 72m for the Workbook's four tiers: a
// page can fire a minute after a cold start, a 3-day ticket not before an
// hour and twelve minutes of data.
func DefaultWarmUp(long, short time.Duration) time.Duration { return min(long/60, short) }

// withDefaults fills the tier's zero WarmUp, Hold and ResolveFactor.
func (t Tier) withDefaults() Tier {
	if t.WarmUp == 0 {
		t.WarmUp = DefaultWarmUp(t.Long, t.Short)
	}
	if t.Hold == 0 {
		t.Hold = t.Short
	}
	if t.ResolveFactor == 0 {
		t.ResolveFactor = t.Factor
	}
	return t
}

// Spec is one SLO as a team wrote it, validated and with defaults applied.
type Spec struct {
	Name string
	// Labels are the SLO's own labels (metadata.labels).
	Labels      map[string]string
	Description string
	Flow        string
	// Source is a digest of what decides the flow's events (the flow's
	// match and error rules, or the SLO's metric indicator), set by the
	// spec files: an SLO whose source changed starts its history again at
	// a reload or restart, one whose target or tiers changed does not.
	Source    uint64
	Objective Objective
	// Threshold is the latency bound of a LatencyThreshold objective.
	Threshold time.Duration
	// Target is the good fraction, in (0, 1): 0.999 for "99.9%".
	Target float64
	// Period is the rolling compliance period (default 30 d). With a
	// Calendar it is the nominal length default tiers scale from (0 means
	// 30 d for a month, 7 d for a week).
	Period time.Duration
	// Tiers are the alert conditions; nil means DefaultTiers(Period).
	Tiers []Tier
	// MinEvents is the least number of events the long window must hold
	// before a tier may fire, so one error in a quiet hour does not page.
	// For a PercentileSlices SLO it counts the requests inside the judged
	// slices, not the slices.
	MinEvents uint64
	Runbook   string
	Dashboard string

	// Slice is the slice length of a PercentileSlices objective, a whole
	// number of milliseconds dividing the period (a day, for a calendar
	// period). Slices are aligned to the Unix epoch; each is judged as soon
	// as it ends and judged again when late events change it, until the
	// engine's AllowedLateness has passed after its end.
	Slice time.Duration
	// Percentile is the quantile in (0, 1) a slice is judged by: 0.99.
	Percentile float64
	// EmptySlices says how a slice without traffic counts.
	EmptySlices EmptySlicePolicy
	// Calendar, when set, replaces the rolling Period for the budget: the
	// budget resets at each calendar month or week in its time zone, and
	// TimeToExhaustion scales by the current period's length. Burn windows
	// stay rolling.
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
	// The alert is named NoDataName.
	NoDataSeverity Severity

	// FlowLabels are the labels of the SLO's flow and Criticality the
	// flow's tier (critical, high, medium or low). Package specs copies
	// them from the flow, which may be defined in another file; empty for
	// a spec built in code without one.
	FlowLabels  map[string]string
	Criticality string
	// AlertLabels are set on every alert of the SLO, over the flow's and
	// the SLO's labels (spec.alerting.labels). They may not use the
	// ReservedLabels.
	AlertLabels map[string]string
	// AlertAnnotations are the SLO's own alert annotations
	// (spec.alerting.annotations): Go text/template sources rendered on
	// each alert when it is sent; summary and description replace the
	// default texts.
	AlertAnnotations map[string]string
}

// reservedLabels are the labels package alerting sets on every alert:
// alertname, slo, flow, tier, severity and criticality. They are listed
// here, below alerting, so that Validate can keep AlertLabels off them;
// alerting's tests check both lists agree.
var reservedLabels = []string{"alertname", "slo", "flow", "tier", "severity", "criticality"}

// ReservedLabels returns the labels every alert gets from Burnwatch, in the
// order messages list them. AlertLabels may not set them; an SLO's or a
// flow's own labels of these names are overridden.
func ReservedLabels() []string { return slices.Clone(reservedLabels) }

// ReservedLabel reports whether name is one of the ReservedLabels.
func ReservedLabel(name string) bool { return slices.Contains(reservedLabels, name) }

// labelNameRE is a Prometheus label name. Alertmanager requires annotation
// names to be label names too.
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// ValidLabelName reports whether name is a Prometheus label name:
// [a-zA-Z_][a-zA-Z0-9_]*.
func ValidLabelName(name string) bool { return labelNameRE.MatchString(name) }

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
// error budget is spent: "50% of the period's budget gone". An empty Name
// is "budget-50" for 0.5; an empty Severity is ticket.
type BudgetAlert struct {
	Name     string
	Severity Severity
	Consumed float64
}

// ExhaustionAlert fires when, at the burn rate over Window, the budget left
// is gone within Within: "budget gone within 24 h at the current burn". It
// needs the SLO's MinEvents in Window. An empty Name is "exhaustion-1d" for
// 24 h (durations written as spec files write them); an empty Severity is
// ticket.
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
	switch {
	case s.Calendar != nil:
		errs = append(errs, s.Calendar.validate()...)
		if s.Period < 0 {
			errs = append(errs, fmt.Errorf("period %v is negative (with a calendar it may be 0: the nominal 30 d or 7 d)", s.Period))
		}
	case s.Period <= 0:
		errs = append(errs, fmt.Errorf("period %v is not positive", s.Period))
	}
	switch s.Objective {
	case Availability:
	case LatencyThreshold:
		if s.Threshold <= 0 {
			errs = append(errs, fmt.Errorf("latency threshold %v is not positive", s.Threshold))
		}
	case PercentileSlices:
		errs = append(errs, s.validateSlices()...)
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
		if t.WarmUp < 0 || t.Hold < 0 {
			errs = append(errs, fmt.Errorf("tier %q: warm-up %v and hold %v must not be negative", t.Name, t.WarmUp, t.Hold))
		}
		if t.WarmUp > t.Long && t.Long > 0 {
			// Coverage counts up to the long window: a longer warm-up
			// would never end.
			errs = append(errs, fmt.Errorf("tier %q: warm-up %v is longer than the long window %v", t.Name, t.WarmUp, t.Long))
		}
		if t.ResolveFactor < 0 || t.ResolveFactor > t.Factor {
			errs = append(errs, fmt.Errorf("tier %q: resolve factor %v is not in (0, factor %v]", t.Name, t.ResolveFactor, t.Factor))
		}
	}
	errs = append(errs, s.validateAlerts()...)
	errs = append(errs, s.validateLabels()...)
	if len(errs) > 0 {
		return fmt.Errorf("slo %q: %w", s.Name, errors.Join(errs...))
	}
	return nil
}

// NominalPeriod is the rolling length a calendar unit stands for when
// default tiers are scaled and a spec leaves Period at 0: 30 d for a month,
// 7 d for a week.
func (u CalendarUnit) NominalPeriod() time.Duration {
	if u == Week {
		return 7 * 24 * time.Hour
	}
	return DefaultPeriod
}

func (c *Calendar) validate() []error {
	var errs []error
	if c.Unit != Month && c.Unit != Week {
		errs = append(errs, fmt.Errorf("calendar unit %d is neither month nor week", int(c.Unit)))
	}
	if c.WeekStart < time.Sunday || c.WeekStart > time.Saturday {
		errs = append(errs, fmt.Errorf("week start %d is not a weekday", int(c.WeekStart)))
	}
	return errs
}

// validateSlices checks the fields of a PercentileSlices objective.
func (s *Spec) validateSlices() []error {
	var errs []error
	if s.Threshold <= 0 {
		errs = append(errs, fmt.Errorf("percentile threshold %v is not positive", s.Threshold))
	}
	if !(s.Percentile > 0 && s.Percentile < 1) {
		errs = append(errs, fmt.Errorf("percentile %v is not in (0, 1)", s.Percentile))
	}
	switch {
	case s.Slice < time.Millisecond || s.Slice%time.Millisecond != 0:
		errs = append(errs, fmt.Errorf("slice %v is not a positive whole number of milliseconds", s.Slice))
	case s.Calendar != nil && (24*time.Hour)%s.Slice != 0:
		errs = append(errs, fmt.Errorf("slice %v does not divide a day, which a calendar period needs", s.Slice))
	case s.Calendar == nil && s.Period > 0 && s.Period%s.Slice != 0:
		errs = append(errs, fmt.Errorf("slice %v does not divide the period %v", s.Slice, s.Period))
	}
	if s.EmptySlices < EmptyGood || s.EmptySlices > EmptySkip {
		errs = append(errs, fmt.Errorf("empty slice policy %d is not good, bad or skip", int(s.EmptySlices)))
	}
	return errs
}

func validSeverity(s Severity) bool { return s == "" || s == Page || s == Ticket }

// validateAlerts checks budget, exhaustion and no-data alerts, and that
// every alert of the SLO has its own name (alerts are keyed (SLO, name)).
func (s *Spec) validateAlerts() []error {
	var errs []error
	names := make(map[string]bool, len(s.Tiers)+len(s.BudgetAlerts)+len(s.ExhaustionAlerts)+1)
	claim := func(name string) {
		if names[name] {
			errs = append(errs, fmt.Errorf("alert name %q is used twice", name))
		}
		names[name] = true
	}
	for _, t := range s.Tiers {
		claim(t.Name)
	}
	for _, a := range s.BudgetAlerts {
		if !(a.Consumed > 0 && a.Consumed <= 1) {
			errs = append(errs, fmt.Errorf("budget alert %q: consumed %v is not in (0, 1]", a.Name, a.Consumed))
		}
		if !validSeverity(a.Severity) {
			errs = append(errs, fmt.Errorf("budget alert %q: severity %q is not page or ticket", a.Name, a.Severity))
		}
		claim(a.name())
	}
	period := s.Period
	if s.Calendar != nil && period == 0 {
		period = s.Calendar.Unit.NominalPeriod()
	}
	for _, a := range s.ExhaustionAlerts {
		if a.Window <= 0 || a.Within <= 0 {
			errs = append(errs, fmt.Errorf("exhaustion alert %q: window %v and within %v must be positive", a.Name, a.Window, a.Within))
		} else if period > 0 && a.Window > period {
			errs = append(errs, fmt.Errorf("exhaustion alert %q: window %v is longer than the period %v", a.Name, a.Window, period))
		}
		if !validSeverity(a.Severity) {
			errs = append(errs, fmt.Errorf("exhaustion alert %q: severity %q is not page or ticket", a.Name, a.Severity))
		}
		claim(a.name())
	}
	if s.NoData < 0 {
		errs = append(errs, fmt.Errorf("no-data %v is negative", s.NoData))
	}
	if !validSeverity(s.NoDataSeverity) {
		errs = append(errs, fmt.Errorf("no-data severity %q is not page or ticket", s.NoDataSeverity))
	}
	if s.NoData > 0 {
		claim(NoDataName)
	}
	return errs
}

// validateLabels checks the names of the labels and annotations alerts
// get from the spec, in a stable order.
func (s *Spec) validateLabels() []error {
	var errs []error
	check := func(what string, m map[string]string, reserved bool) {
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			switch {
			case !ValidLabelName(k):
				errs = append(errs, fmt.Errorf("%s %q is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)", what, k))
			case reserved && ReservedLabel(k):
				errs = append(errs, fmt.Errorf("%s %q is reserved: every alert gets it from Burnwatch", what, k))
			}
		}
	}
	check("label", s.Labels, false)
	check("flow label", s.FlowLabels, false)
	check("alert label", s.AlertLabels, true)
	check("alert annotation", s.AlertAnnotations, false)
	return errs
}

// NoDataName is the name of an SLO's no-data alert.
const NoDataName = "no-data"

// name is the alert's name: its own, or "budget-50" for half the budget.
// The share is rounded to 9 decimals so that 0.07 names "budget-7", as a
// spec file's "7" does.
func (a BudgetAlert) name() string {
	if a.Name != "" {
		return a.Name
	}
	return fmt.Sprintf("budget-%g", math.Round(a.Consumed*100*1e9)/1e9)
}

// name is the alert's name: its own, or "exhaustion-1d" for Within 24 h.
func (a ExhaustionAlert) name() string {
	if a.Name != "" {
		return a.Name
	}
	return "exhaustion-" + FormatDuration(a.Within)
}

// durationUnits are the units FormatDuration writes, largest first.
var durationUnits = []struct {
	name string
	d    time.Duration
}{
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
}

// FormatDuration writes d compactly with days and weeks, as spec files
// write durations: 24h is "1d", 90m is "1h30m", 336h is "2w". Weeks are used
// only for whole weeks, since "30d" reads better than "4w2d". It names
// default alerts, here and in package specs, so both name them alike.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b []byte
	if d < 0 {
		b = append(b, '-')
		d = -d
	}
	units := durationUnits[1:]
	if d%durationUnits[0].d == 0 {
		units = durationUnits[:1]
	}
	for _, u := range units {
		if n := d / u.d; n > 0 {
			b = fmt.Appendf(b, "%d%s", int64(n), u.name)
			d -= n * u.d
		}
	}
	if d > 0 {
		b = append(b, d.String()...)
	}
	return string(b)
}
