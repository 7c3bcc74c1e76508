package slo

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// AppendDelta appends to b everything the engine observed since the
// previous AppendDelta or AppendSnapshot, for a write-ahead log: per flow
// the counter increments, the last event time and the latencies of each
// base slot touched; per SLO the good/bad counts of each base slot, the
// start of its slices and its exemplars if they changed. Flows and SLOs with
// nothing new are left out. Each delta has the next sequence number. It
// needs Options.Deltas; without it a delta holds counters, last event
// times and exemplars only.
func (e *Engine) AppendDelta(b []byte) []byte {
	b, _ = e.cut(b, nil, 0, true, false)
	return b
}

// changed says the flow has something for a delta. f.mu must be held.
func (f *flowState) changed() bool {
	if f.events.Load() != f.reportedEvents || f.errors.Load() != f.reportedErrors ||
		f.lastEvent.Load() != f.reportedLast || f.pend != nil && len(f.pend.entries) > 0 || f.stagedAsValues() {
		return true
	}
	for _, s := range f.slos {
		if s.changed() {
			return true
		}
	}
	return false
}

func (s *sloState) changed() bool {
	return s.exDirty || s.bornDirty || s.sinceDirty || s.pend != nil && len(s.pend.entries) > 0 || s.stagedDirect()
}

