package slo

import (
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// sliceState judges the time slices of a PercentileSlices SLO. Slices are
// aligned to the Unix epoch; each open slice has a histogram at
// sketch.DefaultScale. A slice closes AllowedLateness after its end, once no
// event can still be placed in it (an older event is TooLate), so its
// verdict never changes: good when its Percentile is at most Threshold, bad
// otherwise, and per EmptySlices when it holds nothing. A judged slice
// counts in the SLO's windows at its close time, like an event at that
// instant: a window of length W holds the slices that closed in its last W.
type sliceState struct {
	length, lateness int64
	// span is how far back from now any of the SLO's windows reaches.
	span      int64
	pct       float64
	threshold int64
	empty     EmptySlicePolicy

	// born says next is set: slices start with the one holding the first
	// time the SLO saw (an Observe, Evaluate or AppendSnapshot), so a new
	// SLO is not charged for slices before it existed.
	born bool
	// next is the index of the oldest slice not yet judged and nextClose
	// its close time: (next+1)·length + lateness.
	next, nextClose int64
	// open is a ring of the histograms of slices next.., by index mod len.
	open []sketch.Histogram
	// curStart is the start of the slice the last event went to, so that
	// events of the current slice skip a division.
	curStart int64
}

func newSliceState(s *Spec, lateness int64, longest time.Duration) *sliceState {
	length := int64(s.Slice)
	// Slices next..⌊now/length⌋ are open, and next > (now-lateness)/length - 1.
	m := (lateness+length-1)/length + 2
	return &sliceState{
		length: length, lateness: lateness, span: int64(longest) + length + lateness,
		pct: s.Percentile, threshold: int64(s.Threshold),
		empty: s.EmptySlices, open: make([]sketch.Histogram, m), curStart: -1 << 62,
	}
}

// slot returns the open slice histogram holding time t, or nil when t's
// slice is judged or before the SLO's first slice.
func (c *sliceState) slot(t int64) *sketch.Histogram {
	var k int64
	if t >= c.curStart && t-c.curStart < c.length {
		k = c.curStart / c.length
	} else {
		k = floorDiv(t, c.length)
		c.curStart = k * c.length
	}
	m := int64(len(c.open))
	if !c.born || k < c.next || k >= c.next+m {
		return nil
	}
	return &c.open[ring(k, m)]
}

// advance judges every slice closed by now and hands each verdict to emit
// with its close time. Slices that close before horizon (the oldest time
// any of the SLO's windows still holds) are dropped unjudged: they would
// count nowhere.
func (c *sliceState) advance(now, horizon int64, emit func(at int64, n counts)) {
	if !c.born {
		c.born = true
		c.next = floorDiv(now, c.length)
		c.nextClose = (c.next+1)*c.length + c.lateness
		return
	}
	if now < c.nextClose {
		return
	}
	m := int64(len(c.open))
	// No window reaches back further than span: that bounds the work
	// even when restored window positions are nonsense.
	if h := max(horizon, now-c.span); h > c.nextClose {
		// The first slice that closes at or after h.
		next := -floorDiv(-(h-c.lateness), c.length) - 1
		if next > c.next {
			if uint64(next-c.next) >= uint64(m) {
				for i := range c.open {
					c.open[i].Reset()
				}
			} else {
				for i := c.next; i < next; i++ {
					c.open[ring(i, m)].Reset()
				}
			}
			c.next, c.nextClose = next, (next+1)*c.length+c.lateness
		}
	}
	for c.nextClose <= now {
		h := &c.open[ring(c.next, m)]
		if n, ok := c.verdict(h); ok {
			emit(c.nextClose, n)
		}
		h.Reset()
		c.next++
		c.nextClose += c.length
	}
}

// verdict judges a closed slice: one slice, bad or good; ok is false for an
// empty slice that EmptySkip leaves out.
func (c *sliceState) verdict(h *sketch.Histogram) (n counts, ok bool) {
	if h.Count() == 0 {
		switch c.empty {
		case EmptyBad:
			return counts{total: 1, bad: 1}, true
		case EmptySkip:
			return counts{}, false
		}
		return counts{total: 1}, true
	}
	if h.Quantile(c.pct) <= c.threshold {
		return counts{total: 1}, true
	}
	return counts{total: 1, bad: 1}, true
}
