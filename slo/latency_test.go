package slo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

func TestPercentileWindows(t *testing.T) {
	lat := Spec{Name: "lat", Flow: "f", Objective: LatencyThreshold, Threshold: 300 * time.Millisecond, Target: 0.99, Period: 30 * 24 * time.Hour}
	e := mustEngine(t, []Spec{lat}, Options{})
	now := base.Add(time.Hour)
	e.Observe(now, []Event{
		{Flow: "f", End: now.UnixNano(), Duration: 10 * time.Millisecond},
		{Flow: "g", End: now.UnixNano(), Duration: 20 * time.Millisecond},
	})
	windows := func(ps []Percentiles) []time.Duration {
		var ds []time.Duration
		for _, p := range ps {
			ds = append(ds, p.Window)
		}
		return ds
	}
	h, d := time.Hour, 24*time.Hour
	tiers := []time.Duration{5 * time.Minute, 30 * time.Minute, h, 2 * h, 6 * h, d, 3 * d}
	if got := windows(e.FlowPercentiles("f", now)); !slices.Equal(got, tiers) {
		t.Errorf("flow with an SLO: windows %v, want %v", got, tiers)
	}
	if got := windows(e.FlowPercentiles("g", now)); !slices.Equal(got, []time.Duration{5 * time.Minute, h, d}) {
		t.Errorf("flow without SLOs: windows %v, want 5m 1h 1d", got)
	}
	st := e.Evaluate(now)[0]
	if got := windows(st.Latency); !slices.Equal(got, tiers) {
		t.Errorf("status latency windows %v, want the tier windows %v", got, tiers)
	}
	if p := st.Latency[0]; p.Count != 1 || p.P50 < 9900*time.Microsecond || p.P999 > 10100*time.Microsecond {
		t.Errorf("5 m percentiles %+v, want one event of 10 ms", p)
	}
	if e.FlowPercentiles("nope", now) != nil {
		t.Error("percentiles for an unknown flow")
	}
	// No tiers: no latency in the status, the flow keeps its defaults.
	e = mustEngine(t, []Spec{availability("s", "f", time.Hour, []Tier{})}, Options{})
	if st := e.Evaluate(now)[0]; st.Latency != nil {
		t.Errorf("latency %v for an SLO without tiers", st.Latency)
	}
	// No percentile windows at all: events still count.
	e = mustEngine(t, []Spec{availability("s", "f", time.Hour, []Tier{})}, Options{PercentileWindows: []time.Duration{}})
	e.Observe(now, []Event{{Flow: "f", End: now.UnixNano()}, {Flow: "g", End: now.UnixNano()}})
	if p := e.FlowPercentiles("g", now); len(p) != 0 {
		t.Errorf("percentiles %v with no windows", p)
	}
	if st := e.Evaluate(now)[0]; st.Period.Total != 1 {
		t.Errorf("period %+v, want one event", st.Period)
	}
}

// mixture draws latencies from one of two shapes.
type mixture func(r *rand.Rand) time.Duration

func lognormalMix(r *rand.Rand) time.Duration {
	m, sigma := 40e6, 0.8
	if r.Float64() < 0.02 {
		m, sigma = 2e9, 0.5 // timeouts and retries
	}
	return time.Duration(math.Exp(math.Log(m) + sigma*r.NormFloat64()))
}

func bimodalMix(r *rand.Rand) time.Duration {
	m := 3e6 // cache hits
	if r.Float64() < 0.35 {
		m = 180e6 // misses
	}
	return time.Duration(math.Exp(math.Log(m) + 0.25*r.NormFloat64()))
}

