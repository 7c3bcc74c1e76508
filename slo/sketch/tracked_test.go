package sketch

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// TestTrackedMatchesHistogram drives a Tracked and a plain Histogram
// through the same random records, merges, subtractions (a ring of slots
// leaving a window), resets and scale drops, and reads both after every
// step: the cursors must give exactly what a walk gives.
func TestTrackedMatchesHistogram(t *testing.T) {
	r := rand.New(rand.NewPCG(91, 92))
	std := []float64{0.5, 0.9, 0.95, 0.99, 0.999}
	for round := range 300 {
		scale := DefaultScale
		if round%5 == 0 {
			scale = CoarseScale
		}
		tr, plain := NewTracked(scale), New(scale)
		var slots []*Histogram // merged into both, oldest first
		qs := std
		for step := range 400 {
			switch op := r.IntN(100); {
			case op < 55: // a few values, as a busy tick
				for range 1 + r.IntN(12) {
					v := randomLatency(r)
					tr.Record(v)
					plain.Record(v)
				}
			case op < 75: // a slot joins the window
				s := New(scale)
				for _, v := range bimodal(r, r.IntN(300), 30*msec, 900*msec, 0.05) {
					s.Record(v)
				}
				if r.IntN(10) == 0 {
					s.Record(0)
				}
				tr.Merge(s)
				plain.Merge(s)
				slots = append(slots, s)
			case op < 92: // the oldest slot leaves
				if len(slots) == 0 {
					continue
				}
				var errT error
				if r.IntN(2) == 0 {
					// As a sealed slot leaves: from its encoding.
					enc, _ := slots[0].AppendBinary(nil)
					errT = tr.SubtractBinary(enc)
				} else {
					errT = tr.Subtract(slots[0])
				}
				errP := plain.Subtract(slots[0])
				if (errT == nil) != (errP == nil) {
					t.Fatalf("round %d step %d: Subtract: tracked %v, plain %v", round, step, errT, errP)
				}
				slots = slots[1:]
			case op < 94: // a value far out lowers the scale
				v := int64(1) << (40 + r.IntN(22))
				tr.Record(v)
				plain.Record(v)
			case op < 95:
				tr.Reset()
				plain.Reset()
				slots = nil
			case op < 97: // other quantiles for a while
				qs = randomQs(r, r.IntN(4) == 0)
			default:
				qs = std
			}
			if !tr.Histogram().Equal(plain) {
				t.Fatalf("round %d step %d: data differs: %v vs %v", round, step, tr.Histogram(), plain)
			}
			checkCursors(t, tr, plain)
			got, want := make([]int64, len(qs)), make([]int64, len(qs))
			tr.Quantiles(qs, got)
			plain.Quantiles(qs, want)
			for k := range qs {
				if got[k] != want[k] {
					t.Fatalf("round %d step %d: %v: q %g = %d, walk gives %d", round, step, plain, qs[k], got[k], want[k])
				}
			}
		}
	}
}

// randomLatency is mostly a plausible latency, sometimes zero or negative.
func randomLatency(r *rand.Rand) int64 {
	switch r.IntN(40) {
	case 0:
		return 0
	case 1:
		return -r.Int64N(sec)
	}
	return lognormal(r, 1, 40*msec, 1)[0]
}

// TestTrackedMovesLittle checks the point of the cursors: a window that
// changes by a few values reads a few counters, not its buckets.
func TestTrackedMovesLittle(t *testing.T) {
	r := rand.New(rand.NewPCG(93, 94))
	tr := NewTracked(DefaultScale)
	for _, v := range bimodal(r, 100_000, 50*msec, 800*msec, 0.03) {
		tr.Record(v)
	}
	qs := []float64{0.5, 0.9, 0.95, 0.99, 0.999}
	out := make([]int64, len(qs))
	tr.Quantiles(qs, out)
	before := tr.cur
	for _, v := range bimodal(r, 10, 50*msec, 800*msec, 0.03) {
		tr.Record(v)
	}
	tr.Quantiles(qs, out)
	moved := 0
	for k := range tr.cur {
		d := tr.cur[k].b - before[k].b
		moved += int(max(d, -d))
	}
	if moved > 5 {
		t.Fatalf("cursors moved %d buckets after 10 new values among 100,000: %v -> %v", moved, before, tr.cur)
	}
}

