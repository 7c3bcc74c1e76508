package slo

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// latencies returns n realistic latencies: lognormal around 50 ms with a
// 3% slow mode around 800 ms.
func latencies(r *rand.Rand, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		m, sigma := 50e6, 0.6
		if r.Float64() < 0.03 {
			m, sigma = 800e6, 0.3
		}
		out[i] = time.Duration(math.Exp(math.Log(m) + sigma*r.NormFloat64()))
	}
	return out
}

// benchSpecs returns perFlow SLOs on each of flows flows, with the default
// 30 d tiers: availability, a latency threshold and a percentile slice SLO.
func benchSpecs(flows, perFlow int) []Spec {
	return benchSpecsFrom(flows, perFlow, 0)
}

// mixedSpecs returns one SLO on each of flows flows, the three kinds in
// turn.
func mixedSpecs(flows int) []Spec {
	return benchSpecsFrom(flows, 1, 1)
}

// benchSpecsFrom is benchSpecs with the kind of SLO i on flow f chosen by
// i + f·rotate.
func benchSpecsFrom(flows, perFlow, rotate int) []Spec {
	var specs []Spec
	for f := range flows {
		flow := fmt.Sprintf("flow-%05d", f)
		for i := range perFlow {
			s := Spec{Name: fmt.Sprintf("%s-%d", flow, i), Flow: flow, Target: 0.999, Period: 30 * 24 * time.Hour, MinEvents: 10}
			switch (i + f*rotate) % 3 {
			case 0:
				s.Objective = Availability
			case 1:
				s.Objective, s.Threshold = LatencyThreshold, 300*time.Millisecond
			case 2:
				s.Objective, s.Threshold, s.Percentile, s.Slice = PercentileSlices, 300*time.Millisecond, 0.99, time.Minute
			}
			specs = append(specs, s)
		}
	}
	return specs
}

