package slo

import (
	"cmp"
	"math"
	"slices"
)

// rebin fills w, a fresh window, from the windows old of a snapshot of the
// same SLO written with other windows (its tiers or period changed): a
// reload or a restart keeps the counts, which do not depend on the target,
// the tiers or the period, and rebuilds each window from the snapshot's.
//
// Slots are aligned to the Unix epoch, so a source slot lies inside one of
// w's when the source's slot width divides w's: such sources rebuild w
// exactly. w is filled from its newest slot back, each stretch from the
// first source that reaches further back than those before it, exact
// sources first, finer first. A source hands over to the next at a time
// that is a slot boundary of both, so no event is counted twice or left
// out; a slot of a source that is not exact counts in the slot of w holding
// its start, at most one source slot early. The part of w older than every
// source starts empty, as the whole window would for a new SLO.
func (w *window) rebin(old []*window) {
	exact := func(o *window) bool { return w.res%o.res == 0 }
	srcs := slices.Clone(old)
	slices.SortStableFunc(srcs, func(a, b *window) int {
		if ea, eb := exact(a), exact(b); ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.res, b.res)
	})
	// Only sources that reach further back than the ones before them.
	reach := int64(math.MaxInt64)
	srcs = slices.DeleteFunc(srcs, func(o *window) bool {
		if o.oldest() >= reach {
			return true
		}
		reach = o.oldest()
		return false
	})
	if len(srcs) == 0 {
		return
	}
	newest := int64(math.MinInt64)
	for _, o := range srcs {
		newest = max(newest, o.headStart)
	}
	w.head = floorDiv(newest, w.res)
	w.headStart = w.head * w.res
	// filled is the start of the oldest time filled so far.
	filled := int64(math.MaxInt64)
	for i, o := range srcs {
		stop := o.oldest()
		if i+1 < len(srcs) {
			// Hand over at the oldest boundary of both slot widths.
			if l, ok := lcm(o.res, srcs[i+1].res); ok {
				stop = -floorDiv(-stop, l) * l
			}
		}
		for j := o.head; j > o.head-o.n && j*o.res >= stop; j-- {
			if (j+1)*o.res > filled {
				continue
			}
			k := floorDiv(j*o.res, w.res)
			if k <= w.head-w.n {
				break
			}
			r := ring(j, o.n)
			if c := o.slotAt(r); c != (counts{}) {
				w.slotRing()[ring(k, w.n)].add(c)
				w.sum.add(c)
			}
			if w.ev != nil && o.ev != nil {
				w.ev.slots[ring(k, w.n)] += o.ev.slots[r]
				w.ev.sum += o.ev.slots[r]
			}
		}
		filled = min(filled, stop)
	}
}

// lcm is the least common multiple of a, b > 0, if it fits an int64.
func lcm(a, b int64) (int64, bool) {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	l := a / x * b
	return l, l/b == a/x
}

// oldest is the start of the oldest slot the window holds.
func (w *window) oldest() int64 { return (w.head - w.n + 1) * w.res }

// isPeriod says [start, end) is one of c's periods: a snapshot's calendar
// period is kept across a spec change only when the calendar is the same.
func (c *calendarWindow) isPeriod(start, end int64) bool {
	s, e := c.bounds(start)
	return s == start && e == end
}
