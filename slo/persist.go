package slo

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"time"
)

// The engine's state survives a restart as a checkpoint (AppendSnapshot,
// Restore) plus a write-ahead log of deltas (AppendDelta, ApplyDelta):
// Restore of a snapshot taken at T followed by ApplyDelta of every delta
// taken after it, in order, gives the state an engine that never stopped
// would have, so Evaluate returns the same. A delta is not a list of
// events: it is, per flow, the latencies of each base slot touched since
// the previous delta (a histogram, or the values themselves for a slot
// with few) and, per SLO, the good/bad counts of each base slot. Every
// window's slots are unions of whole base slots (see nestedRes), so a base
// slot lands where its events did.
//
// Encodings start with a magic and a version. Integers are varints;
// fingerprints are 8 bytes little-endian; a histogram is its
// sketch.AppendBinary form after a 4-byte little-endian length; a string is
// its length and bytes; a time is a byte (0 none, 1 some) and a varint of
// Unix nanoseconds.
//
// Snapshot, version 4 (as version 3):
//
//	"bwsn" 4 now seq firstEval events late tooLate future overflow
//	flows, each: name events errors lastEvent latency slos
//	  latency: fingerprint, levels, each: head, slots, window totals (histograms)
//	  slos, each: name fingerprint shape since counted windows calendar slices exemplars
//	    counted: total bad (the SLO's events since its state began)
//	    windows, each: head, slots (total bad), events present, [slots' events]
//	    calendar: present, start end total bad events
//	    slices: present, born [next judged-next], open slice histograms,
//	      verdicts of slices next..judged-1 (total bad events)
//	CRC-32C (Castagnoli) of all of the above, 4 bytes little-endian
//
// Delta, version 4:
//
//	"bwdl" 4 seq firstEval events late tooLate future overflow (increments)
//	flows, each: name events errors (increments) lastEvent
//	  latency fingerprint, base, entries (slot delta-coded, kind, latencies)
//	    kind 0: a histogram; kind 1: a count and that many values
//	  slos, each: name fingerprint shape base born [next] since entries
//	  (slot delta-coded, total bad) exemplars
//
// Version 3 (and 2) deltas have no kind: every entry is a histogram.
// Version 1, which Restore and ApplyDelta still read, has no since, no
// events and no verdicts: an SLO restored from it warms up from the
// snapshot's firstEval, its slice windows count no requests for the slices
// it holds, and its open slices are judged again. Version 2 has no
// counted: an SLO restored from it counts from 0 again.
const (
	snapshotMagic   = "bwsn"
	deltaMagic      = "bwdl"
	encodingVersion = 4 // 4: a delta's latencies may be values (appendDelta)
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
		// In the engine's order, so that a replay creates flows as the
		// engine did.
		slices.SortFunc(listed, func(a, b listedFlow) int { return a.idx - b.idx })
		flows = e.cutFlows[:0]
		for _, l := range listed {
			flows = append(flows, l.f)
		}
		e.cutFlows = flows
		e.warm(flows)
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
		if withSnap {
			// A snapshot is a read: everything staged is counted, and
			// ended slices are judged, so that it holds no dirty
			// verdict. Before the delta, so that what advancing starts
			// (slices) is in it too.
			f.flushStage()
			f.lat.advance(now)
			for _, s := range f.slos {
				s.flush()
				s.advance(now)
				if now >= s.judgeAt {
					s.judgeSlices(now)
				}
			}
		} else {
			// A delta only takes what is staged; the windows get it at
			// the next read (see flowState.stage). A sparse flow's
			// staged latencies go in as they are (appendDelta).
			if !f.stagedAsValues() {
				f.stageToPend()
			}
			for _, s := range f.slos {
				if !s.stagedDirect() {
					s.stageToPend()
				}
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

// warm reads, for each flow of a delta, memory its part of the delta is
// written from: the flow's and its SLOs' names and the SLOs' state. These
// reads do not depend on one another, so the processor keeps many cache
// misses in flight at once, where writing the delta flow by flow waits
// for each miss in turn; with thousands of flows a batch touches one
// event each, that memory is cold. It reads only what does not change
// after the engine is built, so it needs no lock.
func (e *Engine) warm(flows []*flowState) {
	n := 0
	for _, f := range flows {
		if f.name != "" {
			n += int(f.name[0])
		}
		// The reported counters are written under persistMu, held here;
		// they share the line the cut reads of the flow last.
		n += int(f.reportedEvents)
		for _, s := range f.slos {
			// fp, fixed at New, shares the SLO's line 1 with the pending
			// delta.
			if n += int(s.base) + int(s.fp); s.name != "" {
				n += int(s.name[0])
			}
		}
	}
	e.warmed = n // kept, so that the reads are not left out
}

func (e *Engine) flowsInOrder() []*flowState {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Clone(e.flowList)
}
