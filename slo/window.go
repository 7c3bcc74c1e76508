package slo

import "time"

// counts are exact event counts; good is total - bad.
type counts struct {
	total, bad uint64
}

func (c *counts) add(o counts) { c.total += o.total; c.bad += o.bad }
func (c *counts) sub(o counts) { c.total -= o.total; c.bad -= o.bad }

// window keeps exact counts over the last n slots of width res, the newest
// slot being the one that holds "now". It covers [(head-n+1)·res, now]: a
// subset of (now-dur, now], so nothing from outside the window is counted and
// at most one slot's width of its oldest edge is left out. The running total
// is kept exact by adding each event to it and subtracting each slot as it
// leaves.
type window struct {
	dur   time.Duration
	res   int64 // slot width, ns
	n     int64
	slots []counts // ring indexed by absolute slot index mod n
	head  int64    // absolute index of the newest slot
	// headStart is head·res: events at or after it land in the newest slot
	// without a division on the hot path.
	headStart int64
	sum       counts
}

func newWindow(dur time.Duration, slots int) *window {
	n := int64(slots)
	if int64(dur) < n {
		n = int64(dur) // a window of a few ns: one slot per ns
	}
	res := int64(dur) / n
	return &window{dur: dur, res: res, n: n, slots: make([]counts, n)}
}

// slot is the absolute slot index of time t (ns since the Unix epoch).
func (w *window) slot(t int64) int64 {
	if t >= 0 {
		return t / w.res
	}
	return (t - w.res + 1) / w.res
}

// advance moves the newest slot to the one holding now, subtracting each slot
// that leaves the window and clearing it for reuse.
func (w *window) advance(now int64) {
	if now >= w.headStart && now-w.headStart < w.res {
		return // still in the newest slot: the hot path
	}
	k := w.slot(now)
	if k <= w.head {
		return
	}
	if k-w.head >= w.n {
		clear(w.slots)
		w.sum = counts{}
	} else {
		for i := w.head + 1; i <= k; i++ {
			s := &w.slots[i%w.n]
			w.sum.sub(*s)
			*s = counts{}
		}
	}
	w.head = k
	w.headStart = k * w.res
}

// add counts one event at time t; the window must already be advanced to a
// time at or after t. Events older than the window's oldest slot are not its
// business.
func (w *window) add(t int64, bad bool) {
	var s *counts
	if t >= w.headStart {
		s = &w.slots[w.head%w.n]
	} else {
		k := w.slot(t)
		if k <= w.head-w.n {
			return
		}
		s = &w.slots[k%w.n]
	}
	s.total++
	w.sum.total++
	if bad {
		s.bad++
		w.sum.bad++
	}
}

// stats returns the window's counts and burn rate against budget 1-target.
func (w *window) stats(budget float64) WindowStats {
	return WindowStats{Window: w.dur, Total: w.sum.total, Bad: w.sum.bad, Burn: burnRate(w.sum, budget)}
}

func burnRate(c counts, budget float64) float64 {
	if c.total == 0 {
		return 0
	}
	return float64(c.bad) / float64(c.total) / budget
}
