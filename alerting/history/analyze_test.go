package history

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// t0 is Monday 2 March 2026, 12:00 UTC.
var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func fire(min int, tier string) Record {
	return Record{Time: at(min), Event: EventTransition, SLO: "s", Tier: tier, State: StateFiring, Severity: SeverityPage}
}

func resolve(min int, tier string) Record {
	return Record{Time: at(min), Event: EventTransition, SLO: "s", Tier: tier, State: StateResolved, Severity: SeverityPage}
}

// TestAnalyze checks one rule at a time on a few records; rows are written
// "tier episodes open firing median flaps offhours short", durations in
// minutes.
func TestAnalyze(t *testing.T) {
	utcNight := Options{FlapWindow: time.Hour, NightStart: 22 * time.Hour, NightEnd: 7 * time.Hour}
	with := func(o Options, f func(*Options)) Options { f(&o); return o }
	tests := []struct {
		name    string
		records []Record
		opts    Options
		rows    []string
		input   map[string]int // Input counts that are not zero
	}{
		{
			name:    "no since or until: the history's first record to its last",
			records: []Record{fire(0, "a"), resolve(10, "a"), {Time: at(30), Event: EventAttempt}, fire(40, "b")},
			opts:    utcNight,
			// b is open from 40 to the last record at 40: 0 long, not "under a minute" (still firing).
			rows: []string{"a 1 0 10 10 0 0 0", "b 1 1 0 0 0 0 0"},
		},
		{
			name:    "until cuts the history: later records are not read",
			records: []Record{fire(0, "a"), resolve(90, "a"), fire(100, "b"), resolve(101, "b")},
			opts:    with(utcNight, func(o *Options) { o.Until = at(60) }),
			rows:    []string{"a 1 1 60 60 0 0 0"},
		},
		{
			name:    "since clips an episode that started before; one over before is left out",
			records: []Record{fire(-50, "a"), resolve(-40, "a"), fire(-30, "a"), resolve(20, "a")},
			// The second episode runs 20m in the period; it started 20m
			// after the first ended but before the period: no flap.
			opts: with(utcNight, func(o *Options) { o.Since, o.Until = at(0), at(60) }),
			rows: []string{"a 1 0 20 20 0 0 0"},
		},
		{
			name:    "flap window: a gap shorter than it flaps, an equal gap does not",
			records: []Record{fire(0, "a"), resolve(10, "a"), fire(69, "a"), resolve(70, "a"), fire(130, "a"), resolve(140, "a")},
			// Episodes 10, 1, 10: median 10; 59m after the first ended
			// flaps, 60m after the second does not.
			opts: utcNight,
			rows: []string{"a 3 0 21 10 1 0 0"},
		},
		{
			name:    "no flap window: no flaps",
			records: []Record{fire(0, "a"), resolve(10, "a"), fire(10, "a"), resolve(20, "a")},
			opts:    with(utcNight, func(o *Options) { o.FlapWindow = 0 }),
			rows:    []string{"a 2 0 20 10 0 0 0"},
		},
		{
			name: "night 22:00-07:00 UTC: from 22:00 to before 07:00",
			// t0 is 12:00: 600 is 22:00 (night), 599 21:59, 1140 07:00 (day), 1139 06:59 (night).
			records: []Record{fire(599, "a"), resolve(600, "a"), fire(600, "b"), resolve(601, "b"),
				fire(1139, "c"), resolve(1140, "c"), fire(1140, "d"), resolve(1141, "d")},
			opts: with(utcNight, func(o *Options) { o.FlapWindow = 0 }),
			rows: []string{"a 1 0 1 1 0 0 0", "b 1 0 1 1 0 1 0", "c 1 0 1 1 0 1 0", "d 1 0 1 1 0 0 0"},
		},
		{
			name: "a night that does not wrap, 01:00-05:00",
			// 780 is 01:00 Tuesday, 1020 05:00.
			records: []Record{fire(779, "a"), resolve(780, "a"), fire(780, "b"), resolve(781, "b"), fire(1020, "c"), resolve(1021, "c")},
			opts:    Options{NightStart: time.Hour, NightEnd: 5 * time.Hour},
			rows:    []string{"a 1 0 1 1 0 0 0", "b 1 0 1 1 0 1 0", "c 1 0 1 1 0 0 0"},
		},
		{
			name: "weekend in the zone: Friday 23:30 UTC is Saturday 00:30 in Berlin",
			// 4 days 11h30m after Monday 12:00 is Friday 23:30 UTC. With
			// no night only the weekend counts.
			records: []Record{fire(4*1440+690, "a"), resolve(4*1440+700, "a")},
			opts:    Options{Location: mustZone("Europe/Berlin")},
			rows:    []string{"a 1 0 10 10 0 1 0"},
		},
		{
			name:    "the same page in UTC is on a Friday",
			records: []Record{fire(4*1440+690, "a"), resolve(4*1440+700, "a")},
			opts:    Options{},
			rows:    []string{"a 1 0 10 10 0 0 0"},
		},
		{
			name:    "tickets are not night pages",
			records: []Record{{Time: at(600), Event: EventTransition, SLO: "s", Tier: "t", State: StateFiring, Severity: "ticket"}, resolve(610, "t")},
			opts:    utcNight,
			rows:    []string{"t 1 0 10 10 0 0 0"},
		},
		{
			name:    "under a minute: 59s is, 60s is not, 0s is",
			records: []Record{fire(0, "a"), {Time: at(0).Add(59 * time.Second), Event: EventTransition, SLO: "s", Tier: "a", State: StateResolved}, fire(0, "b"), resolve(1, "b"), fire(0, "c"), resolve(0, "c")},
			opts:    Options{},
			// a: 59s is "0" minutes here; its median too.
			rows: []string{"a 1 0 0 0 0 0 1", "b 1 0 1 1 0 0 0", "c 1 0 0 0 0 0 1"},
			// fire b, fire c and resolve c (all at 0) follow later records: 3.
			input: map[string]int{"outoforder": 3},
		},
		{
			name:    "repeated transitions are ignored",
			records: []Record{fire(0, "a"), fire(5, "a"), resolve(10, "a"), resolve(15, "a")},
			opts:    utcNight,
			rows:    []string{"a 1 0 10 10 0 0 0"},
			input:   map[string]int{"repeated": 2},
		},
		{
			name:    "a resolved first counts from the period's start, or not at all before it",
			records: []Record{resolve(-10, "a"), resolve(30, "b")},
			opts:    with(utcNight, func(o *Options) { o.Since, o.Until = at(0), at(60) }),
			rows:    []string{"b 1 0 30 30 0 0 0"},
			input:   map[string]int{"without": 2},
		},
		{
			name: "what is not a usable transition is counted",
			records: []Record{
				{Event: EventTransition, SLO: "s", Tier: "a", State: StateFiring}, // no time
				{Time: at(1), Event: EventTransition, Tier: "a", State: StateFiring},
				{Time: at(2), Event: EventTransition, SLO: "s", State: StateFiring},
				{Time: at(3), Event: EventTransition, SLO: "s", Tier: "a", State: "pending"},
				{Time: at(4), Event: "acked"},
				{Time: at(3), Event: EventDeadLetter},
			},
			opts:  utcNight,
			input: map[string]int{"invalid": 4, "unknown": 1, "outoforder": 1, "transitions": 3, "deadletters": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(Log{Records: tt.records}, tt.opts)
			var rows []string
			for _, a := range r.Alerts {
				m := func(s Seconds) int { return int(time.Duration(s) / time.Minute) }
				rows = append(rows, strings.Join([]string{a.Tier, strconv.Itoa(a.Episodes), strconv.Itoa(a.Open), strconv.Itoa(m(a.Firing)), strconv.Itoa(m(a.Median)),
					strconv.Itoa(a.Flaps), strconv.Itoa(a.OffHoursPages), strconv.Itoa(a.ShortEpisodes)}, " "))
			}
			if strings.Join(rows, "\n") != strings.Join(tt.rows, "\n") {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(tt.rows, "\n"))
			}
			in := r.Input
			for k, n := range map[string]int{"repeated": in.Repeated, "without": in.ResolvedWithoutFiring, "invalid": in.Invalid,
				"unknown": in.UnknownEvents, "outoforder": in.OutOfOrder, "deadletters": in.DeadLetters} {
				if n != tt.input[k] {
					t.Errorf("input %s = %d, want %d", k, n, tt.input[k])
				}
			}
			if w, ok := tt.input["transitions"]; ok && in.Transitions != w {
				t.Errorf("input transitions = %d, want %d", in.Transitions, w)
			}
			if r.NeverFired != nil || r.SpecsChecked {
				t.Errorf("never fired %v, checked %v: want nil without spec files", r.NeverFired, r.SpecsChecked)
			}
		})
	}
}

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 rounds down in nanoseconds
		{[]time.Duration{time.Hour, 30 * time.Minute}, 45 * time.Minute},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
