package slo

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// Percentile windows: every flow keeps latency histograms for
// Options.PercentileWindows (default 5m, 1h, 1d) and for every window of its
// SLOs' tiers. Each window is cut into Options.PercentileSlots (default 12)
// slots, so it leaves out at most a twelfth of its oldest edge (windows of
// a day or longer: half as many slots, a sixth; see slotsFor); windows with
// the same slot width share one ring of slot histograms and each keeps a
// running total (an event is recorded in its slot and in the totals that
// hold it; a slot is subtracted from a total as it leaves the window).
//
// Windows up to Options.FinePercentilesUpTo (default: every window) record
// at sketch.DefaultScale (relative error ≤ 1.083%); longer ones at
// sketch.CoarseScale (≤ 4.33%), a quarter of the buckets. Every window is
// fine by default because the accuracy goal is for every window; a fleet
// that needs less memory per busy flow can trade the long windows' accuracy
// (a 30 d SLO's 1 d and 3 d windows coarse; BenchmarkMemoryPerFlow
// -args -fine-up-to 6h measures it).
var defaultPercentileWindows = []time.Duration{5 * time.Minute, time.Hour, 24 * time.Hour}

// longPercentileWindow is the shortest percentile window cut into half as
// many slots (see Options.PercentileSlots).
const longPercentileWindow = 24 * time.Hour

// slotsFor returns how many histogram slots a percentile window of
// duration d gets when Options.PercentileSlots is slots: half of them
// (rounded up) for a window of a day or longer. A slot of a long window
// is mostly sealed, and its encoding grows with the buckets its latencies
// span rather than with their count, so halving the slots of the two
// longest windows of the default tiers (1d, 3d) saves about a sixth of a
// busy flow's histogram memory; the counting windows are not affected.
func slotsFor(d time.Duration, slots int) int {
	if d >= longPercentileWindow {
		return (slots + 1) / 2
	}
	return slots
}

const (
	defaultPercentileSlots = 12
	defaultFineUpTo        = time.Duration(math.MaxInt64) // every window fine
)

// latency holds one flow's latency histograms.
type latency struct {
	// base divides every level's slot width and every slice length of the
	// flow's SLOs, so a delta keyed by base slot fits them all.
	base    int64
	levels  []*hlevel
	windows []*hwindow // by duration, shortest first
	fp      uint64     // fingerprint of the layout, for snapshots
	// next is the earliest time at which some level has work (its newest
	// slot ends, or one can be sealed), as of the last advance: before it,
	// advance has nothing to do. Levels only move forward, so a next
	// that is too early costs a pass, never a missed move.
	next int64
}

// hlevel is a ring of slot histograms of one width and scale.
type hlevel struct {
	res, n int64 // slot width (ns) and ring length
	per    int64 // res / base
	scale  int
	// slots are by absolute slot index mod n; nil for an empty slot
	// without storage, or a sealed one. slots and enc are nil until the
	// level first holds something (rings): most flows of a gateway with
	// many are quiet.
	slots []*sketch.Histogram
	// enc holds sealed slots: in a ring of sealFrom or longer, a slot no
	// event can reach any more (it ended more than the allowed lateness
	// ago) keeps only its compact encoding (sketch.AppendBinary: no spare
	// or wide counters) until it is touched again, by leaving a window,
	// which subtracts it, or by a delta.
	// Restore seals every slot, so a restart does not decode days of slots
	// up front. By ring position, like slots.
	enc [][]byte
	// sealed is the newest absolute slot index sealed; sealAt is when the
	// one after it can be (its end plus lateness).
	sealed, sealAt, lateness int64
	seals                    bool // the ring is long enough to seal (sealFrom)
	head, headStart          int64
	windows                  []*hwindow
}

// hwindow is a running total over the newest n slots of its level.
type hwindow struct {
	dur   time.Duration
	n     int64
	level *hlevel
	// total keeps cursors on its percentiles' buckets, so that reading a
	// busy window costs a few counters, not a walk over its buckets.
	total sketch.Tracked
	// pct are the total's percentiles, valid unless dirty: a quiet
	// window's percentiles are not computed again every evaluation.
	pct   Percentiles
	dirty bool
}

