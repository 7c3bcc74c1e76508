package history

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// States and severities of a transition, as package alerting writes them.
const (
	StateFiring   = "firing"
	StateResolved = "resolved"
	SeverityPage  = "page"
)

// Options say which period a Report covers and how it judges episodes.
// The zero value covers the whole history in UTC, with no flap window and
// no night: weekends still count as off hours.
type Options struct {
	// Since and Until bound the period, [Since, Until). A zero Since starts
	// it at the history's first record; a zero Until ends it at its last.
	Since, Until time.Time
	// Location is where nights and weekends are (nil: UTC).
	Location *time.Location
	// FlapWindow: an episode starting less than this after the previous
	// episode of the same alert ended is a flap.
	FlapWindow time.Duration
	// NightStart and NightEnd are times of day (since midnight). A page
	// starting at or after NightStart and before NightEnd is a night page;
	// the night wraps past midnight when NightStart > NightEnd.
	NightStart, NightEnd time.Duration
	// Expected are the alerts the spec files define, for the never-fired
	// list; CheckNeverFired says spec files were given (without them
	// Report.NeverFired is nil and the table says it was not checked).
	Expected        []Alert
	CheckNeverFired bool
}

// Alert names one alert: an SLO's tier or other condition.
type Alert struct {
	SLO      string `json:"slo"`
	Tier     string `json:"tier"`
	Severity string `json:"severity"`
}

// Report is the alert-quality report of a period: per alert, how often and
// how long it fired and how much of that hurt someone.
type Report struct {
	Since      time.Time `json:"since"`
	Until      time.Time `json:"until"`
	TimeZone   string    `json:"time_zone"`
	FlapWindow Seconds   `json:"flap_window_seconds"`
	// Night is the night window in TimeZone, "22:00-07:00".
	Night string `json:"night"`

	// Alerts has a row per alert with an episode in the period, sorted by
	// SLO then tier.
	Alerts []Row `json:"alerts"`
	Total  Total `json:"total"`
	// NeverFired are the alerts of the spec files with no episode in the
	// period, sorted by SLO then tier; nil when SpecsChecked is false.
	NeverFired   []Alert `json:"never_fired"`
	SpecsChecked bool    `json:"specs_checked"`
	// SpecAlerts is how many alerts the spec files define.
	SpecAlerts int `json:"spec_alerts,omitempty"`

	Input Input `json:"input"`
}

// Row is one alert's episodes in the period. An episode that started
// before the period (or whose firing is not in the history) counts from
// the period's start; one still firing at its end counts to the end.
type Row struct {
	Alert
	// Episodes is the number of episodes; Open of them still fire at the
	// period's end, since FiringSince.
	Episodes    int        `json:"episodes"`
	Open        int        `json:"open"`
	FiringSince *time.Time `json:"firing_since,omitempty"`
	// Firing is the time firing within the period, Median the median
	// episode's share of it (the mean of the middle two for an even count).
	Firing Seconds `json:"firing_seconds"`
	Median Seconds `json:"median_seconds"`
	// Flaps, OffHoursPages and ShortEpisodes judge episodes that started in
	// the period: how many started within the flap window after the
	// previous one ended; how many of severity page started at night or on
	// a weekend; how many resolved less than a minute after they started.
	Flaps         int `json:"flaps"`
	OffHoursPages int `json:"night_weekend_pages"`
	ShortEpisodes int `json:"resolved_within_1m"`
}

// Total sums the rows.
type Total struct {
	Alerts        int     `json:"alerts"`
	Episodes      int     `json:"episodes"`
	Open          int     `json:"open"`
	Firing        Seconds `json:"firing_seconds"`
	Flaps         int     `json:"flaps"`
	OffHoursPages int     `json:"night_weekend_pages"`
	ShortEpisodes int     `json:"resolved_within_1m"`
}

// Input counts what the history held, and what of it the report could not
// use. None of it is fatal; all of it is worth a look when not zero.
type Input struct {
	Files       []string `json:"files"`
	Records     int      `json:"records"`
	Transitions int      `json:"transitions"`
	Attempts    int      `json:"attempts"`
	DeadLetters int      `json:"dead_letters"`
	// Malformed lines are not JSON records; MalformedExamples says where
	// the first few are.
	Malformed         int      `json:"malformed_lines"`
	MalformedExamples []string `json:"malformed_examples,omitempty"`
	// Invalid records have no time, or are transitions without an SLO, a
	// tier or a state firing or resolved.
	Invalid       int `json:"invalid_records"`
	UnknownEvents int `json:"unknown_events"`
	// OutOfOrder records are older than one read before them; the report
	// orders transitions by time, so they are counted where they belong.
	OutOfOrder int `json:"out_of_order"`
	// Repeated transitions (a firing while firing, a resolved while
	// resolved) are ignored: the episode is the first firing to the first
	// resolved.
	Repeated int `json:"repeated_transitions"`
	// ResolvedWithoutFiring are resolved transitions that are an alert's
	// first in the history: its firing was rotated away, so the episode
	// counts from the period's start.
	ResolvedWithoutFiring int `json:"resolved_without_firing"`
}

