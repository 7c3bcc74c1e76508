package sketch

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
)

// Scales a Histogram can use. Bucket i at scale s covers (2^(i/2^s), 2^((i+1)/2^s)]
// nanoseconds, the layout of OTel exponential histograms and Prometheus native
// histograms.
const (
	// MinScale is the coarsest scale, the lowest OTel allows. At MinScale all
	// of int64 fits in two buckets, so downscaling always ends.
	MinScale = -10
	// MaxScale is the finest scale a Histogram records at: 256 buckets per
	// power of two, a relative error of 0.14%. It is also the resolution of
	// the exact mapping table; data at finer scales is downscaled on import.
	MaxScale = 8
	// DefaultScale gives 32 buckets per power of two and a relative error of
	// at most 1.083% (see RelativeError): the precision the SLO engine promises.
	DefaultScale = 5
	// CoarseScale is for long tiers where memory matters more than precision:
	// 8 buckets per power of two, a quarter of DefaultScale's buckets, and a
	// relative error of at most 4.33%.
	CoarseScale = 3
	// maxImportScale is the finest scale OTel defines; AddBuckets accepts
	// data up to it and downscales.
	maxImportScale = 20
)

// RelativeError is the largest relative error of a Quantile estimate at the
// given scale: (b-1)/(b+1) with b = 2^(2^-scale), reached when the true value
// sits on an edge of its bucket and the estimate at the point that balances
// both edges. Integer rounding can add up to 0.5 ns on top.
func RelativeError(scale int) float64 {
	b := math.Exp2(math.Exp2(-float64(scale)))
	return (b - 1) / (b + 1)
}

// The mapping from a value to its bucket is exact: it uses integer compares
// against precomputed boundaries, not a floating-point logarithm, so values
// next to a boundary (powers of two above all) land where the OTel
// definition says they do.
//
// Within the octave [2^63, 2^64), the scale-8 boundaries are 2^(63+k/256) for
// k = 1..255. None of them is an integer (2^(k/256) is irrational), so a
// normalised mantissa m lies above boundary k exactly when m >= ceil(that).
// thresholds[k] holds that ceiling; thresholds[256] is a sentinel no mantissa
// reaches. slotFloor maps the top 9 bits after the leading one of m to the
// number of thresholds at or below the start of that slot; a slot (width
// 2^-9 of the octave) is narrower than any bucket (at least 2^(1/256)-1 ≈
// 2.7e-3 of it), so at most one more threshold can lie inside the slot and a
// single compare finishes the lookup.
var (
	thresholds [257]uint64
	slotFloor  [512]uint8
)

func init() {
	const prec = 320
	// root = 2^(1/256) by eight square roots of 2.
	root := new(big.Float).SetPrec(prec).SetInt64(2)
	for range 8 {
		root.Sqrt(root)
	}
	b := new(big.Float).SetPrec(prec).SetMantExp(new(big.Float).SetPrec(prec).SetInt64(1), 63)
	intPart := new(big.Int)
	frac := new(big.Float).SetPrec(prec)
	margin := new(big.Float).SetPrec(prec).SetMantExp(new(big.Float).SetPrec(prec).SetInt64(1), -100)
	one := new(big.Float).SetPrec(prec).SetInt64(1)
	for k := 1; k < 256; k++ {
		b.Mul(b, root)
		b.Int(intPart)
		frac.Sub(b, new(big.Float).SetPrec(prec).SetInt(intPart))
		// The boundary is irrational; a fractional part this close to an
		// integer would mean the arithmetic was not precise enough.
		if frac.Cmp(margin) < 0 || new(big.Float).SetPrec(prec).Sub(one, frac).Cmp(margin) < 0 {
			panic(fmt.Sprintf("sketch: boundary %d too close to an integer for %d-bit arithmetic", k, prec))
		}
		thresholds[k] = intPart.Uint64() + 1
	}
	thresholds[0] = 1 << 63
	thresholds[256] = math.MaxUint64

	k := 0
	for slot := range slotFloor {
		start := uint64(1)<<63 | uint64(slot)<<54
		for k < 255 && thresholds[k+1] <= start {
			k++
		}
		slotFloor[slot] = uint8(k)
	}
}

