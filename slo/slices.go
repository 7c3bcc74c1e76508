package slo

import (
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// sliceState judges the time slices of a PercentileSlices SLO. Slices are
// aligned to the Unix epoch; each open slice has a histogram at
// sketch.DefaultScale. A slice's verdict is good when its Percentile is at
// most Threshold, bad otherwise, and per EmptySlices when it holds nothing.
//
// When a slice counts. A slice is judged as soon as it has ended: at the
// first read (an evaluation, or a snapshot) at or after its end, or at its
// close if no read came first. Until its close, AllowedLateness after its
// end, events of the slice may still come (an older event is TooLate), so
// that verdict is provisional: an event that lands in a judged slice marks
// it, and the next read judges it again and replaces its counts wherever
// they were counted. At its close the verdict is final. So a page waits for
// the slice that breaks the budget to end, not for the lateness after it,
// and a slice that late events change is recounted exactly.
//
// A judged slice counts at its last instant (end - 1 ns), like an event
// then: a window holds the slices whose last instant it covers, and a
// calendar period the slices that end in it. It adds one slice, good or
// bad (nothing for a skipped empty slice), and the requests it held, which
// the minimum-traffic guard counts.
//
// At every read, then, each window holds exactly the verdicts of the
// slices' histograms as they stand, whatever order the events, reads and
// deltas came in: a replay of deltas, which carry histograms per base slot
// and not verdicts, gives the windows of an engine that never stopped.
type sliceState struct {
	length, lateness int64
	// span is how far back from now any of the SLO's windows reaches.
	span      int64
	pct       float64
	threshold int64
	// th classifies each value as CountAtOrBelow(threshold) would.
	th    sketch.Threshold
	empty EmptySlicePolicy

	// born says next is set: slices start with the one holding the first
	// time the SLO saw (an Observe, Evaluate or AppendSnapshot), so a new
	// SLO is not charged for slices before it existed.
	born bool
	// first is the slice they started with, for the delta that says so
	// (by then next may have moved on).
	first int64
	// next is the index of the oldest slice not yet closed and nextClose
	// its close time: (next+1)·length + lateness.
	next, nextClose int64
	// judged is the first slice without a verdict: slices next..judged-1
	// have ended and are counted, each with verdicts[k mod len]; judged and
	// later are in progress, or have ended and wait for a read.
	judged int64
	// open is a ring of the histograms of slices next.., by index mod len,
	// tallies their counts, and verdicts what each judged one counts.
	open     []sketch.Histogram
	tallies  []sliceTally
	verdicts []sliceVerdict
	// dirty says some verdict is dirty.
	dirty bool
	// curStart is the start of the slice the last event went to, so that
	// events of the current slice skip a division.
	curStart int64
}

// sliceTally counts an open slice's values as they come: n in all, and
// fast at or below the threshold by the rule of CountAtOrBelow at
// sketch.DefaultScale. Quantile(p) <= threshold exactly when fast >=
// Rank(p, n), so judging a slice costs a comparison, not a walk over a
// histogram that has gone cold since its events came; coarse says the
// slice's histogram was downscaled (a range of latencies too wide for its
// buckets), and its Quantile decides instead.
type sliceTally struct {
	n, fast uint64
	coarse  bool
}

// sliceVerdict is what a judged slice counts; dirty says its histogram
// changed since.
type sliceVerdict struct {
	sliceCount
	dirty bool
}

func newSliceState(s *Spec, lateness int64, longest time.Duration) *sliceState {
	length := int64(s.Slice)
	// Slices next..⌊now/length⌋ are open, and next > (now-lateness)/length - 1.
	m := (lateness+length-1)/length + 2
	return &sliceState{
		length: length, lateness: lateness, span: int64(longest) + length + lateness,
		pct: s.Percentile, threshold: int64(s.Threshold), th: sketch.NewThreshold(int64(s.Threshold), sketch.DefaultScale),
		empty: s.EmptySlices, open: make([]sketch.Histogram, m), tallies: make([]sliceTally, m),
		verdicts: make([]sliceVerdict, m), curStart: -1 << 62,
	}
}

// slot returns the ring position of the open slice holding t, for events
// to be recorded in, marking the slice for judging again if it is judged;
// -1 when t's slice is closed or before the SLO's first slice.
func (c *sliceState) slot(t int64) int64 {
	var k int64
	if t >= c.curStart && t-c.curStart < c.length {
		k = c.curStart / c.length
	} else {
		k = floorDiv(t, c.length)
		c.curStart = k * c.length
	}
	m := int64(len(c.open))
	if !c.born || k < c.next || k >= c.next+m {
		return -1
	}
	i := ring(k, m)
	if k < c.judged {
		c.verdicts[i].dirty, c.dirty = true, true
	}
	return i
}

// record adds latencies ds, which ended in t's slice, to it; it reports
// whether that made a judged slice dirty.
func (c *sliceState) record(t int64, ds []sketch.Prepared) (dirtied bool) {
	i := c.slot(t)
	if i < 0 {
		return false
	}
	h, tl := &c.open[i], &c.tallies[i]
	for _, d := range ds {
		h.RecordPrepared(d)
		if c.th.AtOrBelow(d) {
			tl.fast++
		}
	}
	tl.n += uint64(len(ds))
	if h.Scale() != sketch.DefaultScale {
		tl.coarse = true
	}
	return c.verdicts[i].dirty
}

// merge adds the latencies in h, which ended in t's slice, to it; it
// reports whether that made a judged slice dirty.
func (c *sliceState) merge(t int64, h *sketch.Histogram) (dirtied bool) {
	i := c.slot(t)
	if i < 0 {
		return false
	}
	sh, tl := &c.open[i], &c.tallies[i]
	sh.Merge(h)
	tl.n += h.Count()
	if h.Scale() == sketch.DefaultScale {
		tl.fast += h.CountAtOrBelow(c.threshold)
	} else {
		tl.coarse = true
	}
	if sh.Scale() != sketch.DefaultScale {
		tl.coarse = true
	}
	return c.verdicts[i].dirty
}

// tally counts the open slice at ring position i from its histogram, as
// restored.
func (c *sliceState) tally(i int) {
	h := &c.open[i]
	c.tallies[i] = sliceTally{n: h.Count(), coarse: h.Scale() != sketch.DefaultScale}
	if !c.tallies[i].coarse {
		c.tallies[i].fast = h.CountAtOrBelow(c.threshold)
	}
}

// placeFunc counts slice k's verdict new where old (zero for a slice not
// counted yet) was counted.
type placeFunc func(k int64, old, new sliceCount)

// advance closes every slice whose close has come by now, judging it if it
// has no verdict yet or a dirty one. Slices that close before horizon (the
// oldest time any of the SLO's windows still holds) are dropped unjudged:
// they would count nowhere.
func (c *sliceState) advance(now, horizon int64, place placeFunc) {
	if !c.born {
		c.born = true
		c.next = floorDiv(now, c.length)
		c.first = c.next
		c.nextClose = (c.next+1)*c.length + c.lateness
		c.judged = c.next
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
				clear(c.tallies)
				clear(c.verdicts)
			} else {
				for i := c.next; i < next; i++ {
					c.open[ring(i, m)].Reset()
					c.tallies[ring(i, m)] = sliceTally{}
					c.verdicts[ring(i, m)] = sliceVerdict{}
				}
			}
			c.next, c.nextClose = next, (next+1)*c.length+c.lateness
			c.judged = max(c.judged, next)
		}
	}
	for c.nextClose <= now {
		i := ring(c.next, m)
		c.settle(c.next, i, place)
		c.open[i].Reset()
		c.tallies[i] = sliceTally{}
		c.verdicts[i] = sliceVerdict{}
		c.next++
		c.nextClose += c.length
	}
	c.judged = max(c.judged, c.next)
}