// Seconds is a duration that JSON writes as a number of seconds.
type Seconds time.Duration

// MarshalJSON writes s in seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(s).Seconds(), 'f', -1, 64), nil
}

// UnmarshalJSON reads a number of seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*s = Seconds(f * float64(time.Second))
	return nil
}

// SpecAlerts lists the alerts specs define: every tier, budget and
// exhaustion alert and the no-data alert, with names and severities as
// specs.Load fills them in (an empty severity is a ticket).
func SpecAlerts(specs []slo.Spec) []Alert {
	var out []Alert
	add := func(s *slo.Spec, name string, sev slo.Severity) {
		out = append(out, Alert{SLO: s.Name, Tier: name, Severity: string(cmp.Or(sev, slo.Ticket))})
	}
	for i := range specs {
		s := &specs[i]
		tiers := s.Tiers
		if tiers == nil { // a spec built in code: the engine's defaults
			tiers = slo.DefaultTiers(cmp.Or(s.Period, slo.DefaultPeriod))
		}
		for _, t := range tiers {
			add(s, t.Name, t.Severity)
		}
		for _, a := range s.BudgetAlerts {
			add(s, a.Name, a.Severity)
		}
		for _, a := range s.ExhaustionAlerts {
			add(s, a.Name, a.Severity)
		}
		if s.NoData > 0 {
			add(s, slo.NoDataName, s.NoDataSeverity)
		}
	}
	return out
}

// episode is one firing of an alert, start to end (or the period's end).
type episode struct {
	start, end time.Time
	// startKnown is false when the firing is not in the history.
	startKnown bool
	open       bool
	flap       bool
	severity   string
}

// alertState follows one alert through the transitions.
type alertState struct {
	firing   bool
	start    time.Time
	severity string
	// ended is when the last episode ended; seen says there was a
	// transition at all.
	ended time.Time
	seen  bool
}

