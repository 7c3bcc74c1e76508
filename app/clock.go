package app

import "time"

// Clock is where the App reads the time at its edges: the evaluation tick,
// an observed batch, the API's answers, a spec reload. The wall clock is
// the default; FastClock lets a test of the real binary live through hours
// of event time in seconds. Durations the App measures for itself (how long
// an evaluation or a restore took) and the delivery's retry timers stay on
// the wall clock.
type Clock interface {
	Now() time.Time
	// NewTicker ticks every d of the clock's time.
	NewTicker(d time.Duration) *time.Ticker
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

// FastClock reads Origin at wall time Start and runs Speed times faster
// than the wall clock from there: Now() = Origin + Speed × (wall − Start).
// A test that starts the binary with the same three values computes the
// daemon's now on its side, to time its spans.
type FastClock struct {
	Origin, Start time.Time
	Speed         float64
}

// Now returns the clock's time.
func (c FastClock) Now() time.Time {
	return c.Origin.Add(time.Duration(float64(time.Since(c.Start)) * c.Speed))
}

// NewTicker ticks every d / Speed of wall time.
func (c FastClock) NewTicker(d time.Duration) *time.Ticker {
	return time.NewTicker(max(time.Duration(float64(d)/c.Speed), time.Millisecond))
}