// judge gives every slice that has ended by now a verdict, and judges the
// dirty ones again: what a read does, after advancing to now.
func (c *sliceState) judge(now int64, place placeFunc) {
	if !c.born {
		return
	}
	m := int64(len(c.open))
	if c.dirty {
		for k := c.next; k < c.judged; k++ {
			c.settle(k, ring(k, m), place)
		}
		c.dirty = false
	}
	for c.judged < c.next+m && (c.judged+1)*c.length <= now {
		c.settle(c.judged, ring(c.judged, m), place)
		c.judged++
	}
}

// settle judges slice k (at ring position i) if it has no verdict or a
// dirty one, and counts the change.
func (c *sliceState) settle(k, i int64, place placeFunc) {
	v := &c.verdicts[i]
	if k < c.judged && !v.dirty {
		return
	}
	n := c.verdict(i)
	if n != v.sliceCount {
		place(k, v.sliceCount, n)
	}
	v.sliceCount, v.dirty = n, false
}

// verdict judges the open slice at ring position i: one slice, bad or
// good, with its requests; nothing for an empty slice that EmptySkip
// leaves out.
func (c *sliceState) verdict(i int64) sliceCount {
	tl := &c.tallies[i]
	n := tl.n
	if n == 0 {
		switch c.empty {
		case EmptyBad:
			return sliceCount{n: counts{total: 1, bad: 1}}
		case EmptySkip:
			return sliceCount{}
		}
		return sliceCount{n: counts{total: 1}}
	}
	var good bool
	if tl.coarse {
		good = c.open[i].Quantile(c.pct) <= c.threshold
	} else {
		good = tl.fast >= sketch.Rank(c.pct, n)
	}
	if good {
		return sliceCount{n: counts{total: 1}, events: n}
	}
	return sliceCount{n: counts{total: 1, bad: 1}, events: n}
}

// at is the instant slice k counts at: its last.
func (c *sliceState) at(k int64) int64 { return (k+1)*c.length - 1 }
