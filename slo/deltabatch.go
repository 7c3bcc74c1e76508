package slo

import "cmp"

// DeltaBatch applies a run of deltas in bulk, for replaying a write-ahead
// log. Applying a delta costs each of its slots a merge into every window of
// its flow; a log holds hundreds of deltas per base slot, so the batch first
// adds up the deltas' slots per flow and slot (a histogram merge or two
// counter additions each) and then applies each slot once. The result is
// the state that applying the deltas one by one gives: counts and
// histograms add up whatever their order, slots are applied in ascending
// order as a live engine fills them, the first start of slices and the
// first time an SLO began counting are kept, and the newest exemplars win.
//
// A batch holds the engine's sequence number and counters as of its last
// Add, but not yet the flows' state: call Flush before anything else reads
// the engine or cuts a delta from it.
type DeltaBatch struct {
	e *Engine
	// flows are the deltas' flows added up, in the order they first came,
	// so that flows are created in the order the original engine created
	// them; byName finds them.
	flows  []*deltaFlow
	byName map[string]*deltaFlow
}

// NewDeltaBatch returns an empty batch for e.
func (e *Engine) NewDeltaBatch() *DeltaBatch {
	return &DeltaBatch{e: e, byName: make(map[string]*deltaFlow)}
}

// Add takes a delta into the batch, as ApplyDelta would apply it: a delta
// the engine holds already is skipped, one that skips sequence numbers is
// taken and returns an error wrapping ErrDeltaGap, and corrupt input
// returns an error wrapping ErrCorruptState and changes nothing. rec may be
// reused once Add returns.
func (b *DeltaBatch) Add(rec []byte) error {
	dd, err := DecodeDelta(rec)
	if err != nil {
		return err
	}
	return b.AddDecoded(dd)
}

// AddDecoded is Add for a delta DecodeDelta decoded; the batch takes dd.
func (b *DeltaBatch) AddDecoded(dd *DecodedDelta) error {
	e := b.e
	e.persistMu.Lock()
	defer e.persistMu.Unlock()
	ok, gap := e.takeDecoded(dd)
	if !ok {
		return nil
	}
	flows := dd.flows
	for i := range flows {
		df := &flows[i]
		cur := b.byName[df.name]
		if cur == nil {
			b.byName[df.name] = df
			b.flows = append(b.flows, df)
			continue
		}
		if !cur.canAdd(df) {
			// Apply what came before this delta, then start again from it.
			b.flushLocked()
			b.byName[df.name] = df
			b.flows = append(b.flows, df)
			continue
		}
		cur.add(df)
	}
	return gap
}

// Flush applies what the batch holds and empties it.
func (b *DeltaBatch) Flush() {
	b.e.persistMu.Lock()
	defer b.e.persistMu.Unlock()
	b.flushLocked()
}

func (b *DeltaBatch) flushLocked() {
	for _, df := range b.flows {
		b.e.applyFlow(df)
	}
	b.flows = b.flows[:0]
	clear(b.byName)
}

// canAdd says whether o, a later delta of the same flow, adds up with f:
// the same histogram layout and, for each SLO both hold, the same
// fingerprint, shape and base slot width. The histograms of a delta go to
// the slice SLOs it names, so when either holds histograms both must name
// the same SLOs; and a slice SLO that begins its slices in o while f holds
// events is applied apart, so that the events come after the start as they
// did. Outside of spec changes every delta of a flow names the same SLOs.
func (f *deltaFlow) canAdd(o *deltaFlow) bool {
	if f.latFP != o.latFP || f.base != o.base {
		return false
	}
	hists := len(f.entries) > 0 || len(o.entries) > 0
	if hists && len(f.slos) != len(o.slos) {
		return false
	}
	for i := range o.slos {
		os := &o.slos[i]
		s := f.slo(os.name)
		switch {
		case s == nil && hists:
			return false
		case s == nil:
			continue
		case s.fp != os.fp || s.shape != os.shape || s.base != os.base:
			return false
		case os.born && !s.born && (len(f.entries) > 0 || len(s.entries) > 0):
			return false
		}
	}
	return true
}

func (f *deltaFlow) slo(name string) *deltaSLO {
	for i := range f.slos {
		if f.slos[i].name == name {
			return &f.slos[i]
		}
	}
	return nil
}

// add adds o, a later delta of the flow that canAdd accepts, to f.
func (f *deltaFlow) add(o *deltaFlow) {
	f.events += o.events
	f.errors += o.errors
	f.last = max(f.last, o.last)
	f.entries = mergeSlots(f.entries, o.entries, histSlot, func(a, b *slotHist) { a.h.Merge(b.h) })
	for i := range o.slos {
		os := &o.slos[i]
		s := f.slo(os.name)
		if s == nil {
			f.slos = append(f.slos, *os)
			continue
		}
		if os.born && !s.born {
			s.born, s.next = true, os.next
		}
		if s.since == noTime {
			s.since = os.since
		}
		s.entries = mergeSlots(s.entries, os.entries, countsSlot, func(a, b *slotCounts) { a.c.add(b.c) })
		if os.ex != nil {
			s.ex = os.ex
		}
	}
}

// mergeSlots merges two lists of entries in ascending slot order (slot
// gives an entry's) into one, adding entries of the same slot with add
// (into a's).
func mergeSlots[T any](a, b []T, slot func(*T) int64, add func(*T, *T)) []T {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	// The usual case: b starts at or after a's last slot.
	if last := &a[len(a)-1]; slot(last) <= slot(&b[0]) {
		if slot(last) == slot(&b[0]) {
			add(last, &b[0])
			b = b[1:]
		}
		return append(a, b...)
	}
	out := make([]T, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := cmp.Compare(slot(&a[i]), slot(&b[j])); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			add(&a[i], &b[j])
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

func histSlot(en *slotHist) int64     { return en.k }
func countsSlot(en *slotCounts) int64 { return en.k }