// TestPercentileAccuracy runs days of traffic with late and future events
// through the engine and checks every percentile window against the exact
// nearest-rank value of the events the window holds: within the sketch's
// relative error at the window's scale (1.083% up to 6 h, 4.33% beyond),
// with exact counts. The latency SLO's threshold counts must be exact too.
func TestPercentileAccuracy(t *testing.T) {
	for _, tc := range []struct {
		name string
		draw mixture
	}{{"lognormal", lognormalMix}, {"bimodal", bimodalMix}} {
		t.Run(tc.name, func(t *testing.T) {
			lat := Spec{Name: "lat", Flow: "f", Objective: LatencyThreshold, Threshold: 250 * time.Millisecond, Target: 0.99, Period: 7 * 24 * time.Hour, Tiers: DefaultTiers(30 * 24 * time.Hour)}
			const lateness = 2 * time.Minute
			e := mustEngine(t, []Spec{lat}, Options{AllowedLateness: lateness})
			r := rand.New(rand.NewPCG(7, 8))
			type rec struct {
				t   int64
				d   time.Duration
				bad bool
			}
			var all []rec
			now := base
			end := base.Add(4 * 24 * time.Hour)
			for step := 0; now.Before(end); step++ {
				now = now.Add(time.Duration(r.Int64N(int64(2 * time.Minute))))
				if r.IntN(200) == 0 {
					now = now.Add(time.Duration(r.Int64N(int64(3 * time.Hour)))) // a quiet gap
				}
				evs := make([]Event, r.IntN(60))
				for i := range evs {
					at := now.Add(-time.Duration(r.Int64N(int64(lateness + 30*time.Second)))) // some too late
					if r.IntN(50) == 0 {
						at = now.Add(time.Second) // from the future: clamped
					}
					d, failed := tc.draw(r), r.IntN(100) == 0
					evs[i] = Event{Flow: "f", End: at.UnixNano(), Duration: d, Error: failed}
					if at.After(now) {
						at = now
					}
					if !at.Before(now.Add(-lateness)) {
						all = append(all, rec{at.UnixNano(), d, failed || d > lat.Threshold})
					}
				}
				e.Observe(now, evs)
				if step%400 != 0 && now.Before(end) {
					continue
				}
				f := e.lookup("f")
				got := e.FlowPercentiles("f", now)
				for i, w := range f.lat.windows {
					lv := w.level
					head := floorDiv(now.UnixNano(), lv.res)
					var ds []time.Duration
					for _, x := range all {
						if k := floorDiv(x.t, lv.res); k > head-w.n && k <= head {
							ds = append(ds, x.d)
						}
					}
					slices.Sort(ds)
					p := got[i]
					if p.Count != uint64(len(ds)) {
						t.Fatalf("step %d window %v: count %d, want %d", step, w.dur, p.Count, len(ds))
					}
					if len(ds) == 0 {
						continue
					}
					tol := sketch.RelativeError(lv.scale)
					for j, q := range percentileQs {
						exact := ds[sketch.Rank(q, uint64(len(ds)))-1]
						est := []time.Duration{p.P50, p.P90, p.P95, p.P99, p.P999}[j]
						if rel := math.Abs(float64(est-exact)) / float64(exact); rel > tol+1e-9 {
							t.Errorf("step %d window %v (scale %d) q %v: %v, exact %v, error %.4f%% > %.4f%%", step, w.dur, lv.scale, q, est, exact, rel*100, tol*100)
						}
					}
				}
				// The latency SLO counts slow and failed requests exactly.
				st := e.Evaluate(now)[0]
				counted := map[time.Duration]WindowStats{st.Period.Window: st.Period}
				for _, ts := range st.Tiers {
					counted[ts.Long.Window], counted[ts.Short.Window] = ts.Long, ts.Short
				}
				for _, w := range e.slos[0].windows {
					var want counts
					head := floorDiv(now.UnixNano(), w.res)
					for _, x := range all {
						if k := floorDiv(x.t, w.res); k > head-w.n && k <= head {
							want.total++
							if x.bad {
								want.bad++
							}
						}
					}
					if g := counted[w.dur]; g.Total != want.total || g.Bad != want.bad {
						t.Fatalf("step %d window %v: %d bad of %d, recount %d of %d", step, w.dur, g.Bad, g.Total, want.bad, want.total)
					}
				}
			}
			t.Logf("%d events over %v", len(all), end.Sub(base))
		})
	}
}

// TestSealingLongRingsOnly: slots of rings shorter than sealFrom keep
// their counters (reused as the ring comes round); in longer rings a slot
// is sealed once the allowed lateness has passed, and the windows'
// counts are the same either way.
func TestSealingLongRingsOnly(t *testing.T) {
	lat := Spec{Name: "lat", Flow: "f", Objective: LatencyThreshold, Threshold: 300 * time.Millisecond, Target: 0.99, Period: 30 * 24 * time.Hour}
	e := mustEngine(t, []Spec{lat}, Options{AllowedLateness: 2 * time.Minute})
	now := base
	var n uint64
	for range 2 * 360 { // two hours, an event every 10 s
		now = now.Add(10 * time.Second)
		e.Observe(now, []Event{{Flow: "f", End: now.UnixNano(), Duration: 50 * time.Millisecond}})
		n++
	}
	e.Evaluate(now)
	f := e.lookup("f")
	var short, long int
	for _, lv := range f.lat.levels {
		sealed, open := 0, 0
		for i := range lv.slots {
			switch {
			case lv.enc[i] != nil:
				sealed++
			case lv.slots[i] != nil && lv.slots[i].Count() > 0:
				open++
			}
		}
		ring := time.Duration(lv.n * lv.res)
		if ring < sealFrom {
			short++
			if sealed != 0 || open == 0 {
				t.Errorf("%v ring: %d slots sealed, %d open; want none sealed", ring, sealed, open)
			}
			continue
		}
		long++
		// Only the slots inside the lateness (and the newest) stay open,
		// once the two hours span more than that.
		if time.Duration(lv.res)+2*time.Minute < 2*time.Hour && sealed == 0 || open > int(2*time.Minute/time.Duration(lv.res))+2 {
			t.Errorf("%v ring of %v slots: %d sealed, %d open", ring, time.Duration(lv.res), sealed, open)
		}
	}
	if short == 0 || long == 0 {
		t.Fatalf("%d short and %d long rings: the test needs both", short, long)
	}
	for _, p := range e.FlowPercentiles("f", now) {
		want := min(n, uint64(p.Window/(10*time.Second)))
		// A window leaves out up to one slot of its oldest edge.
		if p.Count > want || p.Count+uint64(p.Window/12/(10*time.Second))+1 < want {
			t.Errorf("%v window holds %d events, want about %d", p.Window, p.Count, want)
		}
	}
}
