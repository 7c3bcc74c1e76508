package slo

import "time"

// counts are exact event counts; good is total - bad. Slice SLOs count
// slices in them instead of events.
type counts struct {
	total, bad uint64
}

func (c *counts) add(o counts) { c.total += o.total; c.bad += o.bad }
func (c *counts) sub(o counts) { c.total -= o.total; c.bad -= o.bad }

// sliceCount is what a judged time slice adds where it is counted: one
// slice, good or bad (none for an empty slice EmptySkip leaves out), and
// the requests the slice held, which the minimum-traffic guard counts.
type sliceCount struct {
	n      counts
	events uint64
}

// window keeps exact counts over the last n slots of width res, the newest
// slot being the one that holds "now". It covers [(head-n+1)·res, now]: a
// subset of (now-dur, now], so nothing from outside the window is counted and
// at most one slot's width of its oldest edge is left out (plus dur - n·res
// when res does not divide dur, see newWindowRes). The running total is kept
// exact by adding each event to it and subtracting each slot as it leaves.
type window struct {
	dur time.Duration
	res int64 // slot width, ns
	per int64 // res over the SLO's base slot width
	n   int64
	// slots is the ring, indexed by absolute slot index mod n; nil until
	// the window first counts something (slotRing): on a gateway with many
	// flows most are quiet, and a quiet SLO's rings were most of its
	// memory.
	slots []counts
	head  int64 // absolute index of the newest slot
	// headStart is head·res: events at or after it land in the newest slot
	// without a division on the hot path.
	headStart int64
	sum       counts
	// ev counts the requests of a time-slice SLO's judged slices (nil for
	// an event-based SLO, whose slots count the requests themselves). Out
	// of line, so that the windows every evaluation reads stay small.
	ev *windowEvents
}

// windowEvents are the requests of the judged slices in each slot of a
// time-slice SLO's window (a ring like the window's slots) and their sum:
// the window's slots count slices, the minimum-traffic guard requests.
type windowEvents struct {
	slots []uint64
	sum   uint64
}

// naturalRes is the slot width that cuts dur into slots slots: dur/slots,
// or 1 ns for a window of a few nanoseconds.
func naturalRes(dur time.Duration, slots int) int64 {
	n := int64(slots)
	if int64(dur) < n {
		n = int64(dur)
	}
	return int64(dur) / n
}

func newWindow(dur time.Duration, slots int) *window {
	return newWindowRes(dur, naturalRes(dur, slots))
}

// newWindowRes returns a window of floor(dur/res) slots of width res. When
// res does not divide dur the window is a little shorter than dur, never
// longer.
func newWindowRes(dur time.Duration, res int64) *window {
	n := windowSlots(dur, res)
	return &window{dur: dur, res: res, per: 1, n: n}
}

// slotRing returns the window's ring, allocating it on first use.
func (w *window) slotRing() []counts {
	if w.slots == nil {
		w.slots = make([]counts, w.n)
	}
	return w.slots
}

// slotAt returns the counts of the ring's position j (zero while the ring
// is not allocated).
func (w *window) slotAt(j int64) counts {
	if w.slots == nil {
		return counts{}
	}
	return w.slots[j]
}

// windowSlots is how many slots of width res a window of duration dur has.
func windowSlots(dur time.Duration, res int64) int64 { return max(int64(dur)/res, 1) }

// floorDiv is ⌊t/d⌋ for d > 0, also for negative t.
func floorDiv(t, d int64) int64 {
	if t >= 0 {
		return t / d
	}
	return (t - d + 1) / d
}

// ring is the position of absolute slot k in a ring of n: k mod n, also
// for slots before the epoch.
func ring(k, n int64) int64 {
	if r := k % n; r >= 0 {
		return r
	}
	return k%n + n
}

// slot is the absolute slot index of time t (ns since the Unix epoch).
func (w *window) slot(t int64) int64 { return floorDiv(t, w.res) }

// advance moves the newest slot to the one holding now, subtracting each slot
// that leaves the window and clearing it for reuse.
func (w *window) advance(now int64) {
	if now >= w.headStart && now-w.headStart < w.res {
		return // still in the newest slot: the hot path
	}
	w.advanceTo(w.slot(now))
}

