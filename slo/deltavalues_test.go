package slo

import (
	"errors"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// A sparse flow's delta carries its staged latencies as values, each in
// exactly one delta; a replay records them into the histogram the
// pending-histogram form would have held, so the replayed engine is the
// one that never stopped. A late event makes the pending form come back.
func TestDeltaCarriesStagedValues(t *testing.T) {
	specs := persistSpecs(t)
	opts := Options{Deltas: true, AllowedLateness: 2 * time.Minute}
	a := mustEngine(t, specs, opts)
	b := mustEngine(t, specs, opts)
	f1 := a.flows["f1"]
	// Every event but the late one in one base slot.
	if f1.base < time.Second.Nanoseconds() {
		t.Fatalf("f1's base slot is %v", time.Duration(f1.base))
	}
	now := base.Add(30 * time.Second)
	at := func(d time.Duration, lat time.Duration) Event {
		return Event{Flow: "f1", End: base.Add(d).UnixNano(), Duration: lat}
	}
	steps := []struct {
		name   string
		evs    []Event
		values bool    // the delta's entry is values
		want   []int64 // the latencies it holds
	}{
		{"first", []Event{at(time.Second, 3*time.Millisecond), at(time.Second+100*time.Millisecond, 40*time.Millisecond)}, true, []int64{3e6, 40e6}},
		{"more of the slot", []Event{at(time.Second+200*time.Millisecond, 0), at(time.Second+300*time.Millisecond, 7*time.Second)}, true, []int64{0, 7e9}},
		{"late", []Event{at(-time.Minute, 5*time.Millisecond), at(time.Second+400*time.Millisecond, 6*time.Millisecond)}, false, []int64{5e6, 6e6}},
		{"again", []Event{at(time.Second+500*time.Millisecond, 8*time.Millisecond)}, true, []int64{8e6}},
	}
	for _, st := range steps {
		a.Observe(now, st.evs)
		f1.mu.Lock()
		values := f1.stagedAsValues()
		f1.mu.Unlock()
		if values != st.values {
			t.Fatalf("%s: values form %v, want %v", st.name, values, st.values)
		}
		d := a.AppendDelta(nil)
		dd, err := DecodeDelta(d)
		if err != nil {
			t.Fatal(err)
		}
		var got, want sketch.Histogram
		for _, df := range dd.flows {
			if df.name != "f1" {
				continue
			}
			for _, en := range df.entries {
				got.Merge(en.h)
			}
		}
		for _, v := range st.want {
			want.Record(v)
		}
		if got.Count() != want.Count() || got.Quantile(0) != want.Quantile(0) || got.Quantile(1) != want.Quantile(1) {
			t.Fatalf("%s: the delta holds %d latencies (min %v, max %v), want %d (%v, %v)",
				st.name, got.Count(), got.Quantile(0), got.Quantile(1), want.Count(), want.Quantile(0), want.Quantile(1))
		}
		if err := b.ApplyDelta(d); err != nil {
			t.Fatal(err)
		}
		if st.name == "more of the slot" {
			a.Evaluate(now) // a read flushes the stage between deltas
		}
	}
	sameState(t, now, a, b)
}

// A values entry that is not one is corrupt input, and so is a delta
// holding one cut short anywhere.
func TestDeltaRejectsBadValues(t *testing.T) {
	for name, in := range map[string][]byte{
		"kind":         {2, 1, 1},
		"no values":    {entryValues, 0},
		"truncated":    {entryValues, 2, 1},
		"out of range": {entryValues, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		d := &decoder{b: in, version: encodingVersion}
		d.entry(new(sketch.Histogram))
		if !errors.Is(d.err, ErrCorruptState) {
			t.Errorf("%s: error %v, want ErrCorruptState", name, d.err)
		}
	}
	specs := persistSpecs(t)
	a := mustEngine(t, specs, Options{Deltas: true})
	a.Observe(base, []Event{{Flow: "f4", End: base.UnixNano(), Duration: time.Millisecond}, {Flow: "f4", End: base.UnixNano(), Duration: time.Second}})
	d := a.AppendDelta(nil)
	for n := range len(d) {
		b := mustEngine(t, specs, Options{Deltas: true})
		if err := b.ApplyDelta(d[:n]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("the delta cut to %d of %d bytes: error %v, want ErrCorruptState", n, len(d), err)
		}
	}
}

// FuzzApplyDelta: any delta, however damaged, is applied or refused with
// ErrCorruptState, and the engine goes on. Its seeds are small deltas
// with latencies as values and as histograms, so that the fuzzer reaches
// far into them (FuzzRestore's seeds are a snapshot's size).
func FuzzApplyDelta(f *testing.F) {
	specs := persistSpecs(f)
	opts := Options{Deltas: true, AllowedLateness: 2 * time.Minute}
	a := mustEngine(f, specs, opts)
	at := func(flow string, d time.Duration, lat time.Duration, bad bool) Event {
		return Event{Flow: flow, End: base.Add(d).UnixNano(), Duration: lat, Error: bad}
	}
	now := base.Add(time.Minute)
	a.Observe(now, []Event{at("f1", 30*time.Second, time.Millisecond, false), at("f2", 31*time.Second, time.Second, true)})
	f.Add(a.AppendDelta(nil)) // values
	a.Observe(now, []Event{at("f1", -30*time.Second, 2*time.Millisecond, true), at("f3", 40*time.Second, 0, false)})
	f.Add(a.AppendDelta(nil)) // a late latency: histograms
	f.Fuzz(func(t *testing.T, delta []byte) {
		e := mustEngine(t, specs, opts)
		if err := e.ApplyDelta(delta); err != nil && !errors.Is(err, ErrCorruptState) && !errors.Is(err, ErrDeltaGap) {
			t.Fatalf("apply error %v", err)
		}
		later := now.Add(time.Hour)
		e.Observe(later, []Event{at("f1", time.Hour, time.Millisecond, false)})
		e.Evaluate(later)
		e.AppendDelta(nil)
		e.AppendSnapshot(nil, later)
	})
}
