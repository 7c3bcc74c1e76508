package specs

import (
	"slices"
	"strings"
	"time"
	// The tz database is built in so that spec.time_zone loads the same on
	// every host, including minimal container images without one.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/metricsli"
	"github.com/burnwatch/burnwatch/slo"
)

// sloKeys are the keys of an SLO's spec, in the order messages list them.
var sloKeys = []string{"description", "flow", "objective", "indicator", "target", "period", "time_zone", "week_start", "runbook", "dashboard", "alerting"}

// sloSpec reads an SLO's spec into s, and where its flow and annotations
// are written into where. It returns the SLO's metric indicator, if it has
// one.
func (p *parser) sloSpec(n *yaml.Node, s *slo.Spec, where *sloWhere) *metricsli.Indicator {
	f, ok := p.fields(n, "spec", sloKeys...)
	if !ok {
		return nil
	}
	where.flow = p.pos(n)
	if d := f["description"]; d != nil {
		s.Description, _ = p.scalar(d, "spec.description")
	}
	s.Objective = slo.Availability
	var (
		sliceAt   *yaml.Node
		indicator *metricsli.Indicator
	)
	fl, ind, obj := f["flow"], f["indicator"], f["objective"]
	switch {
	case ind != nil && fl != nil:
		p.errorf(ind, "spec.indicator", "an SLO measures either a flow (spec.flow, from spans) or an indicator (from metrics), not both")
	case ind != nil:
		// The flow is synthetic and cannot collide with a Flow's name.
		s.Flow = metricsli.FlowName(s.Name)
		where.flow = p.pos(ind)
		if obj != nil {
			p.errorf(obj, "spec.objective", "applies only with spec.flow: an indicator says itself which events are good")
		}
		indicator = p.indicator(ind)
	case fl == nil:
		p.errorf(n, "spec.flow", "missing: name the Flow this SLO measures (or give spec.indicator to measure metrics)")
	default:
		s.Flow, _ = p.name(fl, "spec.flow")
		where.flow = p.pos(fl)
	}
	if obj != nil && ind == nil {
		sliceAt = p.objective(obj, s)
	}
	if t := f["target"]; t == nil {
		p.errorf(n, "spec.target", "missing: the percentage of good events, e.g. target: 99.9")
	} else {
		s.Target, _ = p.target(t, "spec.target")
	}
	p.period(f, s)
	if r := f["runbook"]; r != nil {
		s.Runbook, _ = p.url(r, "spec.runbook")
	}
	if d := f["dashboard"]; d != nil {
		s.Dashboard, _ = p.url(d, "spec.dashboard")
	}
	s.MinEvents = slo.DefaultMinEvents
	s.Tiers = slo.DefaultTiers(s.Period)
	if a := f["alerting"]; a != nil {
		where.annotations = p.alerting(a, s)
	}
	// Slices are checked last: they must fit the period and every alert
	// window, which are known only now.
	if sliceAt != nil {
		p.checkSlice(sliceAt, s)
	}
	return indicator
}

// Calendar periods and the nominal length each stands for: Spec.Period
// holds it, so that the default tiers scale from it as from a rolling
// period of that length.
const (
	monthPeriod = 30 * 24 * time.Hour
	weekPeriod  = 7 * 24 * time.Hour
)

// weekdays are the names week_start accepts, indexed by time.Weekday.
var weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// period reads spec.period, spec.time_zone and spec.week_start.
func (p *parser) period(f map[string]*yaml.Node, s *slo.Spec) {
	s.Period = slo.DefaultPeriod
	periodOK := true
	if pd := f["period"]; pd != nil {
		v, ok := p.scalar(pd, "spec.period")
		switch {
		case !ok:
			periodOK = false
		case v == "month":
			s.Calendar = &slo.Calendar{Unit: slo.Month}
			s.Period = monthPeriod
		case v == "week":
			s.Calendar = &slo.Calendar{Unit: slo.Week, WeekStart: time.Monday}
			s.Period = weekPeriod
		case !strings.ContainsAny(v, "0123456789"):
			p.errorf(pd, "spec.period", "%q is not a period (want a rolling duration such as 30d or 4w, or month or week for a calendar period)", v)
			periodOK = false
		default:
			var d time.Duration
			if d, periodOK = p.duration(pd, "spec.period"); periodOK {
				s.Period = d
			}
		}
	}
	// With a broken period, saying the zone or week start does not apply
	// would be a second, misleading message.
	if tz := f["time_zone"]; tz != nil {
		switch {
		case s.Calendar != nil:
			if loc, ok := p.location(tz, "spec.time_zone"); ok {
				s.Calendar.Location = loc
			}
		case periodOK:
			p.errorf(tz, "spec.time_zone", "applies only to a calendar period (period: month or week); a rolling period has no time zone")
		}
	}
	if ws := f["week_start"]; ws != nil {
		switch {
		case s.Calendar != nil && s.Calendar.Unit == slo.Week:
			if v, ok := p.scalar(ws, "spec.week_start"); ok {
				if d := slices.Index(weekdays, v); d >= 0 {
					s.Calendar.WeekStart = time.Weekday(d)
				} else {
					p.errorf(ws, "spec.week_start", "%q is not a day (allowed: %s, %s)", v, strings.Join(weekdays[1:], ", "), weekdays[0])
				}
			}
		case periodOK:
			p.errorf(ws, "spec.week_start", "applies only to period: week")
		}
	}
}

// zoneExample is what a time zone message asks for.
const zoneExample = "an IANA time zone name such as Europe/Berlin, America/New_York or UTC"

