package slo

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestDeltaBatchMatchesOneByOne: deltas applied in bulk, in batches of
// random length (a whole log in one, one delta each, and between), after a
// snapshot or into a new engine, leave the state that applying them one by
// one leaves: the same snapshot bytes and the same evaluations now and
// later. The traffic has late, too late and future events, gaps, slices
// and calendar periods (TestDeltaReplayMatchesUninterrupted's).
func TestDeltaBatchMatchesOneByOne(t *testing.T) {
	const lateness = 2 * time.Minute
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			specs := persistSpecs(t)
			opts := Options{Deltas: true, AllowedLateness: lateness}
			a := mustEngine(t, specs, opts)
			tr := &traffic{r: rand.New(rand.NewPCG(seed, 7)), now: time.Date(2026, 10, 29, 12, 0, 0, 0, time.UTC)}
			var all [][]byte
			for i := range 2000 {
				if i == 300 {
					var d []byte
					d, tr.snap = a.AppendDeltaAndSnapshot(nil, nil, tr.now)
					all = append(all, d)
				}
				before := len(tr.deltas)
				if tr.snap == nil && tr.r.IntN(4) == 0 {
					all = append(all, a.AppendDelta(nil))
				}
				tr.step(t, a, lateness)
				all = append(all, tr.deltas[before:]...)
			}
			last := a.AppendDelta(nil)
			tr.deltas = append(tr.deltas, last)
			all = append(all, last)

			for _, c := range []struct {
				name string
				snap bool
				log  [][]byte
			}{{"after the snapshot", true, tr.deltas}, {"every delta", false, all}} {
				for _, maxBatch := range []int{1, 7, 100, len(c.log)} {
					// Afresh each time: the comparisons below evaluate
					// days ahead.
					one := mustEngine(t, specs, opts)
					if c.snap {
						if _, err := one.Restore(tr.snap); err != nil {
							t.Fatal(err)
						}
					}
					for _, d := range c.log {
						if err := one.ApplyDelta(d); err != nil {
							t.Fatal(err)
						}
					}
					bulk := mustEngine(t, specs, opts)
					if c.snap {
						if _, err := bulk.Restore(tr.snap); err != nil {
							t.Fatal(err)
						}
					}
					b := bulk.NewDeltaBatch()
					n := 0
					for _, d := range c.log {
						if err := b.Add(d); err != nil {
							t.Fatal(err)
						}
						if n++; n >= 1+tr.r.IntN(maxBatch) {
							b.Flush()
							n = 0
						}
					}
					b.Flush()
					what := fmt.Sprintf("%s, batches up to %d", c.name, maxBatch)
					sameNow(t, tr.now, one, bulk, what)
					so, sb := one.AppendSnapshot(nil, tr.now), bulk.AppendSnapshot(nil, tr.now)
					if !bytes.Equal(so, sb) {
						t.Fatalf("%s: snapshots differ (%d and %d bytes)", what, len(so), len(sb))
					}
					sameState(t, tr.now, one, bulk)
				}
			}
		})
	}
}

// TestDeltaBatchSequence: a batch skips deltas the engine holds, reports a
// gap as ApplyDelta does, and refuses corrupt input without taking it.
func TestDeltaBatchSequence(t *testing.T) {
	specs := persistSpecs(t)
	a := mustEngine(t, specs, Options{Deltas: true})
	now := time.Date(2026, 10, 29, 12, 0, 0, 0, time.UTC)
	var ds [][]byte
	for i := range 3 {
		a.Observe(now.Add(time.Duration(i)*time.Second), []Event{{Flow: "f1", End: now.UnixNano(), Duration: time.Millisecond}})
		ds = append(ds, a.AppendDelta(nil))
	}
	b := mustEngine(t, specs, Options{Deltas: true})
	batch := b.NewDeltaBatch()
	if err := batch.Add(ds[0]); err != nil {
		t.Fatal(err)
	}
	if err := batch.Add(ds[0]); err != nil {
		t.Fatalf("a delta taken already: %v, want it skipped", err)
	}
	if err := batch.Add(ds[2][:len(ds[2])-3]); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("truncated delta: %v, want ErrCorruptState", err)
	}
	if err := batch.Add(ds[2]); !errors.Is(err, ErrDeltaGap) {
		t.Fatalf("delta 3 after 1: %v, want ErrDeltaGap", err)
	}
	batch.Flush()
	if got := b.Stats().Events; got != 2 {
		t.Fatalf("%d events after deltas 1 and 3, want 2", got)
	}
}
