package e2e

import (
	"fmt"
	"time"
)

// fastClock is the daemon's clock in a test build (app.FastClock): origin
// at wall time start, speed times faster from there. The test reads the
// same clock to time its spans and its expectations.
type fastClock struct {
	origin, start time.Time
	speed         float64
}

// newFastClock starts a clock at origin now, running speed times faster
// than the wall clock.
func newFastClock(origin time.Time, speed float64) *fastClock {
	return &fastClock{origin: origin, start: time.Now(), speed: speed}
}

func (c *fastClock) now() time.Time {
	return c.origin.Add(time.Duration(float64(time.Since(c.start)) * c.speed))
}

// wall is how much wall time d of the clock's time takes.
func (c *fastClock) wall(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.speed)
}

// until blocks until the clock reads t. Waiting for the clock is the
// point: the daemon reads the same one.
func (c *fastClock) until(t time.Time) {
	if d := t.Sub(c.now()); d > 0 {
		time.Sleep(c.wall(d))
	}
}

func (c *fastClock) env() string {
	return fmt.Sprintf("origin=%d,start=%d,speed=%g", c.origin.UnixNano(), c.start.UnixNano(), c.speed)
}
