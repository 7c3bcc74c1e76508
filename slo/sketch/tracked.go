package sketch

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// TrackedQuantiles is how many quantiles a Tracked answers without a walk.
const TrackedQuantiles = 5

// Tracked is a Histogram that keeps a cursor on the bucket of each quantile
// it was last asked for, so that a running window total, which changes by
// a few values between reads, answers its percentiles from a few counters
// instead of a walk over its buckets.
//
// A cursor is a bucket b and the exact number of values at or below it.
// Every Record, Merge and Subtract keeps that number exact, so a cursor is
// always a correct starting point: Quantiles moves it to the bucket that
// holds the asked rank, one bucket at a time, and returns exactly what
// Histogram.Quantiles returns. Between two reads of a busy window the
// cursors move by a bucket or two. A change of scale or a Reset drops the
// cursors, and the next read sets them with one walk.
//
// The zero value is an empty Tracked at DefaultScale. Like a Histogram it
// must not be copied once it holds data, and it is not safe for concurrent
// use.
type Tracked struct {
	h   Histogram
	cur [TrackedQuantiles]cursor
	// set says the cursors are valid at scale, h's scale when they were
	// set.
	set   bool
	scale int8
}

// cursor is a bucket b, le, the number of values (the zero bucket's
// included) in it and below it, and n, the count of b itself unless it is
// unknownN: with n at hand, a cursor that stays put reads no counter.
type cursor struct {
	le uint64
	b  int32
	n  uint32
}

// unknownN is a cursor's n when b's count does not fit (or was not known
// when the cursor moved there without reading it).
const unknownN = ^uint32(0)

// at returns the count of the cursor's bucket.
func (t *Tracked) at(c cursor) uint64 {
	if c.n != unknownN {
		return uint64(c.n)
	}
	return t.h.c.at(c.b - t.h.base)
}

// setN sets the cursor's n to count, or unknownN if it does not fit.
func (c *cursor) setN(count uint64) {
	c.n = uint32(min(count, uint64(unknownN)))
}

// NewTracked returns an empty Tracked at the given scale with
// DefaultMaxBuckets. It panics if scale is outside [MinScale, MaxScale].
func NewTracked(scale int) *Tracked {
	return &Tracked{h: *New(scale)}
}

// Histogram returns the histogram, for reading: changing it other than
// through t would leave the cursors wrong.
func (t *Tracked) Histogram() *Histogram { return &t.h }

// Count returns the number of recorded values.
func (t *Tracked) Count() uint64 { return t.h.count }

// Scale returns the current scale (see Histogram.Scale).
func (t *Tracked) Scale() int { return t.h.Scale() }

// ConfiguredScale returns the scale t was created with.
func (t *Tracked) ConfiguredScale() int { return t.h.ConfiguredScale() }

// SizeBytes returns the memory t holds.
func (t *Tracked) SizeBytes() int {
	return int(unsafe.Sizeof(*t)) - int(unsafe.Sizeof(t.h)) + t.h.SizeBytes()
}

// valid reports whether the cursors can be kept up to date, dropping them
// if the histogram's scale changed under them.
func (t *Tracked) valid() bool {
	if t.set && t.h.Scale() != int(t.scale) {
		t.set = false
	}
	return t.set
}

// Record adds one value, as Histogram.Record.
func (t *Tracked) Record(v int64) { t.RecordPrepared(Prepare(v)) }

// RecordPrepared adds p's value, as Histogram.RecordPrepared.
func (t *Tracked) RecordPrepared(p Prepared) {
	t.h.RecordPrepared(p)
	if !t.valid() {
		return
	}
	if p.v <= 0 {
		for k := range t.cur {
			t.cur[k].le++
		}
		return
	}
	idx := p.i8 >> (uint(MaxScale-int(t.scale)) & 31)
	for k := range t.cur {
		c := &t.cur[k]
		if idx <= c.b {
			c.le++
			if idx == c.b && c.n != unknownN {
				c.n++
			}
		}
	}
}

// Merge adds o's data to t, as Histogram.Merge.
func (t *Tracked) Merge(o *Histogram) {
	if o == &t.h {
		o = o.Clone()
	}
	t.h.Merge(o)
	if t.valid() {
		t.count(o, false)
	}
}

