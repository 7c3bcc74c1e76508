package sketch

// Threshold classifies values against a bound t one by one, the way
// CountAtOrBelow(t) counts them on a histogram at the threshold's scale: a
// histogram at that scale (not downscaled) has CountAtOrBelow(t) equal to
// the number of its values AtOrBelow reports. A time-slice SLO keeps that
// count as values come, so that judging a slice is a comparison
// (CountAtOrBelow(t) >= Rank(q, n) exactly when Quantile(q) <= t) instead
// of a walk over its buckets.
type Threshold struct {
	t     int64
	shift uint  // MaxScale - scale
	i     int32 // t's bucket at scale, when t > 0
	// in says t is at or above its bucket's representative, so the bucket
	// counts as at or below t.
	in bool
}

// NewThreshold returns the threshold t for histograms at scale (MinScale to
// MaxScale).
func NewThreshold(t int64, scale int) Threshold {
	th := Threshold{t: t, shift: uint(MaxScale - scale)}
	if t > 0 {
		th.i = index8(uint64(t)) >> th.shift
		th.in = uint64(t) >= representative(th.i, scale)
	}
	return th
}

// AtOrBelow reports whether CountAtOrBelow(t) counts p's value.
func (th Threshold) AtOrBelow(p Prepared) bool {
	switch {
	case th.t < 0:
		return false
	case p.v <= 0:
		return true // the zero bucket
	case th.t == 0:
		return false
	}
	i := p.i8 >> (th.shift & 31)
	return i < th.i || i == th.i && th.in
}