func BenchmarkObserve(b *testing.B) {
	for _, perFlow := range []int{1, 3} {
		for _, deltas := range []bool{false, true} {
			b.Run(fmt.Sprintf("slos=%d/deltas=%v", perFlow, deltas), func(b *testing.B) {
				e, err := NewEngine(benchSpecs(1, perFlow), Options{Deltas: deltas})
				if err != nil {
					b.Fatal(err)
				}
				r := rand.New(rand.NewPCG(1, 2))
				lat := latencies(r, 1<<12)
				const batch = 100
				evs := make([]Event, batch)
				for i := range evs {
					evs[i] = Event{Flow: "flow-00000", Duration: lat[i], Error: i%97 == 0}
				}
				now := base
				// Warm up a day of slots so that histograms have their
				// storage, as in a running daemon.
				for range 24 * 60 {
					now = now.Add(time.Minute)
					e.Observe(now, evs[:1])
					if deltas {
						e.AppendDelta(nil)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i += batch {
					// 100 events every 10 ms: 10,000 per second.
					now = now.Add(10 * time.Millisecond)
					for j := range evs {
						evs[j].End = now.UnixNano() - int64(j)*int64(50*time.Microsecond)
						evs[j].Duration = lat[(i+j)&(len(lat)-1)]
					}
					e.Observe(now, evs)
					if deltas && i%(batch*1000) == 0 {
						b.StopTimer()
						e.AppendDelta(nil)
						b.StartTimer()
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
			})
		}
	}
}

// BenchmarkIngest is the daemon's per-batch path with storage: Observe a
// batch, then AppendDelta for the WAL before the batch is acknowledged.
// A batch holds 100 events of 10 flows among the engine's flows; with
// 10,000 flows, a delta's cost must follow the flows the batch touched,
// not every flow the engine tracks.
func BenchmarkIngest(b *testing.B) {
	for _, flows := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("flows=%d", flows), func(b *testing.B) {
			e, err := NewEngine(benchSpecs(flows, 1), Options{Deltas: true})
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(7, 8))
			lat := latencies(r, 1<<12)
			now := base
			one := make([]Event, 1)
			for _, f := range e.flowList {
				one[0] = Event{Flow: f.name, End: now.UnixNano(), Duration: lat[0]}
				e.Observe(now, one)
			}
			var delta []byte
			delta = e.AppendDelta(delta)
			const batch, perFlow = 100, 10
			evs := make([]Event, batch)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				// 10,000 events a second.
				now = now.Add(10 * time.Millisecond)
				for j := range evs {
					f := e.flowList[(i/perFlow+j/perFlow)%flows]
					evs[j] = Event{Flow: f.name, End: now.UnixNano() - int64(j)*int64(50*time.Microsecond),
						Duration: lat[(i+j)&(len(lat)-1)], Error: j%97 == 0}
				}
				e.Observe(now, evs)
				delta = e.AppendDelta(delta[:0])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
		})
	}
}

// slotHists are realistic latency histograms of count events each, built
// from samples weighted to the count, a few variants per count.
type slotHists map[uint64][]*sketch.Histogram

func (sh slotHists) get(r *rand.Rand, count uint64) *sketch.Histogram {
	const variants, samples = 8, 4000
	hs := sh[count]
	if len(hs) < variants {
		h := new(sketch.Histogram)
		n := min(count, samples)
		w := count / n
		for i, d := range latencies(r, int(n)) {
			c := w
			if uint64(i) < count%n {
				c++
			}
			h.RecordN(int64(d), c)
		}
		sh[count] = append(hs, h)
		return h
	}
	return hs[r.IntN(variants)]
}

// fillFlows builds an engine with one default-tier SLO on each of n flows
// (specs, benchSpecs(n, 1) when nil) and gives every histogram slot of every window the latencies of rate
// requests per second (and every counter slot its counts), as three days
// of traffic would. It feeds each time range at the width of the finest
// ring that holds it, through the path deltas take, so that 10,000 flows
// fill in seconds instead of replaying billions of events.
func fillFlows(tb testing.TB, n int, rate float64, opts Options, specs []Spec) (*Engine, time.Time) {
	tb.Helper()
	if specs == nil {
		specs = benchSpecs(n, 1)
	}
	e, err := NewEngine(specs, opts)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	hists := slotHists{}
	now := base.Add(10 * 24 * time.Hour)
	nowNs := now.UnixNano()
	for _, f := range e.flowList {
		l := f.lat
		t := nowNs - int64(72*time.Hour)
		for t <= nowNs {
			// The finest level whose ring still holds t sets the step.
			step := l.levels[len(l.levels)-1].res
			for _, lv := range l.levels {
				if t > nowNs-lv.n*lv.res && lv.res < step {
					step = lv.res
				}
			}
			t = floorDiv(t, step) * step
			count := uint64(rate * float64(step) / 1e9)
			f.mu.Lock()
			f.addSlot(floorDiv(t, l.base), l.base, hists.get(r, count), true, f.sliceSLOs)
			for _, s := range f.slos {
				s.advance(t)
				s.addSlot(floorDiv(t, s.base), counts{total: count, bad: count / 500})
			}
			f.mu.Unlock()
			t += step
		}
	}
	evs := make([]Event, 10)
	for _, f := range e.flowList {
		for i := range evs {
			evs[i] = Event{Flow: f.name, End: nowNs - int64(i)*int64(time.Second), Duration: 40 * time.Millisecond}
		}
		e.Observe(now, evs)
	}
	return e, now
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemoryPerFlow measures the heap of 10,000 flows, each with one
// SLO of the default 30 d tiers (windows 5m to 3d with percentiles, 9
// counting windows) and every histogram slot holding the latencies of rate
// requests a second: the goal is at most 64 KiB a flow, 1 GiB for all. It
// reports bytes/flow; one iteration is enough (-benchtime 1x).
func BenchmarkMemoryPerFlow(b *testing.B) {
	const n = 10_000
	for _, rate := range []float64{1, 20, 200} {
		b.Run(fmt.Sprintf("rps=%g", rate), func(b *testing.B) {
			var perFlow, hist float64
			for b.Loop() {
				before := heapInUse()
				e, _ := fillFlows(b, n, rate, Options{FinePercentilesUpTo: benchFineUpTo}, nil)
				after := heapInUse()
				perFlow = float64(after-before) / n
				var h int
				for _, f := range e.flowList {
					h += f.lat.sizeBytes()
				}
				hist = float64(h) / n
				runtime.KeepAlive(e)
			}
			b.ReportMetric(perFlow, "bytes/flow")
			b.ReportMetric(hist, "histbytes/flow")
			b.ReportMetric(perFlow*n/(1<<20), "MiB/10k")
		})
	}
}

// BenchmarkRSS10kFlows measures the process's resident memory with 10,000
// flows at rate requests a second (every slot of every window full, as in
// BenchmarkMemoryPerFlow), in the steady state of the daemon with storage:
// after the fill's garbage is returned to the OS, an hour of 10 s ticks in
// which every flow gets ten events, its delta is cut and every SLO is
// evaluated. It reports the live heap and the highest RSS seen, which
// includes the garbage the collector lets accumulate (GOGC, GOMEMLIMIT):
// the goal is 1 GiB. One iteration is enough (-benchtime 1x).
func BenchmarkRSS10kFlows(b *testing.B) {
	for _, rate := range []float64{20, 200} {
		b.Run(fmt.Sprintf("rps=%g", rate), func(b *testing.B) {
			var live, peak uint64
			for b.Loop() {
				e, now := fillFlows(b, 10_000, rate, Options{Deltas: true}, nil)
				r := rand.New(rand.NewPCG(9, 10))
				lat := latencies(r, 1<<12)
				evs := make([]Event, 10)
				var ev Evaluation
				delta := e.AppendDelta(nil)
				e.EvaluateInto(&ev, now)
				live = heapInUse()
				debug.FreeOSMemory()
				peak = 0
				for i := range 360 {
					now = now.Add(10 * time.Second)
					for _, f := range e.flowList {
						for j := range evs {
							evs[j] = Event{Flow: f.name, End: now.UnixNano() - int64(j)*int64(time.Second), Duration: lat[(i*10+j)&(len(lat)-1)]}
						}
						e.Observe(now, evs)
					}
					delta = e.AppendDelta(delta[:0])
					e.EvaluateInto(&ev, now)
					peak = max(peak, rss(b))
				}
				runtime.KeepAlive(e)
			}
			b.ReportMetric(float64(live)/(1<<20), "live-MiB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
		})
	}
}

// rss is the process's resident set size in bytes.
func rss(tb testing.TB) uint64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		tb.Skip("no /proc/self/statm:", err)
	}
	var size, resident uint64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		tb.Fatal(err)
	}
	return resident * uint64(os.Getpagesize())
}

