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
	// groups are the groups of each grouped flow (nil for the others),
	// kept by reg; nil when no flow is grouped.
	groups []*flowGroups
	reg    *groupRegistry

	received, entry, unmatched, removed atomic.Uint64
	classified                          []atomic.Uint64 // by flow index
}

func newFlows(set *specs.Set, reg *groupRegistry) (*Flows, error) {
	cls, err := set.Classifier()
	if err != nil {
		return nil, err
	}
	f := &Flows{classifier: cls, names: make([]string, cls.Len()), reg: reg, classified: make([]atomic.Uint64, cls.Len())}
	if cls.AnyGrouped() {
		f.groups = make([]*flowGroups, cls.Len())
	}
	for i := range f.names {
		f.names[i] = cls.Name(i)
		if f.groups != nil {
			f.groups[i] = reg.of(f.names[i])
		}
	}
	return f, nil
}

// EventFlow is the flow name of an event of flow i: the flow's own, or for
// a grouped flow the group the span's values select (see groupRegistry),
// registering a new one. It does not allocate but for a new group, or a
// group of several keys or of a value that is not a string.
func (f *Flows) EventFlow(i int, in *flows.Input) string {
	if f.groups == nil || f.groups[i] == nil {
		return f.names[i]
	}
	fg := f.groups[i]
	var buf [4]flows.Value
	return f.reg.name(fg, f.classifier.GroupValues(i, in, buf[:0]))
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
	f.reg.writeMetrics(e)
}