func (f *flowState) appendDelta(b []byte) []byte {
	b = appendString(b, f.name)
	events, errs, last := f.events.Load(), f.errors.Load(), f.lastEvent.Load()
	b = binary.AppendUvarint(b, events-f.reportedEvents)
	b = binary.AppendUvarint(b, errs-f.reportedErrors)
	b = appendTime(b, last)
	f.reportedEvents, f.reportedErrors, f.reportedLast = events, errs, last
	b = binary.LittleEndian.AppendUint64(b, f.latFP)
	b = binary.AppendUvarint(b, uint64(f.base))
	hasEntries := false
	if f.stagedAsValues() {
		// One entry: the staged slot's latencies that no delta holds.
		b = binary.AppendUvarint(b, 1)
		b = binary.AppendVarint(b, f.stageK)
		b = appendValues(append(b, entryValues), f.stageBuf[f.inPend:f.stageN])
		f.inPend = f.stageN
		hasEntries = true
	} else if p := f.pend; p != nil {
		slices.SortFunc(p.entries, func(a, b slotHist) int { return cmp.Compare(a.k, b.k) })
		b = binary.AppendUvarint(b, uint64(len(p.entries)))
		prev := int64(0)
		for _, en := range p.entries {
			b = binary.AppendVarint(b, en.k-prev)
			prev = en.k
			b = appendHist(append(b, entryHist), en.h)
		}
		hasEntries = len(p.entries) > 0
		p.reset()
	} else {
		b = binary.AppendUvarint(b, 0)
	}
	// Slice SLOs come with every flow that has histograms, so that
	// ApplyDelta can check they still fit before feeding their slices.
	n := 0
	for _, s := range f.slos {
		if s.changed() || hasEntries && s.slices != nil {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	for _, s := range f.slos {
		if s.changed() || hasEntries && s.slices != nil {
			b = s.appendDelta(b)
		}
	}
	return b
}

// stagedAsValues says the next delta takes the flow's staged latencies
// as they are, rather than recorded into a pending histogram first: when
// nothing else is pending and they are still in stageBuf. With thousands
// of flows a batch brings most flows a latency or two, and a histogram
// costs a cache miss or two to fill, encode and clear for each; a value
// costs a few bytes. A replay records them into the histogram the other
// way would have written (deltaFlow), so the state is the same. f.mu
// must be held.
func (f *flowState) stagedAsValues() bool {
	return f.pend != nil && len(f.pend.entries) == 0 && f.staged && f.inPend < f.stageN && f.stageN <= len(f.stageBuf)
}

// A delta's latency entry (from version 4) is a histogram or values.
const (
	entryHist   = 0
	entryValues = 1
)

func (s *sloState) appendDelta(b []byte) []byte {
	b = appendString(b, s.name)
	b = binary.LittleEndian.AppendUint64(b, s.fp)
	// The shape and the base slot width let an SLO with other windows
	// take the counts (see applyFlow).
	b = binary.LittleEndian.AppendUint64(b, s.shape)
	b = binary.AppendUvarint(b, uint64(s.base))
	if c := s.slices; s.bornDirty && c != nil && c.born {
		// Where the slices began: slices may have closed since, and a
		// replay needs them too.
		b = binary.AppendVarint(append(b, 1), c.first)
	} else {
		b = append(b, 0)
	}
	if s.sinceDirty {
		b = appendTime(b, s.since)
	} else {
		b = appendTime(b, noTime)
	}
	if s.stagedDirect() {
		c := s.stage
		c.sub(s.inPend)
		b = binary.AppendUvarint(b, 1)
		b = binary.AppendVarint(b, s.stageK)
		b = binary.AppendUvarint(b, c.total)
		b = binary.AppendUvarint(b, c.bad)
		s.inPend = s.stage
	} else if p := s.pend; p != nil {
		slices.SortFunc(p.entries, func(a, b slotCounts) int { return cmp.Compare(a.k, b.k) })
		b = binary.AppendUvarint(b, uint64(len(p.entries)))
		prev := int64(0)
		for _, en := range p.entries {
			b = binary.AppendVarint(b, en.k-prev)
			prev = en.k
			b = binary.AppendUvarint(b, en.c.total)
			b = binary.AppendUvarint(b, en.c.bad)
		}
		p.reset()
	} else {
		b = binary.AppendUvarint(b, 0)
	}
	if s.exDirty {
		b = appendExemplars(append(b, 1), &s.ex)
	} else {
		b = append(b, 0)
	}
	s.exDirty, s.bornDirty, s.sinceDirty = false, false, false
	return b
}

// deltaFlow and deltaSLO are a decoded delta, applied only when it all
// decoded.
type deltaFlow struct {
	name           string
	events, errors uint64
	last           int64
	latFP          uint64
	base           int64
	entries        []slotHist
	slos           []deltaSLO
}

type deltaSLO struct {
	name    string
	fp      uint64
	shape   uint64
	base    int64 // 0 in version 1
	born    bool
	next    int64
	since   int64
	entries []slotCounts
	ex      *exemplars
}

// ApplyDelta adds a delta taken by AppendDelta to the engine's state. Apply
// the deltas taken after the snapshot given to Restore, in order: a delta
// whose sequence number is not above the engine's (one the snapshot already
// holds, or one applied before) is skipped and returns nil, so replaying a
// log from its start is safe. A delta that skips sequence numbers is
// applied and returns an error wrapping ErrDeltaGap. State of SLOs whose
// fingerprint changed is skipped. Corrupt input returns an error wrapping
// ErrCorruptState and changes nothing.
func (e *Engine) ApplyDelta(rec []byte) error {
	e.persistMu.Lock()
	defer e.persistMu.Unlock()
	flows, ok, gap, err := e.takeDelta(rec)
	if err != nil || !ok {
		return err
	}
	for i := range flows {
		e.applyFlow(&flows[i])
	}
	return gap
}

// DecodedDelta is a delta decoded by DecodeDelta, for DeltaBatch.AddDecoded.
type DecodedDelta struct {
	seq       uint64
	firstEval int64
	st        Stats
	flows     []deltaFlow
}

// DecodeDelta decodes a delta taken by AppendDelta. It needs no engine, so
// a replay can decode the log ahead on another goroutine while the engine
// restores its checkpoint and applies what came before. Corrupt input
// returns an error wrapping ErrCorruptState. rec may be reused once it
// returns.
func DecodeDelta(rec []byte) (*DecodedDelta, error) {
	d := &decoder{b: rec}
	d.header(deltaMagic)
	dd := &DecodedDelta{seq: d.uvarint(), firstEval: d.time(), st: d.stats()}
	nflows := int(binary.LittleEndian.Uint32(append(d.raw(4), 0, 0, 0, 0)))
	if nflows > len(d.b) {
		d.fail("%d flows in %d bytes", nflows, len(d.b))
	}
	dd.flows = make([]deltaFlow, 0, min(nflows, 1024))
	for range nflows {
		if d.err != nil {
			break
		}
		dd.flows = append(dd.flows, d.deltaFlow())
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, fmt.Errorf("apply delta: %w", d.err)
	}
	return dd, nil
}

// takeDelta decodes a delta and, unless the engine holds it already (ok
// false), takes its sequence number and engine counters; its flows are
// for the caller to apply. gap wraps ErrDeltaGap when sequence numbers were
// skipped; err reports corrupt input, which changes nothing. e.persistMu
// must be held.
func (e *Engine) takeDelta(rec []byte) (flows []deltaFlow, ok bool, gap, err error) {
	dd, err := DecodeDelta(rec)
	if err != nil {
		return nil, false, nil, err
	}
	ok, gap = e.takeDecoded(dd)
	return dd.flows, ok, gap, nil
}

// takeDecoded is takeDelta for a decoded delta.
func (e *Engine) takeDecoded(dd *DecodedDelta) (ok bool, gap error) {
	if dd.seq <= e.seq {
		return false, nil
	}
	if dd.seq > e.seq+1 {
		gap = fmt.Errorf("apply delta %d after %d: %w", dd.seq, e.seq, ErrDeltaGap)
	}
	e.seq = dd.seq
	if dd.firstEval != noTime {
		e.firstEval.CompareAndSwap(noTime, dd.firstEval)
	}
	// Replayed counts are not news for this engine's next delta.
	st := dd.st
	e.events.Add(st.Events)
	e.late.Add(st.Late)
	e.tooLate.Add(st.TooLate)
	e.future.Add(st.Future)
	e.overflow.Add(st.Overflow)
	e.reported.Events += st.Events
	e.reported.Late += st.Late
	e.reported.TooLate += st.TooLate
	e.reported.Future += st.Future
	e.reported.Overflow += st.Overflow
	return true, gap
}

func (d *decoder) deltaFlow() deltaFlow {
	df := deltaFlow{name: d.str(), events: d.uvarint(), errors: d.uvarint(), last: d.time(), latFP: d.fixed64()}
	base := d.uvarint()
	if d.err == nil && (base == 0 || base > math.MaxInt64) {
		d.fail("base %d", base)
	}
	df.base = int64(base)
	n := d.count(4)
	k := int64(0)
	for i := range n {
		k = d.slot(k, i, df.base)
		h := new(sketch.Histogram)
		d.entry(h)
		if d.err != nil {
			return df
		}
		df.entries = append(df.entries, slotHist{k: k, h: h})
	}
	nslos := d.count(11)
	for range nslos {
		ds := deltaSLO{name: d.str(), fp: d.fixed64()}
		if d.version >= 2 {
			ds.shape = d.fixed64()
			base := d.uvarint()
			if d.err == nil && (base == 0 || base > math.MaxInt64) {
				d.fail("base %d", base)
			}
			ds.base = int64(base)
		}
		if ds.born = d.flag(); ds.born {
			ds.next = d.varint()
		}
		ds.since = noTime
		if d.version >= 2 {
			ds.since = d.time()
		}
		n := d.count(3)
		k := int64(0)
		for i := range n {
			k = d.slot(k, i, 1)
			c := counts{total: d.uvarint(), bad: d.uvarint()}
			if c.bad > c.total {
				d.fail("%d bad of %d", c.bad, c.total)
			}
			ds.entries = append(ds.entries, slotCounts{k: k, c: c})
		}
		if d.flag() {
			ds.ex = new(exemplars)
			d.exemplars(ds.ex)
		}
		if d.err != nil {
			return df
		}
		df.slos = append(df.slos, ds)
	}
	return df
}

// slot reads the i-th delta-coded slot index after prev: they ascend, and
// a slot times its base must be a time.
func (d *decoder) slot(prev int64, i int, base int64) int64 {
	dk := d.varint()
	k := prev + dk
	if i > 0 && (dk <= 0 || k < prev) || i == 0 && k != dk {
		d.fail("slots out of order")
	}
	if k > math.MaxInt64/base || k < math.MinInt64/base {
		d.fail("slot %d out of range", k)
	}
	return k
}

// applyFlow adds one flow's part of a delta.
func (e *Engine) applyFlow(df *deltaFlow) {
	f := e.flow(df.name)
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// Whatever this engine observed itself goes in first, as it would
	// have at its next read.
	f.flushStage()
	for _, s := range f.slos {
		s.flush()
	}
	f.events.Add(df.events)
	f.errors.Add(df.errors)
	f.reportedEvents += df.events
	f.reportedErrors += df.errors
	if df.last != noTime && df.last > f.lastEvent.Load() {
		f.lastEvent.Store(df.last)
	}
	f.reportedLast = f.lastEvent.Load()
	type match struct {
		s  *sloState
		ds *deltaSLO
	}
	var ms []match
	for i := range df.slos {
		ds := &df.slos[i]
		for _, s := range f.slos {
			if s.spec.Name != ds.name {
				continue
			}
			switch {
			case ds.base == 0 && s.fp == ds.fp: // version 1: fp is the old one
			case ds.base == 0 && s.fingerprintV1(e.opts) == ds.fp:
			case ds.base != 0 && (s.fp == ds.fp || s.shape == ds.shape):
			default:
				continue
			}
			ms = append(ms, match{s, ds})
		}
	}
	// Slices begin where the original engine began them, before any of
	// their events come in.
	for _, m := range ms {
		if c := m.s.slices; c != nil && m.ds.born && !c.born {
			c.born, c.first, c.next, c.judged = true, m.ds.next, m.ds.next, m.ds.next
			c.nextClose = (m.ds.next+1)*c.length + c.lateness
			m.s.until = 0
		}
		if m.ds.since != noTime && m.s.since == noTime {
			m.s.since = m.ds.since
		}
	}
	var sliceSLOs []*sloState
	for _, m := range ms {
		if m.s.slices != nil {
			sliceSLOs = append(sliceSLOs, m.s)
		}
	}
	latOK := f.lat.fp == df.latFP
	for _, en := range df.entries {
		f.addSlot(en.k, df.base, en.h, latOK, sliceSLOs)
	}
	for _, m := range ms {
		s := m.s
		if s.slices == nil {
			// Slots of another base width (the SLO's windows changed
			// since) go to the slot holding their start: exact when one
			// width divides the other, as slots align to the epoch.
			base := cmp.Or(m.ds.base, s.base)
			for _, en := range m.ds.entries {
				if en.k > math.MaxInt64/base || en.k < math.MinInt64/base {
					continue // corrupt: no time to put it at
				}
				t := en.k * base
				if t >= s.until {
					s.advance(t)
				}
				s.addSlot(floorDiv(t, s.base), en.c)
				s.cum.add(en.c)
			}
		}
		if m.ds.ex != nil {
			s.ex = *m.ds.ex
		}
	}
}