// BenchmarkEvaluate10kSLOs evaluates 10,000 SLOs, one per flow with the
// default 30 d tiers (7 percentile windows each; availability, latency
// threshold and percentile time slices in turn), every histogram slot
// full, a tick every 10 s. Before each tick a share of the flows gets ten
// new events: with all of them busy, every window of every flow changed
// and its percentiles are read again; a quiet flow's are reused. Run it
// with -cpu 1: the goal is 50 ms a tick on one core.
//
// Ten events of a flow in one batch reach its histograms at the end of
// the batch, on the ingest path; ingest-ms/tick is that work for the
// tick's events (Observe, as if they came in one batch, and with wal=on
// the delta written before the batch is acknowledged), untimed by the
// harness. wal=on is the daemon with storage, its default; wal=off is
// without.
func BenchmarkEvaluate10kSLOs(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	lat := latencies(r, 1<<12)
	evs := make([]Event, 10)
	for _, wal := range []bool{true, false} {
		e, now := fillFlows(b, 10_000, 20, Options{Deltas: wal}, mixedSpecs(10_000))
		var delta []byte
		if wal {
			delta = e.AppendDelta(nil)
		}
		// Reused, as the daemon reuses it. The first evaluation sets
		// every window's percentile cursors with a walk; the ticks after
		// it are the steady state measured.
		var ev Evaluation
		e.EvaluateInto(&ev, now)
		// Filling leaves a gigabyte of garbage whose collection is not a
		// tick's cost.
		runtime.GC()
		for _, busy := range []int{100, 10} {
			b.Run(fmt.Sprintf("wal=%s/busy=%d%%", onOff(wal), busy), func(b *testing.B) {
				b.ReportAllocs()
				var ingest time.Duration
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					began := time.Now()
					now = now.Add(10 * time.Second)
					for n, f := range e.flowList {
						if (n+i)%100 >= busy {
							continue
						}
						for j := range evs {
							evs[j] = Event{Flow: f.name, End: now.UnixNano() - int64(j)*int64(time.Second), Duration: lat[(i*10+j)&(len(lat)-1)]}
						}
						e.Observe(now, evs)
					}
					if wal {
						// One batch holding every busy flow's events.
						delta = e.AppendDelta(delta[:0])
					}
					ingest += time.Since(began)
					b.StartTimer()
					if st := e.EvaluateInto(&ev, now); len(st) != 10_000 {
						b.Fatal(len(st))
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/tick")
				b.ReportMetric(float64(ingest.Microseconds())/1e3/float64(b.N), "ingest-ms/tick")
			})
		}
		runtime.KeepAlive(e)
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// BenchmarkSnapshot and BenchmarkRestore checkpoint 10,000 flows with full
// rings (one default-tier SLO each, 20 requests a second). The goal for
// Restore is 2 s.
func BenchmarkSnapshot(b *testing.B) {
	e, now := fillFlows(b, 10_000, 20, Options{Deltas: true}, nil)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendSnapshot(buf[:0], now)
	}
	b.ReportMetric(float64(len(buf)), "bytes")
}

func BenchmarkRestore(b *testing.B) {
	e, now := fillFlows(b, 10_000, 20, Options{Deltas: true}, nil)
	snap := e.AppendSnapshot(nil, now)
	specs := benchSpecs(10_000, 1)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r, err := NewEngine(specs, Options{Deltas: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := r.Restore(snap)
		if err != nil || rep.SLOs != 10_000 {
			b.Fatalf("restore: %+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(len(snap)), "bytes")
}

// benchFineUpTo lets BenchmarkMemoryPerFlow measure a setting other than the
// default: go test -bench MemoryPerFlow -args -fine-up-to 72h.
var benchFineUpTo time.Duration

func init() {
	flag.DurationVar(&benchFineUpTo, "fine-up-to", 0, "BenchmarkMemoryPerFlow: Options.FinePercentilesUpTo (0: the default)")
}
