package history

import (
	"strings"
	"testing"
	"time"
)

func TestFlagsOptions(t *testing.T) {
	now := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		flags Flags
		// want checks the options; err is a part of the error message.
		want func(Options) bool
		err  string
	}{
		{name: "defaults", flags: Flags{}, want: func(o Options) bool {
			return o.Since.IsZero() && o.Until.Equal(now) && o.Location == time.UTC && o.FlapWindow == time.Hour &&
				o.NightStart == 22*time.Hour && o.NightEnd == 7*time.Hour
		}},
		{name: "since a duration before now", flags: Flags{Since: "30d"}, want: func(o Options) bool {
			return o.Since.Equal(now.Add(-30 * 24 * time.Hour))
		}},
		{name: "since a duration before until", flags: Flags{Since: "1w", Until: "2026-03-09T00:00:00Z"}, want: func(o Options) bool {
			return o.Since.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) && o.Until.Equal(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC))
		}},
		{name: "since a time with an offset", flags: Flags{Since: "2026-03-01T00:00:00+01:00"}, want: func(o Options) bool {
			return o.Since.Equal(time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC))
		}},
		{name: "a zone, a flap window and a night", flags: Flags{TimeZone: "Europe/Berlin", FlapWindow: "15m", NightStart: "00:00", NightEnd: "06:30"},
			want: func(o Options) bool {
				return o.Location.String() == "Europe/Berlin" && o.FlapWindow == 15*time.Minute && o.NightStart == 0 &&
					o.NightEnd == 6*time.Hour+30*time.Minute
			}},
		{name: "no flaps", flags: Flags{FlapWindow: "0s"}, want: func(o Options) bool { return o.FlapWindow == 0 }},
		{name: "night to midnight", flags: Flags{NightStart: "20:00", NightEnd: "24:00"}, want: func(o Options) bool { return o.NightEnd == 24*time.Hour }},

		{name: "since is neither", flags: Flags{Since: "last week"}, err: `--since "last week": want a duration such as 7d`},
		{name: "since in fractions", flags: Flags{Since: "1.5d"}, err: `--since "1.5d"`},
		{name: "since after until", flags: Flags{Since: "2026-03-10T00:00:00Z"}, err: `is not before --until 2026-03-09T12:00:00Z`},
		{name: "since a zero duration", flags: Flags{Since: "0d"}, err: `is not before --until`},
		{name: "until a date only", flags: Flags{Until: "2026-03-09"}, err: `--until "2026-03-09": want an RFC 3339 time`},
		{name: "unknown zone", flags: Flags{TimeZone: "Mars/Olympus"}, err: `--tz "Mars/Olympus": not a time zone`},
		{name: "flap window without unit", flags: Flags{FlapWindow: "60"}, err: `--flap-window: "60" has no unit`},
		{name: "night start not a time", flags: Flags{NightStart: "10pm"}, err: `--night-start: "10pm" is not a time of day (want HH:MM`},
		{name: "night end out of range", flags: Flags{NightEnd: "24:30"}, err: `--night-end: "24:30" is not a time of day`},
		{name: "night end one digit", flags: Flags{NightEnd: "7:00"}, err: `--night-end: "7:00" is not a time of day`},
		{name: "empty night", flags: Flags{NightStart: "07:00"}, err: `--night-start and --night-end are both 07:00`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.flags.Options(now)
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want one with %q", err, tt.err)
			case tt.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.err == "" && !tt.want(o):
				t.Errorf("options %+v", o)
			}
		})
	}
}