// index8 returns the scale-8 bucket index of v >= 1.
func index8(v uint64) int32 {
	e := bits.Len64(v) - 1
	if v&(v-1) == 0 {
		// Buckets are upper-inclusive: 2^e closes the last bucket of the
		// octave below.
		return int32(e<<8 - 1)
	}
	m := v << (uint(63-e) & 63)
	k := slotFloor[(m>>54)&511]
	// Branchless "if m >= thresholds[k+1] { k++ }": the compare goes either
	// way at random for real data, and a mispredicted branch costs more than
	// the whole lookup.
	_, below := bits.Sub64(m, thresholds[int(k)+1], 0)
	return int32(e<<8) + int32(k) + 1 - int32(below)
}

// Index returns the index of the bucket holding the positive value v (in
// nanoseconds) at the given scale. Non-positive values belong to the zero
// bucket, which has no index; Index treats them as 1 so callers must route
// them to the zero bucket themselves. Index panics if scale is outside
// [MinScale, MaxScale].
func Index(v int64, scale int) int32 {
	checkScale(scale)
	return index8(uint64(max(v, 1))) >> uint(MaxScale-scale)
}

// Bounds returns the least and the greatest integer value (nanoseconds) the
// bucket holds at the given scale: a bucket (base^i, base^(i+1)] holds the
// integers lo..hi. lo > hi when it holds none, as happens for the narrow
// buckets below about 46 ns at DefaultScale or above math.MaxInt64. Bounds
// panics if scale is outside [MinScale, MaxScale].
func Bounds(index int32, scale int) (lo, hi int64) {
	checkScale(scale)
	l, h := bounds(index, scale)
	return clampInt64(l), clampInt64(h)
}

// bounds is Bounds in uint64, where 2^63 and above do not overflow.
func bounds(index int32, scale int) (lo, hi uint64) {
	shift := uint(MaxScale - scale)
	j := int64(index) << shift
	lo = leastAbove(j)
	hi = leastAbove(j+1<<shift) - 1
	if lo == math.MaxUint64 {
		hi = lo - 1
	}
	return lo, hi
}

// leastAbove returns the least integer greater than the scale-8 boundary
// 2^(j/256), saturating at math.MaxUint64.
func leastAbove(j int64) uint64 {
	e, k := j>>8, j&255
	switch {
	case e < 0:
		return 1
	case e >= 64:
		return math.MaxUint64
	case k == 0:
		if e == 63 {
			return 1<<63 + 1
		}
		return 1<<e + 1
	}
	// ceil(2^(e+k/256)) = ceil(thresholds[k] / 2^(63-e)), because
	// ceil(ceil(x)/n) = ceil(x/n) for a positive integer n.
	sh := uint(63 - e)
	t := thresholds[k]
	l := t >> sh
	if t&(1<<sh-1) != 0 {
		l++
	}
	return l
}

// representative returns the integer in bucket index that minimises the
// largest relative error against any integer the bucket holds. For a bucket
// holding lo..hi that is the harmonic mean 2·lo·hi/(lo+hi), where the errors
// against both edges are equal, rounded to the better neighbouring integer.
func representative(index int32, scale int) uint64 {
	lo, hi := bounds(index, scale)
	if lo >= hi {
		return lo
	}
	fl, fh := float64(lo), float64(hi)
	p := uint64(2 * fl * fh / (fl + fh))
	worst := func(x uint64) float64 {
		fx := float64(x)
		return max((fx-fl)/fl, (fh-fx)/fh)
	}
	best := min(max(p, lo), hi)
	if next := best + 1; next <= hi && worst(next) < worst(best) {
		best = next
	}
	return best
}

// indexRange is the range of bucket indices at scale s (which may exceed
// MaxScale) that this package accepts from outside: buckets covering values
// in (2^-64, 2^64] nanoseconds. Record never leaves it, and keeping imported
// data inside it keeps all index arithmetic far from int32 overflow.
func indexRange(s int) (lo, hi int64) {
	if s >= 0 {
		return -64 << s, 64<<s - 1
	}
	return (-64) >> uint(-s), (64<<8 - 1) >> uint(8-s)
}

func checkScale(scale int) {
	if scale < MinScale || scale > MaxScale {
		panic(fmt.Sprintf("sketch: scale %d outside [%d, %d]", scale, MinScale, MaxScale))
	}
}

func clampInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}
