package app

import (
	"testing"
	"time"
)

func TestFastClock(t *testing.T) {
	origin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := FastClock{Origin: origin, Start: time.Now().Add(-2 * time.Second), Speed: 60}
	got := c.Now().Sub(origin)
	// Two wall seconds at 60x are two minutes; the slack is for the time
	// between building c and reading it.
	if got < 2*time.Minute || got > 2*time.Minute+30*time.Second {
		t.Errorf("FastClock two wall seconds after start at 60x: origin + %v, want about 2m", got)
	}
	tick := c.NewTicker(time.Minute)
	defer tick.Stop()
	began := time.Now()
	<-tick.C
	if wall := time.Since(began); wall < 500*time.Millisecond || wall > 1500*time.Millisecond {
		t.Errorf("a one-minute tick at 60x took %v of wall time, want about 1s", wall)
	}
}
