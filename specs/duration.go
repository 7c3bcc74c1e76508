package specs

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// durationUnits are the units ParseDuration accepts, largest first.
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

// ParseDuration parses durations as spec files write them: integers with
// units ms, s, m, h, d (24h) and w (7d), combined largest unit first, e.g.
// "300ms", "30d", "1h30m". Unlike time.ParseDuration it knows days and
// weeks; like Prometheus it rejects fractions ("1.5h": write "1h30m").
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var total time.Duration
	last := -1 // index of the previous unit, to enforce largest-first order
	for i := 0; i < len(s); {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if start == i {
			return 0, fmt.Errorf("%q is not a duration (want e.g. 300ms, 30d, 1h30m; units ms, s, m, h, d, w)", s)
		}
		digits := s[start:i]
		if i < len(s) && s[i] == '.' {
			return 0, fmt.Errorf("%q: fractions are not allowed (write 1h30m for 1.5h, 300ms for 0.3s)", s)
		}
		ustart := i
		for i < len(s) && (s[i] < '0' || s[i] > '9') {
			i++
		}
		unit := s[ustart:i]
		if unit == "" {
			return 0, fmt.Errorf("%q has no unit (want e.g. %sd or %sm; units ms, s, m, h, d, w)", s, digits, digits)
		}
		u := -1
		for j, du := range durationUnits {
			if du.name == unit {
				u = j
			}
		}
		if u < 0 {
			return 0, fmt.Errorf("%q: unknown unit %q (units ms, s, m, h, d, w)", s, unit)
		}
		if u <= last {
			return 0, fmt.Errorf("%q: units must go from largest to smallest, each once (e.g. 1h30m)", s)
		}
		last = u
		var n int64
		for _, c := range []byte(digits) {
			if n > (math.MaxInt64-int64(c-'0'))/10 {
				return 0, fmt.Errorf("%q is too long a duration", s)
			}
			n = n*10 + int64(c-'0')
		}
		d := durationUnits[u].d
		if n > int64(math.MaxInt64/d) || total > math.MaxInt64-time.Duration(n)*d {
			return 0, fmt.Errorf("%q is too long a duration", s)
		}
		total += time.Duration(n) * d
	}
	return total, nil
}

// FormatDuration writes d the way ParseDuration reads it, with days and
// weeks: 720h is "30d", 336h is "2w", 90m is "1h30m". It is for messages and
// docs, and names default alerts exactly as the engine does.
func FormatDuration(d time.Duration) string { return slo.FormatDuration(d) }
