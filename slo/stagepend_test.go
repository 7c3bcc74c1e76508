package slo

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestDeltaTakesWhatIsStaged: a delta is cut after every batch, as the
// daemon cuts one before acknowledging it, while the batches' events are
// still staged (a flush waits for a later slot or a read). Batches of one
// to a hundred events per flow, seconds apart, so that a base slot's stage
// is taken by many deltas, a few values at a time and past the 64 that
// turn it into a histogram. An engine replaying every delta after any of
// them reads exactly what the uninterrupted one reads.
func TestDeltaTakesWhatIsStaged(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			specs := persistSpecs(t)
			opts := Options{Deltas: true, AllowedLateness: time.Minute}
			a := mustEngine(t, specs, opts)
			r := rand.New(rand.NewPCG(seed, 7))
			now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			var log [][]byte
			kills := 0
			for i := range 1500 {
				now = now.Add(time.Duration(r.Int64N(int64(3 * time.Second))))
				var evs []Event
				for _, f := range persistFlows[:3] {
					for range 1 + r.IntN(max(1, r.IntN(100))) {
						at := now.Add(-time.Duration(r.Int64N(int64(2 * time.Second))))
						if r.IntN(50) == 0 {
							at = now.Add(-time.Duration(r.Int64N(int64(50 * time.Second)))) // late
						}
						evs = append(evs, Event{Flow: f, End: at.UnixNano(), Duration: lognormalMix(r), Error: r.IntN(20) == 0})
					}
				}
				a.Observe(now, evs)
				log = append(log, a.AppendDelta(nil))
				if r.IntN(40) == 0 {
					a.Evaluate(now)
				}
				if i%97 == 0 || i == 1499 {
					b := mustEngine(t, specs, opts)
					for _, d := range log {
						if err := b.ApplyDelta(d); err != nil {
							t.Fatal(err)
						}
					}
					for _, f := range persistFlows[:3] {
						if pa, pb := a.FlowPercentiles(f, now), b.FlowPercentiles(f, now); !reflect.DeepEqual(pa, pb) {
							t.Fatalf("step %d, flow %s: percentiles %+v, replayed %+v", i, f, pa, pb)
						}
					}
					sameNow(t, now, a, b, fmt.Sprintf("replayed after step %d", i))
					kills++
				}
			}
			if a.Stats().Events == 0 || kills < 10 {
				t.Fatalf("%d events, %d replays", a.Stats().Events, kills)
			}
		})
	}
}