// newLatency lays out histograms for windows durs (any order, duplicates
// allowed) with slots slots each; sliceLens are the slice lengths of the
// flow's PercentileSlices SLOs, which the base must divide; slots older
// than lateness are sealed; windows longer than fineUpTo are coarse.
func newLatency(durs []time.Duration, slots int, sliceLens []int64, lateness int64, fineUpTo time.Duration) *latency {
	durs = slices.Clone(durs)
	slices.Sort(durs)
	durs = slices.Compact(durs)
	durs = slices.DeleteFunc(durs, func(d time.Duration) bool { return d <= 0 })
	l := &latency{}
	if len(durs) == 0 {
		l.base = 1
		for _, s := range sliceLens {
			l.base = gcd(s, l.base)
		}
		if len(sliceLens) == 0 {
			l.base = int64(time.Second)
		}
		l.fp = l.fingerprint()
		return l
	}
	rs := make([]int64, len(durs))
	for i, d := range durs {
		rs[i] = naturalRes(d, slotsFor(d, slots))
	}
	var res []int64
	l.base, res = nestedRes(rs, sliceLens...)
	// A flow's levels, windows and rings each lie in one block, so that an
	// evaluation, which visits them all, reads memory in order rather
	// than chasing a pointer per window into a heap of gigabytes.
	levels := make([]hlevel, 0, len(durs))
	windows := make([]hwindow, len(durs))
	for i, d := range durs {
		scale := sketch.DefaultScale
		if d > fineUpTo {
			scale = sketch.CoarseScale
		}
		var lv *hlevel
		for _, x := range l.levels {
			if x.res == res[i] && x.scale == scale {
				lv = x
			}
		}
		if lv == nil {
			levels = append(levels, hlevel{res: res[i], per: res[i] / l.base, scale: scale})
			lv = &levels[len(levels)-1]
			l.levels = append(l.levels, lv)
		}
		w := &windows[i]
		*w = hwindow{dur: d, n: windowSlots(d, res[i]), level: lv, dirty: true}
		w.total = *sketch.NewTracked(scale)
		lv.windows = append(lv.windows, w)
		lv.n = max(lv.n, w.n)
		l.windows = append(l.windows, w)
	}
	for _, lv := range l.levels {
		lv.seals = time.Duration(lv.n*lv.res) >= sealFrom
		lv.lateness = lateness
	}
	l.fp = l.fingerprint()
	return l
}

func (l *latency) fingerprint() uint64 {
	h := newFingerprint()
	h.int(l.base)
	for _, lv := range l.levels {
		h.int(lv.res)
		h.int(lv.n)
		h.int(int64(lv.scale))
		for _, w := range lv.windows {
			h.int(int64(w.dur))
			h.int(w.n)
		}
	}
	return h.sum()
}

// record adds an event of duration d at time t (at or before now) to every
// slot and running total that holds t.
func (l *latency) record(now, t int64, d int64) {
	for _, lv := range l.levels {
		lv.advance(now)
		k := lv.head
		if t < lv.headStart {
			if k = floorDiv(t, lv.res); k <= lv.head-lv.n {
				continue
			}
		}
		lv.slot(ring(k, lv.n)).Record(d)
		for _, w := range lv.windows {
			if k > lv.head-w.n {
				w.total.Record(d)
				w.dirty = true
			}
		}
	}
}

// recordSlot records latencies ds of base slot k in every slot and total
// that holds it; the levels must be advanced to k's start or later.
func (l *latency) recordSlot(k int64, ds []sketch.Prepared) {
	for _, lv := range l.levels {
		kl := floorDiv(k, lv.per)
		if kl <= lv.head-lv.n || kl > lv.head {
			continue
		}
		slot := lv.slot(ring(kl, lv.n))
		for _, d := range ds {
			slot.RecordPrepared(d)
		}
		for _, w := range lv.windows {
			if kl > lv.head-w.n {
				for _, d := range ds {
					w.total.RecordPrepared(d)
				}
				w.dirty = true
			}
		}
	}
}