// Subtract removes o's data from t, as Histogram.Subtract, and leaves t
// unchanged when it returns an error.
func (t *Tracked) Subtract(o *Histogram) error {
	if o == &t.h {
		t.set = false
		return t.h.Subtract(o)
	}
	if err := t.h.Subtract(o); err != nil {
		return err
	}
	if t.valid() {
		t.count(o, true)
	}
	return nil
}

// count adds (or with sub, subtracts) o's values at or below each cursor
// to its le, and o's count of the cursor's bucket to its n, in one walk
// over o's buckets: the cursors are ascending.
func (t *Tracked) count(o *Histogram, sub bool) {
	d := o.Scale() - int(t.scale)
	if d < 0 {
		// Merge and Subtract lower t's scale to a coarser o's, so this
		// cannot happen; dropping the cursors is the safe answer.
		t.set = false
		return
	}
	// below counts o's values below target bucket tb, in counts those in
	// it.
	below, in, tb := o.zero, uint64(0), int32(0)
	k := 0
	if o.n > 0 {
		tb = o.lo >> d
		for i := o.lo; i <= o.hi() && k < len(t.cur); i++ {
			if i>>d != tb {
				below, in, tb = below+in, 0, i>>d
			}
			for k < len(t.cur) && t.cur[k].b < tb {
				t.update(k, below+in, 0, sub)
				k++
			}
			in += o.c.at(i - o.base)
			// Cursors on tb take it when the walk leaves tb.
			if i == o.hi() || (i+1)>>d != tb {
				for k < len(t.cur) && t.cur[k].b == tb {
					t.update(k, below+in, in, sub)
					k++
				}
			}
		}
	}
	for ; k < len(t.cur); k++ {
		t.update(k, below+in, 0, sub)
	}
}

// update adds (or subtracts) le to cursor k's le and n to its n.
func (t *Tracked) update(k int, le, n uint64, sub bool) {
	c := &t.cur[k]
	if sub {
		c.le -= le
	} else {
		c.le += le
	}
	if c.n == unknownN || n == 0 {
		return
	}
	if sub {
		c.n -= uint32(n) // n <= c.n: c.n counts all of bucket b
	} else {
		c.setN(uint64(c.n) + n)
	}
}

// Reset empties t, as Histogram.Reset.
func (t *Tracked) Reset() {
	t.h.Reset()
	t.set = false
}

// AppendBinary appends t's histogram's encoding (Histogram.AppendBinary).
func (t *Tracked) AppendBinary(b []byte) ([]byte, error) { return t.h.AppendBinary(b) }

// UnmarshalBinary replaces t's data with an encoded histogram
// (Histogram.UnmarshalBinary).
func (t *Tracked) UnmarshalBinary(b []byte) error {
	t.set = false
	return t.h.UnmarshalBinary(b)
}

// Quantiles sets out[k] to Quantile(qs[k]), exactly as
// Histogram.Quantiles does. Up to TrackedQuantiles ascending quantiles are
// found by moving the cursors from where the last call left them; more, or
// another order, take the walk.
func (t *Tracked) Quantiles(qs []float64, out []int64) {
	h := &t.h
	out = out[:len(qs)]
	if len(qs) != TrackedQuantiles || h.count == 0 || h.n == 0 {
		h.Quantiles(qs, out)
		return
	}
	var ranks [TrackedQuantiles]uint64
	for k, q := range qs {
		ranks[k] = Rank(q, h.count)
		if k > 0 && ranks[k] < ranks[k-1] {
			h.Quantiles(qs, out)
			return
		}
	}
	if !t.valid() {
		// Every cursor on the highest bucket, which holds them all:
		// moving them below walks the buckets once, top down.
		top := cursor{b: h.hi(), le: h.count}
		top.setN(h.c.at(top.b - h.base))
		for k := range t.cur {
			t.cur[k] = top
		}
		t.set, t.scale = true, h.dscale+DefaultScale
	}
	scale := h.Scale()
	// From the highest down, so that after a reset each cursor starts
	// where the one above it stopped.
	// A cursor never starts above the one after it, so they stay
	// ascending, as count needs.
	for k := len(t.cur) - 1; k >= 0; k-- {
		c := t.cur[k]
		if k < len(t.cur)-1 && t.cur[k+1].b < c.b {
			c = t.cur[k+1]
		}
		if r := ranks[k]; r > h.zero {
			c = t.move(c, r)
			out[k] = representativeInt64(c.b, scale)
		} else {
			out[k] = 0
		}
		t.cur[k] = c
	}
}

