package sketch

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"unsafe"
)

// DefaultMaxBuckets bounds the buckets a Histogram spans before it halves its
// scale: 1024 buckets are 32 powers of two at DefaultScale (1 µs to 71 min),
// wider than any one flow's honest latencies, so only garbage durations cost
// precision. Storage grows with the range actually seen, not with this bound.
const DefaultMaxBuckets = 1024

// MaxBucketsLimit is the largest bucket bound a Histogram accepts: every
// int64 fits in 16129 buckets at MaxScale.
const MaxBucketsLimit = 1 << 14

// minMaxBuckets is the smallest bucket bound: at MinScale all of int64 needs
// two buckets, so downscaling always makes data fit.
const minMaxBuckets = 2

// ErrNotContained is returned by Subtract when the histogram does not hold
// everything it is asked to remove.
var ErrNotContained = errors.New("sketch: subtrahend not contained in histogram")

// Histogram is a base-2 exponential histogram of durations in nanoseconds.
//
// The zero value is an empty histogram at DefaultScale with
// DefaultMaxBuckets, ready to use, so rings of histograms need no
// initialisation. A Histogram must not be copied once it holds data (the
// copy would share counters); use Clone or CopyFrom. It is not safe for
// concurrent use.
type Histogram struct {
	c counters
	// count is zero plus every bucket count.
	count uint64
	zero  uint64
	// sumHi:sumLo is the exact 128-bit sum of recorded values, so Subtract
	// restores it exactly and it cannot overflow in practice.
	sumLo, sumHi uint64
	// base is the bucket index at counter position 0, a multiple of 8 so
	// that moving data by whole words never splits a word.
	base int32
	// lo is the lowest bucket index with a non-zero count and n the number of
	// buckets from lo to the highest such; n == 0 when no bucket holds a
	// count. Keeping the range tight lets Record check it with one compare.
	lo, n int32
	// maxb is the bucket bound; 0 means DefaultMaxBuckets.
	maxb int32
	// dscale and dconf are the current and the configured scale minus
	// DefaultScale, so that the zero value has DefaultScale.
	dscale, dconf int8
}

// New returns an empty histogram at the given scale with DefaultMaxBuckets.
// It panics if scale is outside [MinScale, MaxScale].
func New(scale int) *Histogram {
	return NewWithMaxBuckets(scale, DefaultMaxBuckets)
}

// NewWithMaxBuckets returns an empty histogram at the given scale that halves
// its scale whenever its data would span more than maxBuckets buckets. It
// panics if scale is outside [MinScale, MaxScale] or maxBuckets outside
// [2, MaxBucketsLimit]: both are choices of code, not of input.
func NewWithMaxBuckets(scale, maxBuckets int) *Histogram {
	checkScale(scale)
	if maxBuckets < minMaxBuckets || maxBuckets > MaxBucketsLimit {
		panic(fmt.Sprintf("sketch: max buckets %d outside [%d, %d]", maxBuckets, minMaxBuckets, MaxBucketsLimit))
	}
	d := int8(scale - DefaultScale)
	return &Histogram{dscale: d, dconf: d, maxb: int32(maxBuckets)}
}

// Scale returns the current scale. It is below ConfiguredScale after the
// data outgrew the bucket bound, after Downscale, or after merging a coarser
// histogram; Reset restores the configured scale.
func (h *Histogram) Scale() int { return DefaultScale + int(h.dscale) }

// ConfiguredScale returns the scale the histogram was created with.
func (h *Histogram) ConfiguredScale() int { return DefaultScale + int(h.dconf) }

// MaxBuckets returns the bucket bound.
func (h *Histogram) MaxBuckets() int {
	if h.maxb == 0 {
		return DefaultMaxBuckets
	}
	return int(h.maxb)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.count }

// ZeroCount returns the number of recorded values that were zero or negative.
func (h *Histogram) ZeroCount() uint64 { return h.zero }

