package slo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// RestoreReport says what Restore did.
type RestoreReport struct {
	// At is when the snapshot was taken.
	At time.Time
	// SLOs and Flows are how many SLOs and flows got their state back.
	SLOs, Flows int
	// Changed are SLOs whose spec changed what their counts mean (their
	// objective, threshold, slices, or flow or its match rules): their
	// state was dropped and they start empty.
	Changed []string
	// Rebuilt are SLOs whose counts mean the same but whose windows or
	// period changed (their tiers, period or calendar): their windows were
	// rebuilt from the snapshot's, as far back as those reach. They are
	// counted in SLOs too. A change of target alone changes nothing of an
	// SLO's state.
	Rebuilt []string
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
			var shape uint64
			if d.version >= 2 {
				shape = d.fixed64()
			}
			if d.err != nil {
				break
			}
			s := byName[name]
			var state *sloState
			rebin := false
			switch {
			case s == nil:
				rep.Removed = append(rep.Removed, name)
			case s.flow.name != rf.name:
				rep.Changed = append(rep.Changed, name)
			case d.version < 2 && fp == s.fingerprintV1(e.opts), d.version >= 2 && fp == s.fp:
				state = newSLOState(s.spec, s.flow, e.opts)
			case d.version >= 2 && shape == s.shape:
				state, rebin = newSLOState(s.spec, s.flow, e.opts), true
				rep.Rebuilt = append(rep.Rebuilt, name)
			default:
				rep.Changed = append(rep.Changed, name)
			}
			if state != nil {
				rf.slos = append(rf.slos, restoredSLO{s: s, state: state})
			}
			if s != nil {
				seen[name] = true
			}
			d.slo(state, &scratch, firstEval, rebin)
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

// install takes the decoded state of a fresh sloState with the same
// layout. The flow's mu must be held.
func (s *sloState) install(r *sloState) {
	s.windows, s.period, s.cal, s.finest = r.windows, r.period, r.cal, r.finest
	s.tiers, s.exh, s.slices, s.ex = r.tiers, r.exh, r.slices, r.ex
	s.since, s.cum = r.since, r.cum
	s.until = 0
	s.stage, s.inPend = counts{}, counts{}
	if s.pend != nil {
		s.pend.reset()
	}
	s.exDirty, s.bornDirty, s.sinceDirty = false, false, false
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
		if lv != nil && int64(nslots) != lv.n && d.err == nil {
			d.fail("%d histogram slots, layout has %d", nslots, lv.n)
			lv = nil
		}
		var enc [][]byte
		var empty []byte
		if lv != nil {
			enc = make([][]byte, nslots)
			// An empty slot stays empty rather than a copy of an empty
			// histogram's encoding: most slots of quiet flows are.
			empty, _ = sketch.New(lv.scale).AppendBinary(nil)
		}
		for j := range nslots {
			r := d.raw(4)
			if r == nil {
				break
			}
			body := d.raw(int(binary.LittleEndian.Uint32(r)))
			if enc != nil && d.err == nil && !bytes.Equal(body, empty) {
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
			if slices.ContainsFunc(enc, func(e []byte) bool { return e != nil }) {
				lv.rings()
				copy(lv.enc, enc) // the same length, checked above
			}
			lv.sealed = head
			lv.sealAt = (head+2)*lv.res + lv.lateness
		}
	}
}

// slo decodes an SLO's state into s (a fresh state), or skips it when s is
// nil. A version 1 snapshot has no since: the SLO has been observed since
// firstEval, the snapshot's. With rebin, s has the snapshot's shape but
// other windows or another period: its windows are rebuilt from the
// snapshot's (see rebin), and a calendar period is kept only if it is the
// same period.
func (d *decoder) slo(s *sloState, scratch *sketch.Histogram, firstEval int64, rebin bool) {
	since := firstEval
	if d.version >= 2 {
		since = d.time()
	}
	if s != nil {
		s.since = since
	}
	if d.version >= 3 {
		cum := counts{total: d.uvarint(), bad: d.uvarint()}
		if cum.bad > cum.total && d.err == nil {
			d.fail("%d bad of %d counted", cum.bad, cum.total)
		}
		if s != nil {
			s.cum = cum
		}
	}
	nwin := d.count(2)
	if s != nil && !rebin && nwin != len(s.windows) && d.err == nil {
		d.fail("%d windows, layout has %d", nwin, len(s.windows))
	}
	var old []*window
	for i := range nwin {
		var w *window
		var dur time.Duration
		var res int64
		if d.version >= 2 {
			dur, res = time.Duration(d.uvarint()), int64(d.uvarint())
			if (dur <= 0 || res <= 0 || int64(dur) < res) && d.err == nil {
				d.fail("window %d with slots of %d", dur, res)
			}
		}
		head := d.varint()
		n := d.count(2)
		switch {
		case s == nil || d.err != nil:
		case rebin:
			w = &window{dur: dur, res: res, n: int64(n), slots: make([]counts, n)}
			if s.slices != nil {
				w.ev = &windowEvents{slots: make([]uint64, n)}
			}
			old = append(old, w)
		default:
			w = s.windows[i]
			if d.version >= 2 && (dur != w.dur || res != w.res) {
				d.fail("window %v in slots of %d, layout has %v in %d", dur, res, w.dur, w.res)
			}
			if int64(n) != w.n {
				d.fail("%d slots, window has %d", n, w.n)
			}
		}
		if d.err == nil && w != nil && (head > math.MaxInt64/w.res || head < math.MinInt64/w.res) {
			d.fail("window head %d out of range", head)
		}
		for j := range n {
			c := counts{total: d.uvarint(), bad: d.uvarint()}
			if c.bad > c.total {
				d.fail("%d bad of %d", c.bad, c.total)
			}
			if w != nil && d.err == nil && c != (counts{}) {
				w.slotRing()[j] = c
				w.sum.add(c)
			}
		}
		if w != nil {
			w.head, w.headStart = head, head*w.res
		}
		if d.version < 2 || !d.flag() {
			// Version 1 has no requests: a slice SLO's windows count none
			// for the slices they hold.
			if w != nil && w.ev != nil && d.version >= 2 && d.err == nil {
				d.fail("no window events for a slice SLO")
			}
			continue
		}
		if w != nil && w.ev == nil && d.err == nil {
			d.fail("window events for an SLO without slices")
		}
		for j := range n {
			v := d.uvarint()
			if w != nil && w.ev != nil && d.err == nil {
				w.ev.slots[j] = v
				w.ev.sum += v
			}
		}
	}
	if rebin && s != nil && d.err == nil {
		for _, w := range s.windows {
			w.rebin(old)
		}
	}
	if d.flag() {
		start, end := d.varint(), d.varint()
		c := counts{total: d.uvarint(), bad: d.uvarint()}
		var events uint64
		if d.version >= 2 {
			events = d.uvarint()
		}
		switch {
		case d.err != nil:
		case s == nil || s.cal == nil:
			if s != nil && !rebin {
				d.fail("calendar state for an SLO without a calendar")
			}
		case end <= start || end-start > int64(32*24*time.Hour) || c.bad > c.total:
			d.fail("calendar period [%d, %d) with %d bad of %d", start, end, c.bad, c.total)
		case rebin && !s.cal.isPeriod(start, end):
			// Another calendar: its period starts empty.
		default:
			s.cal.start, s.cal.end, s.cal.sum, s.cal.events = start, end, c, events
			s.cal.firstFull = -floorDiv(-start, s.cal.base) * s.cal.base
		}
	} else if s != nil && s.cal != nil && !rebin && d.err == nil {
		d.fail("no calendar state for a calendar SLO")
	}
	if d.flag() {
		born := d.flag()
		var next int64
		var judged uint64
		if born {
			next = d.varint()
			if d.version >= 2 {
				judged = d.uvarint()
			}
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
		case judged > uint64(m):
			d.fail("%d judged slices of %d open", judged, m)
		case c != nil && born:
			c.born, c.next, c.judged = true, next, next+int64(judged)
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
			c.tally(i)
		}
		// The verdicts of the judged slices, as the windows count them.
		for j := range int64(judged) {
			v := sliceCount{n: counts{total: d.uvarint(), bad: d.uvarint()}, events: d.uvarint()}
			if v.n.total > 1 || v.n.bad > v.n.total {
				d.fail("slice verdict %d bad of %d", v.n.bad, v.n.total)
			}
			if c != nil && d.err == nil {
				c.verdicts[ring(next+j, int64(m))].sliceCount = v
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
