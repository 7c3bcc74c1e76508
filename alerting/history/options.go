package history

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // --tz names load on hosts without a zoneinfo database

	"github.com/burnwatch/burnwatch/specs"
)

// Defaults of Flags.
const (
	DefaultFlapWindow = "1h"
	DefaultNightStart = "22:00"
	DefaultNightEnd   = "07:00"
	DefaultTimeZone   = "UTC"
)

// Flags are a report's options as a command line writes them; an empty
// field takes its default.
type Flags struct {
	// Since is a duration before Until ("7d", "30d", "1w", "12h") or an RFC
	// 3339 time; empty: the start of the history.
	Since string
	// Until is an RFC 3339 time; empty: now.
	Until string
	// TimeZone is an IANA name ("Europe/Berlin"), "UTC" or "Local".
	TimeZone string
	// FlapWindow is a duration ("1h"); "0s" counts no flaps.
	FlapWindow string
	// NightStart and NightEnd are times of day, "22:00" and "07:00".
	NightStart, NightEnd string
}

// Options turns f into Options, with now for an empty Until. Errors name
// the flag and what it takes.
func (f Flags) Options(now time.Time) (Options, error) {
	var o Options
	var err error
	tz := f.TimeZone
	if tz == "" {
		tz = DefaultTimeZone
	}
	if o.Location, err = time.LoadLocation(tz); err != nil {
		return o, fmt.Errorf("--tz %q: not a time zone (want an IANA name such as Europe/Berlin, or UTC)", tz)
	}
	o.Until = now
	if f.Until != "" {
		if o.Until, err = time.Parse(time.RFC3339, f.Until); err != nil {
			return o, fmt.Errorf("--until %q: want an RFC 3339 time such as 2026-03-09T00:00:00Z", f.Until)
		}
	}
	if f.Since != "" {
		if d, derr := specs.ParseDuration(f.Since); derr == nil {
			o.Since = o.Until.Add(-d)
		} else if t, terr := time.Parse(time.RFC3339, f.Since); terr == nil {
			o.Since = t
		} else {
			return o, fmt.Errorf("--since %q: want a duration such as 7d or 30d, or an RFC 3339 time such as 2026-03-01T00:00:00Z", f.Since)
		}
		if !o.Since.Before(o.Until) {
			return o, fmt.Errorf("--since %q is not before --until %s", f.Since, o.Until.Format(time.RFC3339))
		}
	}
	if o.FlapWindow, err = specs.ParseDuration(orDefault(f.FlapWindow, DefaultFlapWindow)); err != nil {
		return o, fmt.Errorf("--flap-window: %w", err)
	}
	if o.NightStart, err = timeOfDay(orDefault(f.NightStart, DefaultNightStart)); err != nil {
		return o, fmt.Errorf("--night-start: %w", err)
	}
	if o.NightEnd, err = timeOfDay(orDefault(f.NightEnd, DefaultNightEnd)); err != nil {
		return o, fmt.Errorf("--night-end: %w", err)
	}
	if o.NightStart == o.NightEnd {
		return o, fmt.Errorf("--night-start and --night-end are both %s: the night would be empty", clock(o.NightStart))
	}
	return o, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// timeOfDay parses "HH:MM", 00:00 to 24:00, into the time since midnight.
func timeOfDay(s string) (time.Duration, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, herr := strconv.Atoi(hh)
	m, merr := strconv.Atoi(mm)
	if !ok || herr != nil || merr != nil || len(hh) != 2 || len(mm) != 2 || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m > 0) {
		return 0, fmt.Errorf("%q is not a time of day (want HH:MM, e.g. 22:00)", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}