// Sum returns the sum of recorded values in nanoseconds (non-positive values
// count as zero), rounded to float64. The histogram keeps it exactly.
func (h *Histogram) Sum() float64 {
	return math.Ldexp(float64(h.sumHi), 64) + float64(h.sumLo)
}

// SizeBytes returns the memory the histogram holds: the struct and its
// counter storage.
func (h *Histogram) SizeBytes() int {
	return int(unsafe.Sizeof(*h)) + cap(h.c.words)*8
}

// Record adds one value, a duration in nanoseconds. Values <= 0 (a zero
// duration, or clock skew) go to the zero bucket. It does not allocate once
// the histogram's storage covers the data's range.
func (h *Histogram) Record(v int64) {
	// The fast path handles a positive value in the current range whose
	// counter does not overflow; everything else goes to RecordN, which
	// keeps this function small enough for the compiler to avoid spills.
	if v <= 0 || !h.recordFast(v, index8(uint64(v))) {
		h.RecordN(v, 1)
	}
}

// Prepared is a value with its scale-8 bucket index computed once, for
// recording it into several histograms (a flow's ring slots and window
// totals) without mapping it again for each.
type Prepared struct {
	v  int64
	i8 int32 // valid when v > 0
}

// Prepare maps v to its bucket once.
func Prepare(v int64) Prepared {
	if v <= 0 {
		return Prepared{v: v}
	}
	return Prepared{v: v, i8: index8(uint64(v))}
}

// RecordPrepared records p's value, as Record does.
func (h *Histogram) RecordPrepared(p Prepared) {
	if p.v <= 0 || !h.recordFast(p.v, p.i8) {
		h.RecordN(p.v, 1)
	}
}

// recordFast records positive v, whose scale-8 index is i8, if its bucket
// is in the current range and its counter does not overflow, and reports
// whether it did.
func (h *Histogram) recordFast(v int64, i8 int32) bool {
	idx := i8 >> (uint(MaxScale-DefaultScale-int(h.dscale)) & 31)
	if uint32(idx-h.lo) < uint32(h.n) && h.c.add(idx-h.base, 1) {
		h.count++
		var carry uint64
		h.sumLo, carry = bits.Add64(h.sumLo, uint64(v), 0)
		h.sumHi += carry
		return true
	}
	return false
}

// RecordN adds n copies of v, as from a pre-aggregated source.
func (h *Histogram) RecordN(v int64, n uint64) {
	if n == 0 {
		return
	}
	h.count += n
	if v <= 0 {
		h.zero += n
		return
	}
	idx := index8(uint64(v)) >> (uint(MaxScale-DefaultScale-int(h.dscale)) & 31)
	if uint32(idx-h.lo) >= uint32(h.n) {
		idx = h.extend(idx)
	}
	if p := idx - h.base; !h.c.add(p, n) {
		h.c.addWiden(p, n)
	}
	hi, lo := bits.Mul64(uint64(v), n)
	h.addSum(hi, lo)
}

func (h *Histogram) addSum(hi, lo uint64) {
	var carry uint64
	h.sumLo, carry = bits.Add64(h.sumLo, lo, 0)
	h.sumHi += hi + carry
}

// hi returns the highest non-empty bucket index; valid when n > 0.
func (h *Histogram) hi() int32 { return h.lo + h.n - 1 }

// extend makes bucket idx part of the range, downscaling if the range would
// exceed the bucket bound, and returns idx at the possibly new scale.
func (h *Histogram) extend(idx int32) int32 {
	lo, hi := idx, idx
	if h.n > 0 {
		lo, hi = min(lo, h.lo), max(hi, h.hi())
	}
	if d := h.fitShift(lo, hi); d > 0 {
		h.downscale(d)
		idx, lo, hi = idx>>d, lo>>d, hi>>d
	}
	h.cover(lo, hi)
	h.lo, h.n = lo, hi-lo+1
	return idx
}

