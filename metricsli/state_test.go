package metricsli

import (
	"bytes"
	"encoding/gob"
	"reflect"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// TestStateRestoresARuntime: a Runtime restored from another's State (as
// gob, as the daemon stores it) counts the next batches exactly as the
// other would have: increases of sums with fractions, of explicit and
// exponential histograms, since their last points before the State. A
// Runtime without it takes those points as baselines and counts less.
func TestStateRestoresARuntime(t *testing.T) {
	ins := map[string]*Indicator{
		"api": requests,
		"lat": latency(300*time.Millisecond, true),
		"rpc": {Good: &Source{Kind: HistogramThreshold, Metric: "rpc.duration", Threshold: 6 * time.Millisecond, Interpolate: true},
			Total: &Source{Kind: HistogramCount, Metric: "rpc.duration"}},
	}
	before := at(-60) // the service started before Burnwatch
	ok, fail := num("http.response.status_code", 200), num("http.response.status_code", 503)
	batch := func(i int) []Point {
		f := float64(i)
		return []Point{
			sum("http.server.requests", Cumulative, before, at(f), 100+30.5*f, ok),
			sum("http.server.requests", Cumulative, before, at(f), 10+2.25*f, fail),
			hist("http.server.request.duration", Cumulative, before, at(f), bounds,
				[]uint64{uint64(5 + 3*i), uint64(4 + i), uint64(3 + 2*i), uint64(2 + i), 1, uint64(i)}),
			expo(Cumulative, before, at(f), 0, 0, []uint64{uint64(10 + i), uint64(20 + 2*i), uint64(30 + i), 40}, uint64(i)),
		}
	}
	const stop, batches = 3, 7
	ref := mustRuntime(t, ins)
	var want []slo.Counts
	for i := 1; i <= batches; i++ {
		want = ref.Ingest(later, batch(i), want)
	}

	before1 := mustRuntime(t, ins)
	var got []slo.Counts
	for i := 1; i <= stop; i++ {
		got = before1.Ingest(later, batch(i), got)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(before1.State()); err != nil {
		t.Fatal(err)
	}
	var st State
	if err := gob.NewDecoder(&buf).Decode(&st); err != nil {
		t.Fatal(err)
	}
	after, fresh := mustRuntime(t, ins), mustRuntime(t, ins)
	after.Restore(st)
	if !reflect.DeepEqual(after.State(), before1.State()) {
		t.Fatalf("restored state differs:\n%+v\nfrom\n%+v", after.State(), before1.State())
	}
	var resumed, unrestored []slo.Counts
	for i := stop + 1; i <= batches; i++ {
		resumed = after.Ingest(later, batch(i), resumed)
		unrestored = fresh.Ingest(later, batch(i), unrestored)
	}
	if g, w := totals(append(got, resumed...)), totals(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("restored runtime counted %v, one that never stopped %v", g, w)
	}
	if r, u := totals(resumed), totals(unrestored); reflect.DeepEqual(r, u) {
		t.Fatalf("a runtime without the state counted what the restored one did (%v): the test shows nothing", u)
	}
}

// TestRestoreDropsSumsOfChangedIndicators: an SLO whose Indicator changed
// across the stop starts its sums from zero, as after a reload; the
// streams are kept.
func TestRestoreDropsSumsOfChangedIndicators(t *testing.T) {
	r := mustRuntime(t, map[string]*Indicator{"api": requests})
	ok := num("http.response.status_code", 200)
	r.Ingest(later, []Point{sum("http.server.requests", Cumulative, at(-60), at(1), 10, ok)}, nil)
	r.Ingest(later, []Point{sum("http.server.requests", Cumulative, at(-60), at(2), 20.5, ok)}, nil)
	st := r.State()
	if len(st.SLOs) != 1 || len(st.SLOs[0].Tallies) != 1 || len(st.Streams) != 1 {
		t.Fatalf("state %+v: want one SLO with one tally, one stream", st)
	}
	changed := &Indicator{Good: requests.Good, Total: &Source{Kind: Counter, Metric: "http.server.requests.total"}}
	r2 := mustRuntime(t, map[string]*Indicator{"api": changed})
	r2.Restore(st)
	got := r2.State()
	if len(got.SLOs[0].Tallies) != 0 || len(got.Streams) != 1 {
		t.Fatalf("after restoring under a changed indicator: %+v, want no sums and the stream", got)
	}
}