// checkCursors checks what every cursor claims against h, which holds the
// same data.
func checkCursors(t *testing.T, tr *Tracked, h *Histogram) {
	t.Helper()
	if !tr.set || tr.h.Scale() != int(tr.scale) {
		return
	}
	for k, c := range tr.cur {
		if k > 0 && c.b < tr.cur[k-1].b {
			t.Fatalf("cursors not ascending: %v", tr.cur)
		}
		le, n := h.zero, uint64(0)
		for i := h.lo; i < h.lo+h.n; i++ {
			if i <= c.b {
				le += h.c.at(i - h.base)
			}
			if i == c.b {
				n = h.c.at(i - h.base)
			}
		}
		if c.le != le || c.n != unknownN && uint64(c.n) != n {
			t.Fatalf("cursor %d on bucket %d: le %d n %d, histogram has %d and %d", k, c.b, c.le, c.n, le, n)
		}
	}
}

// TestTrackedSubtractBinaryRefuses checks that corrupt data and data the
// histogram does not hold leave it unchanged.
func TestTrackedSubtractBinaryRefuses(t *testing.T) {
	r := rand.New(rand.NewPCG(95, 96))
	vs := bimodal(r, 5000, 30*msec, 900*msec, 0.05)
	tr := NewTracked(DefaultScale)
	for _, v := range vs {
		tr.Record(v)
	}
	qs := []float64{0.5, 0.9, 0.95, 0.99, 0.999}
	out := make([]int64, len(qs))
	tr.Quantiles(qs, out)
	before := tr.Histogram().Clone()
	cursors := tr.cur
	more := histOf(DefaultScale, vs[:100]...)
	more.Record(vs[0]) // one value more in one bucket than tr holds there
	for i := 0; i < 200; i++ {
		more.Record(vs[0])
	}
	encMore, _ := more.AppendBinary(nil)
	sub := histOf(DefaultScale, vs[:100]...)
	encSub, _ := sub.AppendBinary(nil)
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"truncated", encSub[:len(encSub)-1], ErrCorrupt},
		{"bad version", append([]byte{9}, encSub[1:]...), ErrCorrupt},
		{"not held", encMore, ErrNotContained},
		{"outside the range", mustEncode(histOf(DefaultScale, 10*sec*60)), ErrNotContained},
	} {
		err := tr.SubtractBinary(c.data)
		if !errors.Is(err, c.want) {
			t.Fatalf("%s: got %v, want %v", c.name, err, c.want)
		}
		if !tr.Histogram().Equal(before) || tr.cur != cursors {
			t.Fatalf("%s: histogram or cursors changed on error", c.name)
		}
	}
	if err := tr.SubtractBinary(encSub); err != nil {
		t.Fatal(err)
	}
	before.Subtract(sub)
	if !tr.Histogram().Equal(before) {
		t.Fatalf("after subtracting: %v, want %v", tr.Histogram(), before)
	}
	checkCursors(t, tr, before)
}

func mustEncode(h *Histogram) []byte {
	b, _ := h.AppendBinary(nil)
	return b
}

// TestRecordPreparedMatchesRecord: a value mapped once and recorded into
// histograms of every scale, tracked or not, gives what Record gives,
// including zero and negative values, values that widen the range or the
// counters, and values that lower the scale.
func TestRecordPreparedMatchesRecord(t *testing.T) {
	r := rand.New(rand.NewPCG(97, 98))
	for _, scale := range []int{MinScale, 0, CoarseScale, DefaultScale, MaxScale} {
		a, b := New(scale), New(scale)
		ta, tb := NewTracked(scale), NewTracked(scale)
		out := make([]int64, 5)
		qs := []float64{0.5, 0.9, 0.95, 0.99, 0.999}
		for i := range 20_000 {
			v := randomLatency(r)
			switch i % 1000 {
			case 0:
				v = int64(1) << (10 + r.IntN(52)) // far out: lowers the scale
			case 1:
				v = 1
			}
			p := Prepare(v)
			a.Record(v)
			b.RecordPrepared(p)
			ta.Record(v)
			tb.RecordPrepared(p)
			if i%500 == 0 {
				tb.Quantiles(qs, out) // sets the cursors RecordPrepared keeps
			}
		}
		if !a.Equal(b) || !ta.Histogram().Equal(a) || !tb.Histogram().Equal(a) {
			t.Fatalf("scale %d: Record %v, RecordPrepared %v, tracked %v and %v", scale, a, b, ta.Histogram(), tb.Histogram())
		}
		checkCursors(t, tb, a)
	}
}