// Analyze builds the report of log's records for opts' period. It reads
// the records in any order and never fails: what it cannot use it counts in
// Report.Input.
func Analyze(log Log, opts Options) Report {
	in := Input{Files: log.Files, Records: len(log.Records), Malformed: log.Malformed}
	for _, m := range log.MalformedExamples {
		in.MalformedExamples = append(in.MalformedExamples, m.String())
	}
	var (
		transitions      []Record
		earliest, latest time.Time
	)
	for _, r := range log.Records {
		if r.Time.IsZero() {
			in.Invalid++
			continue
		}
		if r.Time.Before(latest) {
			in.OutOfOrder++
		} else {
			latest = r.Time
		}
		if earliest.IsZero() || r.Time.Before(earliest) {
			earliest = r.Time
		}
		switch r.Event {
		case EventTransition:
			in.Transitions++
			if r.SLO == "" || r.Tier == "" || (r.State != StateFiring && r.State != StateResolved) {
				in.Invalid++
				continue
			}
			transitions = append(transitions, r)
		case EventAttempt:
			in.Attempts++
		case EventDeadLetter:
			in.DeadLetters++
		default:
			in.UnknownEvents++
		}
	}
	until := opts.Until
	if until.IsZero() {
		// The history's last record ends the period; the period is
		// [since, until), so move past it.
		until = latest.Add(time.Nanosecond)
	}
	since := opts.Since
	if since.IsZero() {
		since = earliest
	}
	if since.After(until) {
		since = until
	}
	loc := cmp.Or(opts.Location, time.UTC)
	rep := Report{
		Since: since, Until: until, TimeZone: loc.String(), FlapWindow: Seconds(opts.FlapWindow),
		Night:  clock(opts.NightStart) + "-" + clock(opts.NightEnd),
		Alerts: []Row{}, SpecsChecked: opts.CheckNeverFired,
	}

	slices.SortStableFunc(transitions, func(a, b Record) int { return a.Time.Compare(b.Time) })
	type key struct{ slo, tier string }
	states := map[key]*alertState{}
	episodes := map[key][]episode{}
	for _, r := range transitions {
		if !r.Time.Before(until) {
			break
		}
		k := key{r.SLO, r.Tier}
		st := states[k]
		if st == nil {
			st = &alertState{}
			states[k] = st
		}
		switch {
		case r.State == StateFiring && st.firing, r.State == StateResolved && !st.firing && st.seen:
			in.Repeated++
		case r.State == StateFiring:
			st.firing, st.start, st.severity = true, r.Time, r.Severity
		case st.firing: // resolved
			flap := !st.ended.IsZero() && st.start.Sub(st.ended) < opts.FlapWindow
			episodes[k] = append(episodes[k], episode{start: st.start, end: r.Time, startKnown: true, flap: flap,
				severity: cmp.Or(st.severity, r.Severity)})
			st.firing, st.ended = false, r.Time
		default: // resolved, the alert's first transition: its firing was rotated away
			in.ResolvedWithoutFiring++
			episodes[k] = append(episodes[k], episode{start: since, end: r.Time, severity: r.Severity})
			st.ended = r.Time
		}
		st.seen = true
	}
	for k, st := range states {
		if st.firing {
			flap := !st.ended.IsZero() && st.start.Sub(st.ended) < opts.FlapWindow
			episodes[k] = append(episodes[k], episode{start: st.start, end: until, startKnown: true, open: true, flap: flap,
				severity: st.severity})
		}
	}

	fired := map[key]bool{}
	for k, eps := range episodes {
		row := Row{Alert: Alert{SLO: k.slo, Tier: k.tier}}
		var durations []time.Duration
		for _, e := range eps {
			if e.end.Before(since) || (e.end.Equal(since) && e.start.Before(since)) {
				continue // over before the period began
			}
			startedIn := e.startKnown && !e.start.Before(since)
			start := e.start
			if start.Before(since) {
				start = since
			}
			d := e.end.Sub(start)
			row.Episodes++
			row.Firing += Seconds(d)
			durations = append(durations, d)
			row.Severity = cmp.Or(e.severity, row.Severity)
			if e.open {
				row.Open++
				s := e.start
				row.FiringSince = &s
			}
			if !startedIn {
				continue
			}
			if e.flap {
				row.Flaps++
			}
			if e.severity == SeverityPage && offHours(e.start.In(loc), opts.NightStart, opts.NightEnd) {
				row.OffHoursPages++
			}
			if !e.open && d < time.Minute {
				row.ShortEpisodes++
			}
		}
		if row.Episodes == 0 {
			continue
		}
		row.Median = Seconds(median(durations))
		fired[k] = true
		rep.Alerts = append(rep.Alerts, row)
		t := &rep.Total
		t.Alerts++
		t.Episodes += row.Episodes
		t.Open += row.Open
		t.Firing += row.Firing
		t.Flaps += row.Flaps
		t.OffHoursPages += row.OffHoursPages
		t.ShortEpisodes += row.ShortEpisodes
	}
	slices.SortFunc(rep.Alerts, func(a, b Row) int { return compareAlerts(a.Alert, b.Alert) })

	if opts.CheckNeverFired {
		rep.NeverFired = []Alert{}
		rep.SpecAlerts = len(opts.Expected)
		for _, a := range opts.Expected {
			if !fired[key{a.SLO, a.Tier}] {
				rep.NeverFired = append(rep.NeverFired, a)
			}
		}
		slices.SortFunc(rep.NeverFired, compareAlerts)
	}
	rep.Input = in
	return rep
}

func compareAlerts(a, b Alert) int {
	return cmp.Or(cmp.Compare(a.SLO, b.SLO), cmp.Compare(a.Tier, b.Tier))
}

// offHours says whether t (in the report's zone) is on a weekend or at
// night.
func offHours(t time.Time, nightStart, nightEnd time.Duration) bool {
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return true
	}
	tod := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
		time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
	if nightStart <= nightEnd {
		return tod >= nightStart && tod < nightEnd
	}
	return tod >= nightStart || tod < nightEnd
}

// median of ds, the mean of the middle two for an even count; ds is
// sorted in place.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return ds[n/2-1] + (ds[n/2]-ds[n/2-1])/2
}

// clock writes a time of day as "22:00".
func clock(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	return strconv.Itoa(h/10) + strconv.Itoa(h%10) + ":" + strconv.Itoa(m/10) + strconv.Itoa(m%10)
}
