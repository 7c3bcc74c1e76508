package route

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeIntervalConfig is one named time interval, in Alertmanager's
// time_intervals syntax: it holds when any of its ranges does.
type TimeIntervalConfig struct {
	Name          string            `mapstructure:"name"`
	TimeIntervals []TimeRangeConfig `mapstructure:"time_intervals"`
}

// TimeRangeConfig holds when every field it sets holds: times of day
// ("17:00"–"24:00", end excluded), weekdays ("monday:friday", "saturday"),
// days of the month ("1:5", "-1" the last), months ("january:march",
// "12"), years ("2026:2027"), all in Location (default UTC).
type TimeRangeConfig struct {
	Times       []TimeOfDayConfig `mapstructure:"times"`
	Weekdays    []string          `mapstructure:"weekdays"`
	DaysOfMonth []string          `mapstructure:"days_of_month"`
	Months      []string          `mapstructure:"months"`
	Years       []string          `mapstructure:"years"`
	Location    string            `mapstructure:"location"`
}

// TimeOfDayConfig is a range of the day, HH:MM, start included, end
// excluded; "24:00" ends at midnight.
type TimeOfDayConfig struct {
	StartTime string `mapstructure:"start_time"`
	EndTime   string `mapstructure:"end_time"`
}

// TimeInterval is a compiled named time interval.
type TimeInterval struct {
	ranges []timeRange
}

type timeRange struct {
	minutes          [][2]int // [start, end) in minutes of the day
	weekdays, months [][2]int // inclusive
	days, years      [][2]int // inclusive; days may be negative
	loc              *time.Location
}

// CompileTimeIntervals checks and builds named time intervals; errors name
// the key (time_intervals[0].time_intervals[1].weekdays[0]).
func CompileTimeIntervals(cfgs []TimeIntervalConfig) (map[string]TimeInterval, error) {
	out := make(map[string]TimeInterval, len(cfgs))
	var errs []error
	for i, c := range cfgs {
		path := fmt.Sprintf("time_intervals[%d]", i)
		if c.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required", path))
		} else if _, dup := out[c.Name]; dup {
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", path, c.Name))
		}
		var ti TimeInterval
		for j, r := range c.TimeIntervals {
			tr, err := r.compile(fmt.Sprintf("%s.time_intervals[%d]", path, j))
			errs = append(errs, err)
			ti.ranges = append(ti.ranges, tr)
		}
		out[c.Name] = ti
	}
	return out, errors.Join(errs...)
}

var weekdayNames = map[string]int{"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6}

var monthNames = map[string]int{"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
	"july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12}

func (c TimeRangeConfig) compile(path string) (timeRange, error) {
	tr := timeRange{loc: time.UTC}
	var errs []error
	if c.Location != "" {
		loc, err := time.LoadLocation(c.Location)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.location: %q is not a time zone (e.g. Europe/Berlin)", path, c.Location))
		} else {
			tr.loc = loc
		}
	}
	for i, t := range c.Times {
		s, err1 := clock(t.StartTime)
		e, err2 := clock(t.EndTime)
		if err := errors.Join(err1, err2); err != nil {
			errs = append(errs, fmt.Errorf("%s.times[%d]: %w", path, i, err))
			continue
		}
		if s >= e {
			errs = append(errs, fmt.Errorf("%s.times[%d]: start_time %s is not before end_time %s", path, i, t.StartTime, t.EndTime))
		}
		tr.minutes = append(tr.minutes, [2]int{s, e})
	}
	var err error
	if tr.weekdays, err = ranges(c.Weekdays, 0, 6, weekdayNames, false); err != nil {
		errs = append(errs, fmt.Errorf("%s.weekdays%w", path, err))
	}
	if tr.months, err = ranges(c.Months, 1, 12, monthNames, false); err != nil {
		errs = append(errs, fmt.Errorf("%s.months%w", path, err))
	}
	if tr.days, err = ranges(c.DaysOfMonth, 1, 31, nil, true); err != nil {
		errs = append(errs, fmt.Errorf("%s.days_of_month%w", path, err))
	}
	if tr.years, err = ranges(c.Years, 1, 9999, nil, false); err != nil {
		errs = append(errs, fmt.Errorf("%s.years%w", path, err))
	}
	return tr, errors.Join(errs...)
}

// clock parses HH:MM (00:00 to 24:00) into minutes of the day.
func clock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("%q is not a time of day HH:MM (00:00 to 24:00)", s)
	}
	return hh*60 + mm, nil
}

// ranges parses "a:b" or "a" items of names or numbers in [lo, hi]; with
// negative, -hi..-1 count from the end (days of the month).
func ranges(items []string, lo, hi int, names map[string]int, negative bool) ([][2]int, error) {
	var out [][2]int
	var errs []error
	for i, item := range items {
		a, b, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(item)), ":")
		if !isRange {
			b = a
		}
		x, err1 := value(a, lo, hi, names, negative)
		y, err2 := value(b, lo, hi, names, negative)
		if err := errors.Join(err1, err2); err != nil {
			errs = append(errs, fmt.Errorf("[%d]: %w", i, err))
			continue
		}
		if (x < 0) == (y < 0) && x > y {
			errs = append(errs, fmt.Errorf("[%d]: %q ends before it starts", i, item))
			continue
		}
		out = append(out, [2]int{x, y})
	}
	return out, errors.Join(errs...)
}

func value(s string, lo, hi int, names map[string]int, negative bool) (int, error) {
	if v, ok := names[s]; ok {
		return v, nil
	}
	n, err := strconv.Atoi(s)
	if err == nil && (n >= lo && n <= hi || negative && n <= -lo && n >= -hi) {
		return n, nil
	}
	if names != nil {
		return 0, fmt.Errorf("%q is not a name or a number from %d to %d", s, lo, hi)
	}
	return 0, fmt.Errorf("%q is not a number from %d to %d", s, lo, hi)
}

// Contains reports whether t falls in the interval.
func (ti TimeInterval) Contains(t time.Time) bool {
	for _, r := range ti.ranges {
		if r.contains(t) {
			return true
		}
	}
	return false
}

func (r timeRange) contains(t time.Time) bool {
	t = t.In(r.loc)
	if len(r.minutes) > 0 {
		m := t.Hour()*60 + t.Minute()
		if !inAny(r.minutes, m, true) {
			return false
		}
	}
	if len(r.weekdays) > 0 && !inAny(r.weekdays, int(t.Weekday()), false) {
		return false
	}
	if len(r.months) > 0 && !inAny(r.months, int(t.Month()), false) {
		return false
	}
	if len(r.years) > 0 && !inAny(r.years, t.Year(), false) {
		return false
	}
	if len(r.days) > 0 {
		last := time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, r.loc).Day()
		day := t.Day()
		ok := false
		for _, d := range r.days {
			a, b := d[0], d[1]
			if a < 0 {
				a = last + 1 + a
			}
			if b < 0 {
				b = last + 1 + b
			}
			if day >= a && day <= b {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func inAny(rs [][2]int, v int, endExcluded bool) bool {
	for _, r := range rs {
		if v >= r[0] && (v < r[1] || !endExcluded && v == r[1]) {
			return true
		}
	}
	return false
}

// timeMuted says whether route n sends nothing at now: inside one of its
// mute intervals, or outside all of its active ones.
func (r *Router) timeMuted(n *node, now time.Time) bool {
	for _, name := range n.mute {
		if r.intervals[name].Contains(now) {
			return true
		}
	}
	if len(n.active) == 0 {
		return false
	}
	for _, name := range n.active {
		if r.intervals[name].Contains(now) {
			return false
		}
	}
	return true
}
