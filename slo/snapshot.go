package slo

import (
	"encoding/binary"
	"hash/crc32"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

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

// castagnoli is the CRC-32C table: a snapshot ends with the checksum of
// everything before it, so Restore can trust the histogram encodings it
// decodes only later.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

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
		b = binary.AppendUvarint(b, uint64(lv.n))
		empty := sketch.New(lv.scale)
		for i := range lv.n {
			var h *sketch.Histogram
			if lv.slots != nil {
				h = lv.slots[i]
			}
			switch {
			case h == nil && lv.enc != nil && lv.enc[i] != nil:
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
		s.exDirty, s.bornDirty, s.sinceDirty = false, false, false
	}
	return b
}

func (s *sloState) appendSnapshot(b []byte) []byte {
	b = appendString(b, s.spec.Name)
	b = binary.LittleEndian.AppendUint64(b, s.fp)
	b = binary.LittleEndian.AppendUint64(b, s.shape)
	b = appendTime(b, s.since)
	b = binary.AppendUvarint(b, s.cum.total)
	b = binary.AppendUvarint(b, s.cum.bad)
	b = binary.AppendUvarint(b, uint64(len(s.windows)))
	for _, w := range s.windows {
		// Each window's width and slot width, so that an SLO of the same
		// shape with other windows can rebuild its own from them.
		b = binary.AppendUvarint(b, uint64(w.dur))
		b = binary.AppendUvarint(b, uint64(w.res))
		b = binary.AppendVarint(b, w.head)
		b = binary.AppendUvarint(b, uint64(w.n))
		for j := range w.n {
			c := w.slotAt(j)
			b = binary.AppendUvarint(b, c.total)
			b = binary.AppendUvarint(b, c.bad)
		}
		if w.ev != nil {
			b = append(b, 1)
			for _, n := range w.ev.slots {
				b = binary.AppendUvarint(b, n)
			}
		} else {
			b = append(b, 0)
		}
	}
	if c := s.cal; c != nil {
		b = append(b, 1)
		b = binary.AppendVarint(b, c.start)
		b = binary.AppendVarint(b, c.end)
		b = binary.AppendUvarint(b, c.sum.total)
		b = binary.AppendUvarint(b, c.sum.bad)
		b = binary.AppendUvarint(b, c.events)
	} else {
		b = append(b, 0)
	}
	if c := s.slices; c != nil {
		b = append(b, 1)
		if c.born {
			b = binary.AppendVarint(append(b, 1), c.next)
			b = binary.AppendUvarint(b, uint64(c.judged-c.next))
		} else {
			b = append(b, 0)
		}
		m := int64(len(c.open))
		b = binary.AppendUvarint(b, uint64(m))
		for i := range c.open {
			b = appendHist(b, &c.open[i])
		}
		if c.born {
			// Judged at the snapshot's read: none is dirty.
			for k := c.next; k < c.judged; k++ {
				v := &c.verdicts[ring(k, m)]
				b = binary.AppendUvarint(b, v.n.total)
				b = binary.AppendUvarint(b, v.n.bad)
				b = binary.AppendUvarint(b, v.events)
			}
		}
	} else {
		b = append(b, 0)
	}
	return appendExemplars(b, &s.ex)
}
