package slo

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestRestoreVersion1 restores state an engine wrote in encoding version 1
// (testdata/v1, see its README): a snapshot and the deltas after it, and
// every delta into a new engine. Event-based SLOs count what they counted;
// the time-slice SLO's slices, judged at their close then and at their end
// now, count the slices that engine had closed two minutes later.
func TestRestoreVersion1(t *testing.T) {
	restored, replayed, want := restoreVersion(t, "v1")
	now := time.Unix(0, want.Now)
	for name, e := range map[string]*Engine{"restored": restored, "replayed": replayed} {
		for i, st := range e.Evaluate(now) {
			got := [][2]uint64{{st.Period.Total, st.Period.Bad}}
			for _, ts := range st.Tiers {
				got = append(got, [2]uint64{ts.Long.Total, ts.Long.Bad}, [2]uint64{ts.Short.Total, ts.Short.Bad})
				if ts.Long.Events != ts.Long.Total && st.SLO.Objective != PercentileSlices {
					t.Errorf("%s %s: long window %+v: events differ from total", name, st.SLO.Name, ts.Long)
				}
				// A version 1 snapshot's SLOs have been observed since its
				// first evaluation; version 1 deltas say nothing of it, so
				// an SLO replayed from them alone warms up again.
				if warming := name == "replayed" && ts.Tier.WarmUp > 0; ts.WarmingUp != warming {
					t.Errorf("%s %s %s: warming up %v, want %v", name, st.SLO.Name, ts.Tier.Name, ts.WarmingUp, warming)
				}
			}
			if st.SLO.Objective == PercentileSlices {
				if w := want.At[1][i][0]; got[0] != w {
					t.Errorf("%s %s: period %v, want the slices closed by now+2m then, %v", name, st.SLO.Name, got[0], w)
				}
				if st.Period.Events == 0 {
					t.Errorf("%s %s: period %+v counts no requests for the slices judged since", name, st.SLO.Name, st.Period)
				}
				continue
			}
			if !reflect.DeepEqual(got, want.At[0][i]) {
				t.Errorf("%s %s: counts %v, want %v", name, st.SLO.Name, got, want.At[0][i])
			}
		}
	}
}

// TestDeltaCarriesFirstSlice: the delta that says where an SLO's slices
// began says the slice they began with, even when slices have closed
// between (a replay without a snapshot would lose them otherwise).
func TestDeltaCarriesFirstSlice(t *testing.T) {
	specs := []Spec{sliceSpec(EmptyGood)}
	opts := Options{Deltas: true, AllowedLateness: time.Minute}
	a := mustEngine(t, specs, opts)
	a.Observe(base.Add(30*time.Second), sliceEvents(base, 10, 10)) // slice 0 begins, all slow
	now := base.Add(5*time.Minute + 30*time.Second)
	a.Observe(now, sliceEvents(base.Add(5*time.Minute), 10, 0)) // slices 0..3 have closed
	d := a.AppendDelta(nil)
	b := mustEngine(t, specs, opts)
	if err := b.ApplyDelta(d); err != nil {
		t.Fatal(err)
	}
	pa, pb := a.Evaluate(now)[0].Period, b.Evaluate(now)[0].Period
	if pa != pb || pa.Bad != 1 {
		t.Fatalf("period %+v, replayed %+v: want slice 0 bad in both", pa, pb)
	}
}

// TestRestoreVersion3 restores state an engine wrote in encoding version 3
// (testdata/v3, see its README), whose deltas hold every latency in a
// histogram: a snapshot and the deltas after it, and every delta into a
// new engine, count what that engine counted, now and two minutes later.
func TestRestoreVersion3(t *testing.T) {
	restored, replayed, want := restoreVersion(t, "v3")
	now := time.Unix(0, want.Now)
	for name, e := range map[string]*Engine{"restored": restored, "replayed": replayed} {
		for at, when := range []time.Time{now, now.Add(2 * time.Minute)} {
			for i, st := range e.Evaluate(when) {
				got := [][2]uint64{{st.Period.Total, st.Period.Bad}}
				for _, ts := range st.Tiers {
					got = append(got, [2]uint64{ts.Long.Total, ts.Long.Bad}, [2]uint64{ts.Short.Total, ts.Short.Bad})
				}
				if !reflect.DeepEqual(got, want.At[at][i]) {
					t.Errorf("%s %s at now+%dm: counts %v, want %v", name, st.SLO.Name, 2*at, got, want.At[at][i])
				}
			}
		}
	}
}

// versionWant is a testdata/vN/expect.json (see its README).
type versionWant struct {
	Now       int64
	SnapAfter int
	At        [][][][2]uint64
}

// restoreVersion reads testdata/dir and gives its snapshot and the deltas
// after it to one engine (those the snapshot holds are skipped), every
// delta to another, and returns both with what the engine that wrote them
// counted.
func restoreVersion(t *testing.T, dir string) (restored, replayed *Engine, want versionWant) {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var deltas [][]byte
	for b := read("deltas"); len(b) > 0; {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			t.Fatalf("testdata/%s/deltas is damaged", dir)
		}
		deltas, b = append(deltas, b[k:k+int(n)]), b[k+int(n):]
	}
	if err := json.Unmarshal(read("expect.json"), &want); err != nil {
		t.Fatal(err)
	}
	specs := persistSpecs(t)
	opts := Options{Deltas: true, AllowedLateness: 2 * time.Minute}
	restored = mustEngine(t, specs, opts)
	if rep, err := restored.Restore(read("snapshot")); err != nil || rep.SLOs != len(specs) {
		t.Fatalf("restore: %+v, %v", rep, err)
	}
	replayed = mustEngine(t, specs, opts)
	for _, d := range deltas {
		if err := restored.ApplyDelta(d); err != nil { // those the snapshot holds are skipped
			t.Fatal(err)
		}
		if err := replayed.ApplyDelta(d); err != nil {
			t.Fatal(err)
		}
	}
	return restored, replayed, want
}
