package slo

import (
	"bytes"
	"cmp"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// The engine's state survives a restart as a checkpoint (AppendSnapshot,
// Restore) plus a write-ahead log of deltas (AppendDelta, ApplyDelta):
// Restore of a snapshot taken at T followed by ApplyDelta of every delta
// taken after it, in order, gives the state an engine that never stopped
// would have, so Evaluate returns the same. A delta is not a list of
// events: it is, per flow, the latency histogram of each base slot touched
// since the previous delta and, per SLO, the good/bad counts of each base
// slot. Every window's slots are unions of whole base slots (see nestedRes),
// so a base slot lands where its events did.
//
// Encodings start with a magic and a version. Integers are varints;
// fingerprints are 8 bytes little-endian; a histogram is its
// sketch.AppendBinary form after a 4-byte little-endian length; a string is
// its length and bytes; a time is a byte (0 none, 1 some) and a varint of
// Unix nanoseconds.
//
// Snapshot, version 1:
//
//	"bwsn" 1 now seq firstEval events late tooLate future overflow
//	flows, each: name events errors lastEvent latency slos
//	  latency: fingerprint, levels, each: head, slots, window totals (histograms)
//	  slos, each: name fingerprint windows calendar slices exemplars
//	    windows, each: head, slots (total bad)
//	    calendar: present, start end total bad
//	    slices: present, born next, open slice histograms
//	CRC-32C (Castagnoli) of all of the above, 4 bytes little-endian
//
// Delta, version 1:
//
//	"bwdl" 1 seq firstEval events late tooLate future overflow (increments)
//	flows, each: name events errors (increments) lastEvent
//	  latency fingerprint, base, entries (slot delta-coded, histogram)
//	  slos, each: name fingerprint born [next] entries (slot delta-coded,
//	  total bad) exemplars
const (
	snapshotMagic   = "bwsn"
	deltaMagic      = "bwdl"
	encodingVersion = 1
)

var (
	// ErrCorruptState is wrapped by the errors of Restore and ApplyDelta
	// for input that is not an encoding this package wrote.
	ErrCorruptState = errors.New("slo: corrupt engine state")
	// ErrDeltaGap is wrapped by ApplyDelta's error when the delta's
	// sequence number skips one or more: a delta was lost. The delta is
	// applied all the same.
	ErrDeltaGap = errors.New("slo: delta sequence gap")
)

// RestoreReport says what Restore did.
type RestoreReport struct {
	// At is when the snapshot was taken.
	At time.Time
	// SLOs and Flows are how many SLOs and flows got their state back.
	SLOs, Flows int
	// Changed are SLOs whose spec changed what their state looks like
	// (objective, threshold, target, period or calendar, windows, slices,
	// or flow): their state was dropped and they start empty.
	Changed []string
	// Removed are SLOs in the snapshot that the engine does not have.
	Removed []string
	// New are the engine's SLOs the snapshot has no state for.
	New []string
	// LatencyReset are flows whose percentile windows changed: their
	// histograms start empty (their counters are restored).
	LatencyReset []string
	// Dropped counts flows without SLOs left out for MaxFlows.
	Dropped int
}

// AppendSnapshot appends the engine's whole state at now to b: every
// flow's counters, last event time and histograms, every SLO's windows,
// calendar period, open slices and exemplars, and the engine's counters.
// It first advances everything to now, as Evaluate would. A snapshot also
// closes the current delta: the next AppendDelta holds only what is
// observed after it, so a log needs only the deltas after its latest
// snapshot. What was observed since the last delta is then only in this
// snapshot: AppendDeltaAndSnapshot also puts it in a delta, for a log that
// must not depend on the snapshot being written.
func (e *Engine) AppendSnapshot(b []byte, now time.Time) []byte {
	_, b = e.cut(nil, b, now.UnixNano(), false, true)
	return b
}

// AppendDelta appends to b everything the engine observed since the
// previous AppendDelta or AppendSnapshot, for a write-ahead log: per flow
// the counter increments, the last event time and the latency histogram of
// each base slot touched; per SLO the good/bad counts of each base slot, the
// start of its slices and its exemplars if they changed. Flows and SLOs with
// nothing new are left out. Each delta has the next sequence number. It
// needs Options.Deltas; without it a delta holds counters, last event
// times and exemplars only.
func (e *Engine) AppendDelta(b []byte) []byte {
	b, _ = e.cut(b, nil, 0, true, false)
	return b
}

// AppendDeltaAndSnapshot appends a delta to delta and a snapshot at now to
// snap, cut at the same instant: the snapshot holds exactly what this
// delta and the ones before it hold. A log that makes the delta durable
// before it writes the snapshot loses nothing if the snapshot write
// fails; once the snapshot is durable, the deltas up to this one can go.
func (e *Engine) AppendDeltaAndSnapshot(delta, snap []byte, now time.Time) ([]byte, []byte) {
	return e.cut(delta, snap, now.UnixNano(), true, true)
}

// cut appends a delta, a snapshot at now, or both, flow by flow under each
// flow's lock, so that every event is in exactly one delta, or in the
// snapshot and the deltas up to it.
func (e *Engine) cut(delta, snap []byte, now int64, withDelta, withSnap bool) ([]byte, []byte) {
	e.persistMu.Lock()
	defer e.persistMu.Unlock()
	st := e.Stats()
	// A delta looks at the flows that marked themselves changed since the
	// last cut; a snapshot at all of them. Either way each flow's mark is
	// cleared under its lock before its state is read, so an event counted
	// after that read marks the flow again (markChanged comes after the
	// counters it guards).
	e.changedMu.Lock()
	listed := e.changed
	e.changed, e.changedSpare = e.changedSpare[:0], nil
	e.changedMu.Unlock()
	defer func() { e.changedSpare = listed[:0] }()
	var flows []*flowState
	if withSnap {
		flows = e.flowsInOrder()
	} else {
		flows = listed
		// In the engine's order, so that a replay creates flows as the
		// engine did.
		slices.SortFunc(flows, func(a, b *flowState) int { return a.idx - b.idx })
	}
	var countAt, snapStart int
	if withDelta {
		e.seq++
		delta = append(delta, deltaMagic...)
		delta = binary.AppendUvarint(delta, encodingVersion)
		delta = binary.AppendUvarint(delta, e.seq)
		delta = appendTime(delta, e.firstEval.Load())
		delta = appendStats(delta, Stats{
			Events: st.Events - e.reported.Events, Late: st.Late - e.reported.Late, TooLate: st.TooLate - e.reported.TooLate,
			Future: st.Future - e.reported.Future, Overflow: st.Overflow - e.reported.Overflow,
		})
		// The number of flows is known at the end: it goes in a fixed slot.
		countAt = len(delta)
		delta = append(delta, 0, 0, 0, 0)
	}
	if withSnap {
		snapStart = len(snap)
		snap = append(snap, snapshotMagic...)
		snap = binary.AppendUvarint(snap, encodingVersion)
		snap = binary.AppendVarint(snap, now)
		snap = binary.AppendUvarint(snap, e.seq)
		snap = appendTime(snap, e.firstEval.Load())
		snap = appendStats(snap, st)
		snap = binary.AppendUvarint(snap, uint64(len(flows)))
	}
	e.reported = st
	n := uint32(0)
	for _, f := range flows {
		f.mu.Lock()
		f.listed.Store(false)
		f.flushStage()
		for _, s := range f.slos {
			s.flush()
		}
		if withSnap {
			// Before the delta, so that what advancing starts (slices)
			// is in it too.
			f.lat.advance(now)
			for _, s := range f.slos {
				s.advance(now)
			}
		}
		if withDelta && f.changed() {
			delta = f.appendDelta(delta)
			n++
		}
		if withSnap {
			snap = f.appendSnapshot(snap)
		}
		f.mu.Unlock()
	}
	if withDelta {
		binary.LittleEndian.PutUint32(delta[countAt:], n)
	}
	if withSnap {
		snap = binary.LittleEndian.AppendUint32(snap, crc32.Checksum(snap[snapStart:], castagnoli))
	}
	return delta, snap
}

// castagnoli is the CRC-32C table: a snapshot ends with the checksum of
// everything before it, so Restore can trust the histogram encodings it
// decodes only later.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (e *Engine) flowsInOrder() []*flowState {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Clone(e.flowList)
}