// addSlot merges h, the events of base slot k, into every slot and total
// that holds it; the levels must be advanced to k's start or later.
func (l *latency) addSlot(k int64, h *sketch.Histogram) {
	for _, lv := range l.levels {
		kl := floorDiv(k, lv.per)
		if kl <= lv.head-lv.n || kl > lv.head {
			continue
		}
		lv.slot(ring(kl, lv.n)).Merge(h)
		for _, w := range lv.windows {
			if kl > lv.head-w.n {
				w.total.Merge(h)
				w.dirty = true
			}
		}
	}
}

func (l *latency) advance(now int64) {
	if now < l.next {
		return // most evaluations of a quiet flow
	}
	next := int64(math.MaxInt64)
	for _, lv := range l.levels {
		lv.advance(now)
		next = min(next, lv.headStart+lv.res)
		if lv.seals {
			next = min(next, lv.sealAt)
		}
	}
	l.next = next
}

// advance moves the level's newest slot to the one holding now: each slot
// that leaves a window is subtracted from its total, and each slot that
// leaves the ring is emptied for reuse.
func (lv *hlevel) advance(now int64) {
	if now < lv.headStart || now-lv.headStart >= lv.res {
		lv.move(floorDiv(now, lv.res))
	}
	if lv.seals && now >= lv.sealAt {
		lv.seal(now)
	}
}

func (lv *hlevel) move(k int64) {
	if k <= lv.head {
		return
	}
	// Unsigned, so that a jump too large for int64 also empties the ring.
	d := uint64(k - lv.head)
	if lv.slots == nil {
		// Nothing ever held: the totals are empty and stay so.
		lv.head, lv.headStart = k, k*lv.res
		return
	}
	for _, w := range lv.windows {
		if d >= uint64(w.n) {
			w.total.Reset()
			w.dirty = true
			continue
		}
		for i := lv.head + 1; i <= k; i++ {
			// A sealed slot is subtracted from its encoding: decoding it
			// would cost more, and would leave it decoded in the ring for
			// the level's longer windows.
			var err error
			j := ring(i-w.n, lv.n)
			switch {
			case lv.enc[j] != nil:
				err = w.total.SubtractBinary(lv.enc[j])
			case lv.slots[j] != nil && lv.slots[j].Count() > 0:
				err = w.total.Subtract(lv.slots[j])
			default:
				continue // an empty slot leaves the total as it was
			}
			w.dirty = true
			if err != nil {
				// Cannot happen while the total is the sum of its slots;
				// rebuild it from them rather than carry a wrong total.
				w.rebuild(lv.head, k)
				break
			}
		}
	}
	if d >= uint64(lv.n) {
		for i := range lv.slots {
			lv.reset(int64(i))
		}
	} else {
		for i := lv.head + 1; i <= k; i++ {
			lv.reset(ring(i, lv.n))
		}
	}
	lv.head, lv.headStart = k, k*lv.res
}

// slot returns the slot histogram at ring position i for writing,
// unsealing or creating it.
func (lv *hlevel) slot(i int64) *sketch.Histogram {
	if h := lv.filled(i); h != nil {
		return h
	}
	lv.rings()
	lv.slots[i] = sketch.New(lv.scale)
	return lv.slots[i]
}

// filled returns the slot histogram at ring position i, unsealing it, or
// nil when the slot has nothing.
func (lv *hlevel) filled(i int64) *sketch.Histogram {
	if lv.slots == nil {
		return nil
	}
	e := lv.enc[i]
	if e == nil {
		return lv.slots[i]
	}
	h := new(sketch.Histogram)
	// Sealed here or restored from a snapshot whose checksum held, so
	// this cannot fail short of a bug; an empty slot is the safe answer
	// then (a total it leaves inconsistent is rebuilt when a subtraction
	// fails).
	if err := h.UnmarshalBinary(e); err != nil || h.ConfiguredScale() != lv.scale {
		h = sketch.New(lv.scale)
	}
	lv.enc[i], lv.slots[i] = nil, h
	return h
}