// location loads an IANA time zone. The tz database is built in (see the
// time/tzdata import), so a name that loads here loads on every host.
func (p *parser) location(n *yaml.Node, path string) (*time.Location, bool) {
	name, ok := p.nonEmpty(n, path)
	if !ok {
		return nil, false
	}
	if name == "Local" {
		// Local is whatever zone the host is set to: two replicas could
		// reset the budget at different times.
		p.errorf(n, path, "Local depends on the host; name the zone (want %s)", zoneExample)
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.errorf(n, path, "%q is not a time zone (want %s)", name, zoneExample)
		return nil, false
	}
	return loc, true
}

// defaultSlice is the slice length of a percentile objective that names
// none.
const defaultSlice = time.Minute

// objective reads spec.objective into s. For a percentile objective it
// returns the node to report slice problems at (the slice, or the objective
// when the default slice applies); nil otherwise.
func (p *parser) objective(n *yaml.Node, s *slo.Spec) *yaml.Node {
	f, ok := p.fields(n, "spec.objective", "type", "threshold", "percentile", "slice", "empty_slices")
	if !ok {
		return nil
	}
	if t := f["type"]; t != nil {
		i, ok := p.choice(t, "spec.objective.type", "an objective type", "availability", "latency", "percentile")
		if !ok {
			return nil
		}
		s.Objective = [...]slo.Objective{slo.Availability, slo.LatencyThreshold, slo.PercentileSlices}[i]
	}
	th := f["threshold"]
	switch {
	case s.Objective != slo.Availability && th == nil:
		p.errorf(n, "spec.objective.threshold", "missing: a %s objective needs a threshold, e.g. threshold: 300ms", s.Objective)
	case s.Objective == slo.Availability && th != nil:
		p.errorf(th, "spec.objective.threshold", "applies only to types latency and percentile (add type: latency, or remove the threshold)")
	case th != nil:
		s.Threshold, _ = p.duration(th, "spec.objective.threshold")
	}
	if s.Objective != slo.PercentileSlices {
		for _, key := range []string{"percentile", "slice", "empty_slices"} {
			if v := f[key]; v != nil {
				p.errorf(v, join("spec.objective", key), "applies only to type percentile (add type: percentile, or remove %s)", key)
			}
		}
		return nil
	}
	if v := f["percentile"]; v == nil {
		p.errorf(n, "spec.objective.percentile", "missing: the percentile each slice is judged by, e.g. percentile: 99 for p99")
	} else if pct, ok := p.number(v, "spec.objective.percentile"); ok {
		if pct > 0 && pct < 100 {
			s.Percentile = share(v, pct)
		} else {
			p.errorf(v, "spec.objective.percentile", "%s is not a percentile in (0, 100) (e.g. 99 for p99, 99.9 for p99.9)", v.Value)
		}
	}
	s.Slice = defaultSlice
	sliceAt := n
	if v := f["slice"]; v != nil {
		sliceAt = v
		s.Slice, _ = p.duration(v, "spec.objective.slice")
	}
	s.EmptySlices = slo.EmptyGood
	if v := f["empty_slices"]; v != nil {
		if i, ok := p.choice(v, "spec.objective.empty_slices", "an empty-slice rule", "good", "bad", "skip"); ok {
			s.EmptySlices = [...]slo.EmptySlicePolicy{slo.EmptyGood, slo.EmptyBad, slo.EmptySkip}[i]
		}
	}
	return sliceAt
}

// checkSlice checks a percentile objective's slice against the period and
// the alert windows. A window shorter than a slice could never hold a whole
// slice, and a period that is not a whole number of slices would end in
// the middle of one.
func (p *parser) checkSlice(n *yaml.Node, s *slo.Spec) {
	const path = "spec.objective.slice"
	if s.Slice <= 0 {
		return // already reported
	}
	slice := FormatDuration(s.Slice)
	switch {
	case s.Calendar != nil && (24*time.Hour)%s.Slice != 0:
		// Months differ in length, so only a slice that divides a day fits
		// every one of them.
		p.errorf(n, path, "%s does not divide a day evenly, which a calendar period needs (e.g. 1m, 5m, 1h)", slice)
		return
	case s.Calendar == nil && s.Period%s.Slice != 0:
		p.errorf(n, path, "%s does not divide the period %s evenly (the period must be a whole number of slices)", slice, FormatDuration(s.Period))
		return
	}
	var shortest time.Duration
	var what string
	for _, t := range s.Tiers {
		if shortest == 0 || t.Short < shortest {
			shortest, what = t.Short, "the short window of tier "+t.Name
		}
	}
	for _, e := range s.ExhaustionAlerts {
		if shortest == 0 || e.Window < shortest {
			shortest, what = e.Window, "the window of exhaustion alert "+e.Name
		}
	}
	if shortest > 0 && s.Slice > shortest {
		p.errorf(n, path, "%s is longer than %s, %s (every alert window must hold at least one slice: shorten the slice, or change or disable the window)", slice, what, FormatDuration(shortest))
	}
}

// target reads a percentage and returns it as a fraction.
func (p *parser) target(n *yaml.Node, path string) (float64, bool) {
	pct, ok := p.number(n, path)
	if !ok {
		return 0, false
	}
	if !(pct > 0 && pct < 100) {
		p.errorf(n, path, "%s is not a percentage in (0, 100) (e.g. 99.9 for 99.9%%)", n.Value)
		return 0, false
	}
	return share(n, pct), true
}