func appendStats(b []byte, st Stats) []byte {
	for _, v := range [...]uint64{st.Events, st.Late, st.TooLate, st.Future, st.Overflow} {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

func appendTime(b []byte, t int64) []byte {
	if t == noTime {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), t)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendHist(b []byte, h *sketch.Histogram) []byte {
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	b, _ = h.AppendBinary(b) // never fails
	binary.LittleEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

func appendExemplars(b []byte, x *exemplars) []byte {
	b = binary.AppendUvarint(b, uint64(x.n))
	for _, ex := range x.ex[:x.n] {
		b = append(b, ex.TraceID[:]...)
		b = append(b, ex.SpanID[:]...)
		b = binary.AppendVarint(b, ex.End)
		b = binary.AppendVarint(b, int64(ex.Duration))
	}
	return b
}

// appendSnapshot writes the flow and its SLOs (flushed and advanced) and
// closes their delta. f.mu must be held.
func (f *flowState) appendSnapshot(b []byte) []byte {
	b = appendString(b, f.name)
	f.reportedEvents, f.reportedErrors = f.events.Load(), f.errors.Load()
	f.reportedLast = f.lastEvent.Load()
	b = binary.AppendUvarint(b, f.reportedEvents)
	b = binary.AppendUvarint(b, f.reportedErrors)
	b = appendTime(b, f.reportedLast)
	l := f.lat
	b = binary.LittleEndian.AppendUint64(b, l.fp)
	b = binary.AppendUvarint(b, uint64(len(l.levels)))
	for _, lv := range l.levels {
		b = binary.AppendVarint(b, lv.head)
		b = binary.AppendUvarint(b, uint64(len(lv.slots)))
		empty := sketch.New(lv.scale)
		for i, h := range lv.slots {
			switch {
			case lv.enc[i] != nil:
				b = binary.LittleEndian.AppendUint32(b, uint32(len(lv.enc[i])))
				b = append(b, lv.enc[i]...)
			case h != nil:
				b = appendHist(b, h)
			default:
				b = appendHist(b, empty)
			}
		}
		b = binary.AppendUvarint(b, uint64(len(lv.windows)))
		for _, w := range lv.windows {
			b = appendHist(b, w.total.Histogram())
		}
	}
	if f.pend != nil {
		f.pend.reset()
	}
	b = binary.AppendUvarint(b, uint64(len(f.slos)))
	for _, s := range f.slos {
		b = s.appendSnapshot(b)
		if s.pend != nil {
			s.pend.reset()
		}
		s.exDirty, s.bornDirty = false, false
	}
	return b
}

func (s *sloState) appendSnapshot(b []byte) []byte {
	b = appendString(b, s.spec.Name)
	b = binary.LittleEndian.AppendUint64(b, s.fp)
	b = binary.AppendUvarint(b, uint64(len(s.windows)))
	for _, w := range s.windows {
		b = binary.AppendVarint(b, w.head)
		b = binary.AppendUvarint(b, uint64(len(w.slots)))
		for _, c := range w.slots {
			b = binary.AppendUvarint(b, c.total)
			b = binary.AppendUvarint(b, c.bad)
		}
	}
	if c := s.cal; c != nil {
		b = append(b, 1)
		b = binary.AppendVarint(b, c.start)
		b = binary.AppendVarint(b, c.end)
		b = binary.AppendUvarint(b, c.sum.total)
		b = binary.AppendUvarint(b, c.sum.bad)
	} else {
		b = append(b, 0)
	}
	if c := s.slices; c != nil {
		b = append(b, 1)
		if c.born {
			b = binary.AppendVarint(append(b, 1), c.next)
		} else {
			b = append(b, 0)
		}
		b = binary.AppendUvarint(b, uint64(len(c.open)))
		for i := range c.open {
			b = appendHist(b, &c.open[i])
		}
	} else {
		b = append(b, 0)
	}
	return appendExemplars(b, &s.ex)
}

// decoder reads an encoding and remembers the first error; once it has
// failed every read returns zero, so decoding code checks once at the end
// of a record.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorruptState, fmt.Sprintf(format, args...))
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated or overlong varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("truncated or overlong varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) flag() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("flag is neither 0 nor 1")
	return false
}

func (d *decoder) raw(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	r := d.b[:n:n]
	d.b = d.b[n:]
	return r
}

func (d *decoder) fixed64() uint64 {
	r := d.raw(8)
	if r == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(r)
}

// count reads a number of items that take at least size bytes each, so a
// corrupt count cannot make a caller allocate more than the input holds.
func (d *decoder) count(size int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/size) {
		d.fail("count %d exceeds the %d bytes left", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) str() string { return string(d.raw(d.count(1))) }

func (d *decoder) time() int64 {
	if !d.flag() {
		return noTime
	}
	t := d.varint()
	if t == noTime {
		d.fail("time out of range")
	}
	return t
}

func (d *decoder) hist(h encoding.BinaryUnmarshaler) {
	r := d.raw(4)
	if r == nil {
		return
	}
	body := d.raw(int(binary.LittleEndian.Uint32(r)))
	if d.err != nil {
		return
	}
	if err := h.UnmarshalBinary(body); err != nil {
		d.fail("histogram: %v", err)
	}
}

func (d *decoder) stats() Stats {
	return Stats{Events: d.uvarint(), Late: d.uvarint(), TooLate: d.uvarint(), Future: d.uvarint(), Overflow: d.uvarint()}
}

func (d *decoder) exemplars(x *exemplars) {
	n := d.count(26)
	if n > maxExemplars {
		d.fail("%d exemplars, at most %d", n, maxExemplars)
		return
	}
	x.n = n
	for i := range n {
		ex := &x.ex[i]
		copy(ex.TraceID[:], d.raw(16))
		copy(ex.SpanID[:], d.raw(8))
		ex.End = d.varint()
		ex.Duration = time.Duration(d.varint())
	}
	for i := 1; i < n; i++ {
		if x.ex[i].End > x.ex[i-1].End {
			d.fail("exemplars out of order")
		}
	}
}

// header checks the magic and version.
func (d *decoder) header(magic string) {
	if string(d.raw(len(magic))) != magic {
		d.fail("not a %q record", magic)
		return
	}
	if v := d.uvarint(); v != encodingVersion && d.err == nil {
		d.fail("version %d, want %d", v, encodingVersion)
	}
}

// restoredFlow is a decoded flow, installed only when all input decoded.
type restoredFlow struct {
	name           string
	events, errors uint64
	last           int64
	lat            *latency // nil when the layout changed
	slos           []restoredSLO
}

type restoredSLO struct {
	s     *sloState
	state *sloState // decoded state with s's layout
}

// Restore loads a snapshot taken by AppendSnapshot, of this engine or of an
// earlier one with other specs: state is matched by SLO name and restored
// only where the SLO's fingerprint (what shapes its state) is unchanged; the
// report names what was dropped and what starts empty. The engine's counters,
// first evaluation time and delta sequence come back too. Call it on a new
// engine, before Observe: what it restores replaces what the engine holds.
// Corrupt input returns an error wrapping ErrCorruptState and changes
// nothing.
func (e *Engine) Restore(data []byte) (RestoreReport, error) {
	e.persistMu.Lock()
	defer e.persistMu.Unlock()
	var rep RestoreReport
	if len(data) < 4 || crc32.Checksum(data[:len(data)-4], castagnoli) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return rep, fmt.Errorf("restore: %w: checksum mismatch", ErrCorruptState)
	}
	d := &decoder{b: data[:len(data)-4]}
	d.header(snapshotMagic)
	at := d.varint()
	seq := d.uvarint()
	firstEval := d.time()
	st := d.stats()
	byName := make(map[string]*sloState, len(e.slos))
	for _, s := range e.slos {
		byName[s.spec.Name] = s
	}
	seen := make(map[string]bool)
	nflows := d.count(1)
	flows := make([]restoredFlow, 0, nflows)
	var scratch sketch.Histogram
	for range nflows {
		rf := restoredFlow{name: d.str(), events: d.uvarint(), errors: d.uvarint(), last: d.time()}
		if d.err != nil {
			break
		}
		// The layout the flow has (or gets, if it is new here) decides
		// whether its histograms fit.
		var owners []*sloState
		if f := e.lookup(rf.name); f != nil {
			owners = f.slos
		}
		want := e.newLatency(owners)
		fp := d.fixed64()
		if fp == want.fp {
			rf.lat = want
		}
		d.latency(rf.lat, &scratch)
		nslos := d.count(1)
		for range nslos {
			name, fp := d.str(), d.fixed64()
			if d.err != nil {
				break
			}
			s := byName[name]
			var state *sloState
			switch {
			case s == nil:
				rep.Removed = append(rep.Removed, name)
			case s.fp != fp || s.flow.name != rf.name:
				rep.Changed = append(rep.Changed, name)
			default:
				state = newSLOState(s.spec, s.flow, e.opts)
				rf.slos = append(rf.slos, restoredSLO{s: s, state: state})
			}
			if s != nil {
				seen[name] = true
			}
			d.slo(state, &scratch)
		}
		flows = append(flows, rf)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return RestoreReport{}, fmt.Errorf("restore: %w", d.err)
	}

	rep.At = time.Unix(0, at)
	e.seq = seq
	if firstEval != noTime {
		e.firstEval.Store(firstEval)
	}
	e.events.Store(st.Events)
	e.late.Store(st.Late)
	e.tooLate.Store(st.TooLate)
	e.future.Store(st.Future)
	e.overflow.Store(st.Overflow)
	e.reported = st
	for _, rf := range flows {
		f := e.flow(rf.name)
		if f == nil {
			rep.Dropped++
			continue
		}
		rep.Flows++
		f.mu.Lock()
		f.events.Store(rf.events)
		f.errors.Store(rf.errors)
		f.lastEvent.Store(rf.last)
		f.reportedEvents, f.reportedErrors, f.reportedLast = rf.events, rf.errors, rf.last
		if rf.lat != nil {
			f.setLatency(rf.lat)
		} else {
			rep.LatencyReset = append(rep.LatencyReset, rf.name)
		}
		for _, r := range rf.slos {
			r.s.install(r.state)
			rep.SLOs++
		}
		f.mu.Unlock()
	}
	for _, s := range e.slos {
		if !seen[s.spec.Name] {
			rep.New = append(rep.New, s.spec.Name)
		}
	}
	return rep, nil
}

// setLatency gives the flow its histograms. f.mu must be held.
func (f *flowState) setLatency(l *latency) {
	f.lat = l
	f.stage.Reset()
	f.staged, f.stageN = false, 0
	if f.pend != nil {
		f.pend.reset()
		f.pend.base = l.base
	}
}

// install takes the decoded state of a fresh sloState with the same
// layout. The flow's mu must be held.
func (s *sloState) install(r *sloState) {
	s.windows, s.period, s.cal, s.finest = r.windows, r.period, r.cal, r.finest
	s.tiers, s.exh, s.slices, s.ex = r.tiers, r.exh, r.slices, r.ex
	s.until = 0
	s.stage = counts{}
	if s.pend != nil {
		s.pend.reset()
	}
	s.exDirty, s.bornDirty = false, false
}

// latency decodes a flow's histograms into l, or skips them when l is nil.
// Slot histograms keep their encodings, decoded when first touched (see
// hlevel.slot); window totals are decoded now, for percentiles.
func (d *decoder) latency(l *latency, scratch *sketch.Histogram) {
	if l != nil {
		l.next = 0 // the levels' times are replaced
	}
	nlevels := d.count(2)
	if l != nil && nlevels != len(l.levels) && d.err == nil {
		d.fail("%d histogram levels, layout has %d", nlevels, len(l.levels))
	}
	for i := range nlevels {
		var lv *hlevel
		if l != nil && d.err == nil {
			lv = l.levels[i]
		}
		head := d.varint()
		nslots := d.count(4)
		if lv != nil && nslots != len(lv.slots) && d.err == nil {
			d.fail("%d histogram slots, layout has %d", nslots, len(lv.slots))
			lv = nil
		}
		var enc [][]byte
		if lv != nil {
			enc = make([][]byte, nslots)
		}
		for j := range nslots {
			r := d.raw(4)
			if r == nil {
				break
			}
			body := d.raw(int(binary.LittleEndian.Uint32(r)))
			if enc != nil && d.err == nil {
				enc[j] = bytes.Clone(body)
			}
		}
		nwin := d.count(4)
		if lv != nil && nwin != len(lv.windows) && d.err == nil {
			d.fail("%d histogram windows, level has %d", nwin, len(lv.windows))
			lv = nil
		}
		for j := range nwin {
			if lv == nil || d.err != nil {
				d.hist(scratch)
				continue
			}
			w := lv.windows[j]
			d.hist(&w.total)
			if d.err == nil && (w.total.ConfiguredScale() != lv.scale || w.total.Scale() > lv.scale) {
				d.fail("window total at scale %d (configured %d), level at %d", w.total.Scale(), w.total.ConfiguredScale(), lv.scale)
			}
		}
		if lv != nil && d.err == nil {
			lv.head, lv.headStart = head, head*lv.res
			copy(lv.enc, enc) // the same length, checked above
			lv.sealed = head
			lv.sealAt = (head+2)*lv.res + lv.lateness
		}
	}
}

// slo decodes an SLO's state into s (a fresh state), or skips it when s is
// nil.
func (d *decoder) slo(s *sloState, scratch *sketch.Histogram) {
	nwin := d.count(2)
	if s != nil && nwin != len(s.windows) && d.err == nil {
		d.fail("%d windows, layout has %d", nwin, len(s.windows))
	}
	for i := range nwin {
		var w *window
		if s != nil && d.err == nil {
			w = s.windows[i]
		}
		head := d.varint()
		n := d.count(2)
		if w != nil && int64(n) != w.n && d.err == nil {
			d.fail("%d slots, window has %d", n, w.n)
		}
		for j := range n {
			c := counts{total: d.uvarint(), bad: d.uvarint()}
			if c.bad > c.total {
				d.fail("%d bad of %d", c.bad, c.total)
			}
			if w != nil && d.err == nil {
				w.slots[j] = c
				w.sum.add(c)
			}
		}
		if w != nil {
			w.head, w.headStart = head, head*w.res
		}
	}
	if d.flag() {
		start, end := d.varint(), d.varint()
		c := counts{total: d.uvarint(), bad: d.uvarint()}
		switch {
		case d.err != nil:
		case s == nil || s.cal == nil:
			if s != nil {
				d.fail("calendar state for an SLO without a calendar")
			}
		case end <= start || end-start > int64(32*24*time.Hour) || c.bad > c.total:
			d.fail("calendar period [%d, %d) with %d bad of %d", start, end, c.bad, c.total)
		default:
			s.cal.start, s.cal.end, s.cal.sum = start, end, c
			s.cal.firstFull = -floorDiv(-start, s.cal.base) * s.cal.base
		}
	} else if s != nil && s.cal != nil && d.err == nil {
		d.fail("no calendar state for a calendar SLO")
	}
	if d.flag() {
		born := d.flag()
		var next int64
		if born {
			next = d.varint()
		}
		m := d.count(4)
		c := (*sliceState)(nil)
		if s != nil {
			c = s.slices
		}
		switch {
		case d.err != nil:
		case s != nil && c == nil:
			d.fail("slice state for an SLO without slices")
		case c != nil && m != len(c.open):
			d.fail("%d open slices, want %d", m, len(c.open))
		case c != nil && born && (next > math.MaxInt64/c.length-2 || next < math.MinInt64/c.length+2):
			d.fail("slice %d out of range", next)
		case c != nil && born:
			c.born, c.next = true, next
			c.nextClose = (next+1)*c.length + c.lateness
		}
		for i := range m {
			if c == nil || d.err != nil {
				d.hist(scratch)
				continue
			}
			d.hist(&c.open[i])
			if d.err == nil && c.open[i].ConfiguredScale() != sketch.DefaultScale {
				d.fail("slice histogram at scale %d", c.open[i].ConfiguredScale())
			}
		}
	} else if s != nil && s.slices != nil && d.err == nil {
		d.fail("no slice state for a slice SLO")
	}
	var x exemplars
	d.exemplars(&x)
	if s != nil {
		s.ex = x
	}
}

// changed says the flow has something for a delta. f.mu must be held.
func (f *flowState) changed() bool {
	if f.events.Load() != f.reportedEvents || f.errors.Load() != f.reportedErrors ||
		f.lastEvent.Load() != f.reportedLast || f.pend != nil && len(f.pend.entries) > 0 {
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
	return s.exDirty || s.bornDirty || s.pend != nil && len(s.pend.entries) > 0
}

func (f *flowState) appendDelta(b []byte) []byte {
	b = appendString(b, f.name)
	events, errs, last := f.events.Load(), f.errors.Load(), f.lastEvent.Load()
	b = binary.AppendUvarint(b, events-f.reportedEvents)
	b = binary.AppendUvarint(b, errs-f.reportedErrors)
	b = appendTime(b, last)
	f.reportedEvents, f.reportedErrors, f.reportedLast = events, errs, last
	b = binary.LittleEndian.AppendUint64(b, f.lat.fp)
	b = binary.AppendUvarint(b, uint64(f.lat.base))
	hasEntries := false
	if p := f.pend; p != nil {
		slices.SortFunc(p.entries, func(a, b slotHist) int { return cmp.Compare(a.k, b.k) })
		b = binary.AppendUvarint(b, uint64(len(p.entries)))
		prev := int64(0)
		for _, en := range p.entries {
			b = binary.AppendVarint(b, en.k-prev)
			prev = en.k
			b = appendHist(b, en.h)
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

func (s *sloState) appendDelta(b []byte) []byte {
	b = appendString(b, s.spec.Name)
	b = binary.LittleEndian.AppendUint64(b, s.fp)
	if c := s.slices; s.bornDirty && c != nil && c.born {
		b = binary.AppendVarint(append(b, 1), c.next)
	} else {
		b = append(b, 0)
	}
	if p := s.pend; p != nil {
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
	s.exDirty, s.bornDirty = false, false
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
	born    bool
	next    int64
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
	d := &decoder{b: rec}
	d.header(deltaMagic)
	seq := d.uvarint()
	firstEval := d.time()
	st := d.stats()
	nflows := int(binary.LittleEndian.Uint32(append(d.raw(4), 0, 0, 0, 0)))
	if nflows > len(d.b) {
		d.fail("%d flows in %d bytes", nflows, len(d.b))
	}
	flows := make([]deltaFlow, 0, min(nflows, 1024))
	for range nflows {
		if d.err != nil {
			break
		}
		flows = append(flows, d.deltaFlow())
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("apply delta: %w", d.err)
	}
	if seq <= e.seq {
		return nil
	}
	var gap error
	if seq > e.seq+1 {
		gap = fmt.Errorf("apply delta %d after %d: %w", seq, e.seq, ErrDeltaGap)
	}
	e.seq = seq
	if firstEval != noTime {
		e.firstEval.CompareAndSwap(noTime, firstEval)
	}
	// Replayed counts are not news for this engine's next delta.
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
	for i := range flows {
		e.applyFlow(&flows[i])
	}
	return gap
}

func (d *decoder) deltaFlow() deltaFlow {
	df := deltaFlow{name: d.str(), events: d.uvarint(), errors: d.uvarint(), last: d.time(), latFP: d.fixed64()}
	base := d.uvarint()
	if d.err == nil && (base == 0 || base > math.MaxInt64) {
		d.fail("base %d", base)
	}
	df.base = int64(base)
	n := d.count(5)
	k := int64(0)
	for i := range n {
		k = d.slot(k, i, df.base)
		h := new(sketch.Histogram)
		d.hist(h)
		if d.err != nil {
			return df
		}
		df.entries = append(df.entries, slotHist{k: k, h: h})
	}
	nslos := d.count(11)
	for range nslos {
		ds := deltaSLO{name: d.str(), fp: d.fixed64()}
		if ds.born = d.flag(); ds.born {
			ds.next = d.varint()
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
			if s.spec.Name == ds.name && s.fp == ds.fp {
				ms = append(ms, match{s, ds})
			}
		}
	}
	// Slices begin where the original engine began them, before any of
	// their events come in.
	for _, m := range ms {
		if c := m.s.slices; c != nil && m.ds.born && !c.born {
			c.born, c.next = true, m.ds.next
			c.nextClose = (m.ds.next+1)*c.length + c.lateness
			m.s.until = 0
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
			for _, en := range m.ds.entries {
				if en.k > math.MaxInt64/s.base || en.k < math.MinInt64/s.base {
					continue // corrupt: no time to put it at
				}
				if t := en.k * s.base; t >= s.until {
					s.advance(t)
				}
				s.addSlot(en.k, en.c)
			}
		}
		if m.ds.ex != nil {
			s.ex = *m.ds.ex
		}
	}
}