// fitShift returns by how much the scale must drop for buckets lo..hi to fit
// the bucket bound.
func (h *Histogram) fitShift(lo, hi int32) int {
	d, limit := 0, int64(h.MaxBuckets())
	for int64(hi>>d)-int64(lo>>d)+1 > limit && h.Scale()-d > MinScale {
		d++
	}
	return d
}

// cover makes the counter storage span bucket indices lo..hi (a superset of
// the current range), moving the counts if it must.
func (h *Histogram) cover(lo, hi int32) {
	size := h.c.len()
	if lo >= h.base && int64(hi) < int64(h.base)+int64(size) {
		return
	}
	width := hi - lo + 1
	if h.n == 0 && width+7 <= size {
		// Nothing to move: re-centre the existing storage on the new data.
		// The 7 spare buckets absorb aligning the base down.
		h.base = alignDown(lo - (size-width)/2)
		if int64(h.base)+int64(size) <= int64(hi) {
			h.base = alignDown(lo)
		}
		return
	}
	// Leave room on both sides so a distribution that is still filling in
	// its tails does not move on every new bucket; 64 buckets (two powers of
	// two at DefaultScale) first, since most latency data needs that much.
	newSize := int32(64)
	if size > 0 || width > newSize-8 {
		newSize = width + min(max(width/2, 16), 128)
	}
	newSize = (newSize + 7) &^ 7
	base := alignDown(lo - (newSize-width)/2)
	if int64(base)+int64(newSize) <= int64(hi) {
		base = alignDown(lo)
	}
	c := counters{words: make([]uint64, int(newSize)>>(3-h.c.wsh)), wsh: h.c.wsh}
	for i := h.lo; i < h.lo+h.n; i++ {
		if n := h.c.at(i - h.base); n != 0 {
			c.add(i-base, n)
		}
	}
	h.c, h.base = c, base
}

// alignDown rounds a bucket index down to a multiple of 8.
func alignDown(i int32) int32 { return i &^ 7 }

// Downscale lowers the scale to the given one, merging each run of 2^d
// buckets into one; it does nothing if to >= Scale(). It panics if to <
// MinScale.
func (h *Histogram) Downscale(to int) {
	if to < MinScale {
		panic(fmt.Sprintf("sketch: scale %d below %d", to, MinScale))
	}
	if to < h.Scale() {
		h.downscale(h.Scale() - to)
	}
}

// downscale lowers the scale by d, which the OTel layout makes exact: bucket
// i at scale s is the union of buckets 2i and 2i+1 at scale s+1, so index i
// becomes i>>d. It allocates new storage; it is rare by design.
func (h *Histogram) downscale(d int) {
	if d <= 0 {
		return
	}
	h.dscale -= int8(d)
	if h.n == 0 {
		return
	}
	lo, hi := h.lo>>d, h.hi()>>d
	old, oldBase, oldLo, oldN := h.c, h.base, h.lo, h.n
	h.c, h.base, h.n = counters{wsh: old.wsh}, 0, 0
	h.cover(lo, hi)
	for i := oldLo; i < oldLo+oldN; i++ {
		if n := old.at(i - oldBase); n != 0 {
			h.c.addWiden(i>>d-h.base, n)
		}
	}
	h.lo, h.n = lo, hi-lo+1
}

// Merge adds o's data to h, so that h holds what recording both histograms'
// values would hold. If o is coarser, h is downscaled to o's scale first; if
// o is finer, its buckets are mapped to h's scale. Merging is exact and
// commutative (up to the bucket bound, which can lower the scale further).
func (h *Histogram) Merge(o *Histogram) {
	if o == h {
		o = h.Clone()
	}
	if o.n > 0 {
		h.prepare(o.Scale(), o.lo, o.hi())
		d := o.Scale() - h.Scale()
		for i := o.lo; i <= o.hi(); i++ {
			if n := o.c.at(i - o.base); n != 0 && !h.c.add(i>>d-h.base, n) {
				h.c.addWiden(i>>d-h.base, n)
			}
		}
	} else if o.Scale() < h.Scale() {
		// Downscale even without buckets, so the result's scale does not
		// depend on the order of merges.
		h.downscale(h.Scale() - o.Scale())
	}
	h.zero += o.zero
	h.count += o.count
	h.addSum(o.sumHi, o.sumLo)
}

