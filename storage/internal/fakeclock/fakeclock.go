package fakeclock

import (
	"sync"
	"time"
)

// Clock is a storage.Clock that moves only when told to.
type Clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

// New returns a Clock stopped at start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