// move returns the cursor moved to the bucket holding rank r, which is
// above the zero bucket and at most the count: the lowest bucket b with at
// least r values at or below it.
func (t *Tracked) move(c cursor, r uint64) cursor {
	h := &t.h
	lo, hi := h.lo, h.hi()
	// Subtraction may have emptied the cursor's bucket and those around it,
	// out of the range; its le still counts right.
	switch {
	case c.b > hi:
		c = cursor{b: hi, le: h.count, n: unknownN}
	case c.b < lo:
		c = cursor{b: lo - 1, le: h.zero, n: 0}
	}
	for c.le < r {
		c.b++
		n := h.c.at(c.b - h.base)
		c.le += n
		c.setN(n)
	}
	for c.b > lo {
		n := t.at(c)
		c.setN(n)
		if c.le-n < r {
			break
		}
		c.le -= n
		c.b--
		c.n = unknownN
	}
	return c
}

// SubtractBinary removes a histogram in its binary form (AppendBinary)
// from t, as Subtract would after decoding it, without decoding it into a
// Histogram: a sealed ring slot leaving its window is read once, in place.
// It returns an error wrapping ErrCorrupt for data that is not a histogram
// and one wrapping ErrNotContained as Subtract does; t is unchanged then.
func (t *Tracked) SubtractBinary(data []byte) error {
	d, err := decodeHeader(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	h := &t.h
	if d.n == 0 || d.scale != h.Scale() {
		// Rare (a slot with only zero values, or scales apart): decode.
		o := new(Histogram)
		if err := o.UnmarshalBinary(data); err != nil {
			return err
		}
		return t.Subtract(o)
	}
	if err := h.holdsTotals(d.zero, d.count, d.sumHi, d.sumLo); err != nil {
		return err
	}
	hi := d.lo + d.n - 1
	if h.n == 0 || d.lo < h.lo || hi > h.hi() {
		return fmt.Errorf("%w: buckets %d..%d outside %v", ErrNotContained, d.lo, hi, h)
	}
	// One pass that subtracts as it goes and, should a bucket hold less
	// than the data removes, adds back what it took: the buckets of a
	// window total are cold, so they are read once.
	rest := d.counts
	for i := d.lo; i <= hi; i++ {
		n, k := binary.Uvarint(rest)
		rest = rest[k:]
		if have := h.c.at(i - h.base); have < n {
			undo := d.counts
			for j := d.lo; j < i; j++ {
				m, k := binary.Uvarint(undo)
				undo = undo[k:]
				h.c.add(j-h.base, m) // restores, cannot overflow
			}
			return fmt.Errorf("%w: bucket %d at scale %d holds %d, cannot remove %d", ErrNotContained, i, h.Scale(), have, n)
		}
		h.c.sub(i-h.base, n)
	}
	if t.valid() {
		t.countBinary(d)
	}
	h.trim()
	h.subTotals(d.zero, d.count, d.sumHi, d.sumLo)
	return nil
}

// countBinary subtracts the values of d, a decoded histogram at t's scale,
// at or below each cursor from its le, and those in its bucket from its n.
func (t *Tracked) countBinary(d decoded) {
	rest := d.counts
	acc, k := d.zero, 0
	for i := d.lo; i < d.lo+d.n && k < len(t.cur); i++ {
		n, m := binary.Uvarint(rest)
		rest = rest[m:]
		for k < len(t.cur) && t.cur[k].b < i {
			t.cur[k].le -= acc
			k++
		}
		acc += n
		for k < len(t.cur) && t.cur[k].b == i {
			if t.cur[k].le -= acc; t.cur[k].n != unknownN {
				t.cur[k].n -= uint32(n) // n <= the bucket's count, which n holds
			}
			k++
		}
	}
	for ; k < len(t.cur); k++ {
		t.cur[k].le -= acc
	}
}