// prepare readies h to receive data whose non-empty buckets are lo..hi at
// scale s: it lowers h's scale to s if s is coarser, then as far as the
// bucket bound requires, and covers the combined range.
func (h *Histogram) prepare(s int, lo, hi int32) {
	if s < h.Scale() {
		h.downscale(h.Scale() - s)
	}
	d := s - h.Scale()
	lo, hi = int32(int64(lo)>>d), int32(int64(hi)>>d)
	if h.n > 0 {
		lo, hi = min(lo, h.lo), max(hi, h.hi())
	}
	if e := h.fitShift(lo, hi); e > 0 {
		h.downscale(e)
		lo, hi = lo>>e, hi>>e
	}
	h.cover(lo, hi)
	h.lo, h.n = lo, hi-lo+1
}

// Subtract removes o's data from h: the inverse of Merge, so that a running
// window total can drop its evicted slot. After h.Merge(o), h.Subtract(o)
// restores h exactly, unless the merge lowered h's scale. If o is coarser, h
// is downscaled first. If h does not hold all of o's values (in any bucket
// at the common scale, in the zero bucket, or in the sum), Subtract returns
// an error wrapping ErrNotContained and leaves h unchanged.
func (h *Histogram) Subtract(o *Histogram) error {
	if o == h {
		h.clearData()
		return nil
	}
	if err := h.checkTotals(o); err != nil {
		return err
	}
	if o.n > 0 && o.Scale() == h.Scale() {
		// The common case, a slot leaving its window total: one pass that
		// checks as it goes and rolls back on failure.
		if err := h.subtractSameScale(o); err != nil {
			return err
		}
	} else if o.n > 0 {
		if err := h.checkContains(o); err != nil {
			return err
		}
		if o.Scale() < h.Scale() {
			h.downscale(h.Scale() - o.Scale())
		}
		d := o.Scale() - h.Scale()
		for i := o.lo; i <= o.hi(); i++ {
			if n := o.c.at(i - o.base); n != 0 {
				h.c.sub(i>>d-h.base, n)
			}
		}
		h.trim()
	} else if o.Scale() < h.Scale() {
		h.downscale(h.Scale() - o.Scale())
	}
	h.subTotals(o.zero, o.count, o.sumHi, o.sumLo)
	return nil
}

// checkTotals reports whether h holds at least o's counts and sum.
func (h *Histogram) checkTotals(o *Histogram) error {
	return h.holdsTotals(o.zero, o.count, o.sumHi, o.sumLo)
}

// holdsTotals reports whether h holds at least zero values in the zero
// bucket, count in all and the sum sumHi:sumLo.
func (h *Histogram) holdsTotals(zero, count, sumHi, sumLo uint64) error {
	if zero > h.zero || count > h.count {
		return fmt.Errorf("%w: %d values (%d zero), histogram has %d (%d zero)",
			ErrNotContained, count, zero, h.count, h.zero)
	}
	if sumHi > h.sumHi || sumHi == h.sumHi && sumLo > h.sumLo {
		return fmt.Errorf("%w: sum %g ns, histogram has %g ns", ErrNotContained, math.Ldexp(float64(sumHi), 64)+float64(sumLo), h.Sum())
	}
	return nil
}

// subTotals removes the counts and sum holdsTotals checked.
func (h *Histogram) subTotals(zero, count, sumHi, sumLo uint64) {
	h.zero -= zero
	h.count -= count
	var borrow uint64
	h.sumLo, borrow = bits.Sub64(h.sumLo, sumLo, 0)
	h.sumHi -= sumHi + borrow
}