func (w *window) advanceTo(k int64) {
	if k <= w.head {
		return
	}
	// Unsigned, so that a jump too large for int64 also clears the ring.
	if uint64(k-w.head) >= uint64(w.n) {
		clear(w.slots)
		w.sum = counts{}
		if w.ev != nil {
			clear(w.ev.slots)
			w.ev.sum = 0
		}
	} else if w.slots != nil {
		for i := w.head + 1; i <= k; i++ {
			s := &w.slots[ring(i, w.n)]
			w.sum.sub(*s)
			*s = counts{}
		}
	}
	if uint64(k-w.head) < uint64(w.n) {
		if ev := w.ev; ev != nil {
			for i := w.head + 1; i <= k; i++ {
				j := ring(i, w.n)
				ev.sum -= ev.slots[j]
				ev.slots[j] = 0
			}
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
		s = &w.slotRing()[ring(w.head, w.n)]
	} else {
		k := w.slot(t)
		if k <= w.head-w.n {
			return
		}
		s = &w.slotRing()[ring(k, w.n)]
	}
	s.total++
	w.sum.total++
	if bad {
		s.bad++
		w.sum.bad++
	}
}

// addSlot adds c to the window's slot k, if the window holds it: how
// deltas, judged slices and restored data come in.
func (w *window) addSlot(k int64, c counts) {
	if k <= w.head-w.n || k > w.head || c == (counts{}) {
		return
	}
	w.slotRing()[ring(k, w.n)].add(c)
	w.sum.add(c)
}

// reviseSlice replaces, in slot k if the window holds it, a judged
// slice's counts old (zero when it was not counted yet) with new: how a
// slice is counted when judged, and recounted when late events change it.
func (w *window) reviseSlice(k int64, old, new sliceCount) {
	if k <= w.head-w.n || k > w.head {
		return
	}
	j := ring(k, w.n)
	slots := w.slotRing()
	slots[j].sub(old.n)
	slots[j].add(new.n)
	w.sum.sub(old.n)
	w.sum.add(new.n)
	// Unsigned arithmetic wraps: the slot holds old, so the result is
	// exact.
	w.ev.slots[j] += new.events - old.events
	w.ev.sum += new.events - old.events
}

// start is the first instant the window covers.
func (w *window) start() int64 { return (w.head - w.n + 1) * w.res }

// stats returns the window's counts and burn rate against budget 1-target,
// for an event-based SLO; sloState.stats for any.
func (w *window) stats(budget float64) WindowStats {
	return WindowStats{Window: w.dur, Total: w.sum.total, Bad: w.sum.bad, Events: w.sum.total, Burn: burnRate(w.sum, budget)}
}

func burnRate(c counts, budget float64) float64 {
	if c.total == 0 {
		return 0
	}
	return float64(c.bad) / float64(c.total) / budget
}

// gcd is the greatest common divisor of two positive integers.
func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// minBase is the finest base resolution an SLO or a flow is given without
// need: a finer one would cut deltas into many tiny slots.
const minBase = int64(time.Second)

// nestedRes picks a base resolution and, for each natural slot width in rs,
// a width that is a multiple of it, so that every window's slots are unions
// of whole base slots (all aligned to the Unix epoch). That makes a delta
// keyed by base slot land in the same slot of every window, whatever its
// resolution. With the usual durations (multiples of a minute) the greatest
// common divisor of the natural widths is the base and no width changes;
// otherwise the finest natural width is the base and the others are rounded
// down to multiples of it, which keeps each window within its duration.
func nestedRes(rs []int64, must ...int64) (base int64, out []int64) {
	g, rmin := int64(0), int64(0)
	for _, r := range rs {
		g = gcd(r, g)
		if rmin == 0 || r < rmin {
			rmin = r
		}
	}
	for _, m := range must {
		g = gcd(m, g)
	}
	out = make([]int64, len(rs))
	copy(out, rs)
	if g >= min(rmin, minBase) || rmin == 0 {
		return g, out
	}
	base = rmin
	for _, m := range must {
		base = gcd(m, base)
	}
	for i, r := range out {
		out[i] = max(r/base, 1) * base
	}
	return base, out
}