// rings allocates the level's rings, if they are not yet.
func (lv *hlevel) rings() {
	if lv.slots == nil {
		lv.slots, lv.enc = make([]*sketch.Histogram, lv.n), make([][]byte, lv.n)
	}
}

// reset empties the slot at ring position i for reuse, keeping storage.
func (lv *hlevel) reset(i int64) {
	lv.enc[i] = nil
	if h := lv.slots[i]; h != nil {
		h.Reset()
	}
}

// seal encodes the slots that ended more than the allowed lateness before
// now, and frees their counters.
func (lv *hlevel) seal(now int64) {
	to := min(floorDiv(now-lv.lateness, lv.res)-1, lv.head-1)
	for k := max(lv.sealed+1, lv.head-lv.n+1); k <= to && lv.slots != nil; k++ {
		i := ring(k, lv.n)
		if h := lv.slots[i]; h != nil {
			if h.Count() > 0 {
				// Encode into scratch and keep an exact copy: a sealed
				// slot lives for up to a whole window, and an estimated
				// capacity is often twice what the encoding needs.
				bp := sealScratch.Get().(*[]byte)
				*bp, _ = h.AppendBinary((*bp)[:0])
				lv.enc[i] = slices.Clone(*bp)
				sealScratch.Put(bp)
			}
			lv.slots[i] = nil // an empty slot needs no counters either
		}
	}
	lv.sealed = max(lv.sealed, to)
	lv.sealAt = (lv.sealed+2)*lv.res + lv.lateness
}

// sealFrom is the shortest ring whose slots are sealed. A slot of a
// shorter ring (the 5 m window's 25 s slots) leaves it minutes after it
// could be sealed: encoding it, then reading the encoding to subtract it,
// cost more of every evaluation than its counters cost memory (a busy
// flow's 5 m ring holds about 2 KiB more unsealed), and its storage is
// reused when the ring comes round instead of allocated again.
const sealFrom = 30 * time.Minute

// sealScratch holds buffers for seal to encode into.
var sealScratch = sync.Pool{New: func() any { return new([]byte) }}

// rebuild recomputes the total, for a level about to move its head from
// head to k, from the slots it will hold that exist already.
func (w *hwindow) rebuild(head, k int64) {
	lv := w.level
	w.total.Reset()
	for i := max(k-w.n+1, head-lv.n+1); i <= head; i++ {
		if h := lv.filled(ring(i, lv.n)); h != nil {
			w.total.Merge(h)
		}
	}
}

// percentiles appends the percentiles of every window to dst, computing
// them for the windows that changed.
func (l *latency) percentiles(dst []Percentiles) []Percentiles {
	for _, w := range l.windows {
		if w.dirty {
			w.pct, w.dirty = percentilesOf(&w.total, w.dur), false
		}
		dst = append(dst, w.pct)
	}
	return dst
}

// percentileQs are the quantiles a Percentiles reports.
var percentileQs = [...]float64{0.5, 0.9, 0.95, 0.99, 0.999}

func percentilesOf(h *sketch.Tracked, w time.Duration) Percentiles {
	p := Percentiles{Window: w, Count: h.Count()}
	if p.Count == 0 {
		return p
	}
	// One walk over the buckets for all five (sketch.Quantiles returns
	// exactly what Quantile does for each).
	var v [len(percentileQs)]int64
	h.Quantiles(percentileQs[:], v[:])
	p.P50, p.P90, p.P95 = time.Duration(v[0]), time.Duration(v[1]), time.Duration(v[2])
	p.P99, p.P999 = time.Duration(v[3]), time.Duration(v[4])
	return p
}

// sizeBytes is the memory the flow's histograms hold.
func (l *latency) sizeBytes() int {
	n := 0
	for _, lv := range l.levels {
		n += 16 * len(lv.slots) // the pointer and the encoding's slice header
		for i, h := range lv.slots {
			if h != nil {
				n += h.SizeBytes()
			}
			n += cap(lv.enc[i])
		}
	}
	for _, w := range l.windows {
		n += w.total.SizeBytes()
	}
	return n
}
