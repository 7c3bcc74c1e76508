package app

import (
	"sync/atomic"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/specs"
)

// Flows is the compiled flow set that producers classify spans with, and
// the counters of what they classified. It is immutable but for the
// counters, and safe for concurrent use.
type Flows struct {
	classifier *flows.Classifier
	names      []string

	received, entry, unmatched, removed atomic.Uint64
	classified                          []atomic.Uint64 // by flow index
}

func newFlows(set *specs.Set) (*Flows, error) {
	cls, err := set.Classifier()
	if err != nil {
		return nil, err
	}
	f := &Flows{classifier: cls, names: make([]string, cls.Len()), classified: make([]atomic.Uint64, cls.Len())}
	for i := range f.names {
		f.names[i] = cls.Name(i)
	}
	return f, nil
}

// Classifier assigns spans to flows.
func (f *Flows) Classifier() *flows.Classifier { return f.classifier }

// Name is the name of flow i.
func (f *Flows) Name(i int) string { return f.names[i] }

// Tally is one batch's classification counts. A producer sums a batch into
// its own Tally (no atomics per span) and adds it with Flows.Add.
type Tally struct {
	// Received counts spans; Entry those that are entry spans; Unmatched
	// the entry spans no flow took; Classified the spans each flow took
	// (by flow index).
	Received, Entry, Unmatched int
	Classified                 []int
	// Removed counts spans no flow took whose client-set burnwatch.flow or
	// burnwatch.error attribute was removed.
	Removed int
}

// NewTally returns a zero Tally sized for f.
func (f *Flows) NewTally() *Tally { return &Tally{Classified: make([]int, len(f.names))} }

// Add adds t's counts and zeroes t for reuse.
func (f *Flows) Add(t *Tally) {
	f.received.Add(uint64(t.Received))
	f.entry.Add(uint64(t.Entry))
	f.unmatched.Add(uint64(t.Unmatched))
	f.removed.Add(uint64(t.Removed))
	for i, n := range t.Classified {
		if n > 0 {
			f.classified[i].Add(uint64(n))
			t.Classified[i] = 0
		}
	}
	t.Received, t.Entry, t.Unmatched, t.Removed = 0, 0, 0, 0
}

// writeMetrics writes the classification counters. Every span adds to
// received; an entry span adds to entry and then to the classified counter
// of its flow or to unmatched; a non-entry span adds to classified only when
// an entry_spans_only: false flow takes it. Flows are those of the specs
// now: a flow removed from them leaves /metrics.
func (f *Flows) writeMetrics(e *exposition) {
	e.single("burnwatch_spans_received_total", "counter", float64(f.received.Load()))
	e.single("burnwatch_spans_entry_total", "counter", float64(f.entry.Load()))
	e.single("burnwatch_spans_unmatched_total", "counter", float64(f.unmatched.Load()))
	e.single("burnwatch_spans_annotation_removed_total", "counter", float64(f.removed.Load()))
	e.family("burnwatch_spans_classified_total", "counter")
	for i := range f.classified {
		e.bounded("burnwatch_spans_classified_total", float64(f.classified[i].Load()), "flow", f.names[i])
	}
}