// subtractSameScale subtracts o's buckets from h, both at the same scale and
// o non-empty, or returns an error with h unchanged.
func (h *Histogram) subtractSameScale(o *Histogram) error {
	if h.n == 0 || o.lo < h.lo || o.hi() > h.hi() {
		return fmt.Errorf("%w: buckets %d..%d outside %v", ErrNotContained, o.lo, o.hi(), h)
	}
	for i := o.lo; i <= o.hi(); i++ {
		n := o.c.at(i - o.base)
		if have := h.c.at(i - h.base); have < n {
			for j := o.lo; j < i; j++ {
				h.c.add(j-h.base, o.c.at(j-o.base)) // restores, cannot overflow
			}
			return fmt.Errorf("%w: bucket %d at scale %d holds %d, cannot remove %d",
				ErrNotContained, i, h.Scale(), have, n)
		}
		h.c.sub(i-h.base, n)
	}
	h.trim()
	return nil
}

// checkContains reports whether h holds all of o's buckets at their common
// scale.
func (h *Histogram) checkContains(o *Histogram) error {
	s := min(h.Scale(), o.Scale())
	dh, do := h.Scale()-s, o.Scale()-s
	for i := o.lo; i <= o.hi(); {
		// Sum o's run of buckets that map to target t, then h's.
		t := i >> do
		var want uint64
		for ; i <= o.hi() && i>>do == t; i++ {
			want += o.c.at(i - o.base)
		}
		var have uint64
		if h.n > 0 {
			from, to := max(t<<dh, h.lo), min((t+1)<<dh-1, h.hi())
			for j := from; j <= to; j++ {
				have += h.c.at(j - h.base)
			}
		}
		if have < want {
			return fmt.Errorf("%w: bucket %d at scale %d holds %d, cannot remove %d",
				ErrNotContained, t, s, have, want)
		}
	}
	return nil
}

// trim shrinks the range to its non-empty buckets after a subtraction.
func (h *Histogram) trim() {
	for h.n > 0 && h.c.at(h.lo-h.base) == 0 {
		h.lo++
		h.n--
	}
	for h.n > 0 && h.c.at(h.hi()-h.base) == 0 {
		h.n--
	}
}

// clearData empties the histogram but keeps its scale, storage and width.
func (h *Histogram) clearData() {
	h.c.clear()
	h.count, h.zero, h.sumLo, h.sumHi = 0, 0, 0, 0
	h.lo, h.n = 0, 0
}

// Reset empties the histogram and restores its configured scale. It keeps
// the storage and the counter width, so a ring slot that is reused does not
// allocate again.
func (h *Histogram) Reset() {
	h.clearData()
	h.dscale = h.dconf
}

// Clone returns a deep copy of h.
func (h *Histogram) Clone() *Histogram {
	c := *h
	c.c.words = append([]uint64(nil), h.c.words...)
	return &c
}

// CopyFrom makes h a deep copy of o, configuration included, reusing h's
// storage when it is large enough.
func (h *Histogram) CopyFrom(o *Histogram) {
	if o == h {
		return
	}
	words := append(h.c.words[:0], o.c.words...)
	*h = *o
	h.c.words = words
}

// Equal reports whether h and o hold the same data at the same scale. The
// bucket bound, the configured scale and the storage layout do not matter.
func (h *Histogram) Equal(o *Histogram) bool {
	if h.Scale() != o.Scale() || h.count != o.count || h.zero != o.zero ||
		h.sumLo != o.sumLo || h.sumHi != o.sumHi || h.n != o.n {
		return false
	}
	if h.n > 0 && h.lo != o.lo {
		return false
	}
	for i := h.lo; i < h.lo+h.n; i++ {
		if h.c.at(i-h.base) != o.c.at(i-o.base) {
			return false
		}
	}
	return true
}

// String summarises the histogram for tests and debugging.
func (h *Histogram) String() string {
	if h.n == 0 {
		return fmt.Sprintf("sketch.Histogram{scale %d, count %d, zero %d}", h.Scale(), h.count, h.zero)
	}
	return fmt.Sprintf("sketch.Histogram{scale %d, count %d, zero %d, buckets %d..%d}",
		h.Scale(), h.count, h.zero, h.lo, h.hi())
}
