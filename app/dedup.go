package app

import (
	"cmp"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/storage/wal"
)

// dedupWindow is how many sequence numbers below the newest one a gateway
// remembers per agent and flow: exports sent again after more than that
// many newer ones are refused as stale.
const dedupWindow = 64

const (
	// dedupMaxEntries bounds the agents×flows remembered; past it an export
	// is merged without being remembered, and counted.
	dedupMaxEntries = 100_000
	// dedupIdle forgets an agent's flow not heard from for this long.
	dedupIdle = time.Hour
)

// dedup remembers, per agent and flow, which sequence numbers were merged:
// the newest and a bitmap of the dedupWindow below it, so exports that
// arrive twice or out of order (an exporter's retries and parallel
// consumers) are each merged once. With storage on it survives a restart:
// a gateway writes the marks of a merge in the same WAL record as what it
// merged (recMerged), and its memory in each checkpoint, both under the
// lock the checkpoint cuts the engine under, so that after a kill -9 an
// export counted before is dropped when it is sent again, and one not
// counted is merged.
type dedup struct {
	// mu guards the map and lastSweep.
	mu        sync.Mutex
	seen      map[dedupKey]*seqWindow
	lastSweep time.Time
}

type dedupKey struct{ agent, flow string }

type seqWindow struct {
	top  uint64
	bits uint64 // bit i: top-i was merged
	at   time.Time
}

// Verdicts of dedup.mark.
const (
	seqFresh = iota
	seqDuplicate
	seqStale
	seqUnremembered
)

// mark says whether seq of key is new, and remembers it.
func (d *dedup) mark(key dedupKey, seq uint64, now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = make(map[dedupKey]*seqWindow)
	}
	if now.Sub(d.lastSweep) >= dedupIdle/4 {
		for k, w := range d.seen {
			if now.Sub(w.at) >= dedupIdle {
				delete(d.seen, k)
			}
		}
		d.lastSweep = now
	}
	w := d.seen[key]
	if w == nil {
		if len(d.seen) >= dedupMaxEntries {
			return seqUnremembered
		}
		d.seen[key] = &seqWindow{top: seq, bits: 1, at: now}
		return seqFresh
	}
	w.at = now
	switch {
	case seq > w.top:
		if shift := seq - w.top; shift >= 64 {
			w.bits = 1
		} else {
			w.bits = w.bits<<shift | 1
		}
		w.top = seq
		return seqFresh
	case w.top-seq >= dedupWindow:
		return seqStale
	case w.bits&(1<<(w.top-seq)) != 0:
		return seqDuplicate
	}
	w.bits |= 1 << (w.top - seq)
	return seqFresh
}

// recMerged is a gateway's merge: the engine delta of what it merged and
// the marks (agent, flow, sequence number) it merged them under, in one
// record, so that a replay restores both or neither.
const recMerged wal.RecordType = 7

// mergeMark is one agent's export of one flow, merged.
type mergeMark struct {
	agent, flow string
	seq         uint64
}

// dedupEntry is what a checkpoint keeps of one agent's flow.
type dedupEntry struct {
	Agent string    `json:"agent"`
	Flow  string    `json:"flow"`
	Top   uint64    `json:"top"`
	Bits  uint64    `json:"bits"`
	At    time.Time `json:"at"`
}

// entries returns what d remembers, sorted.
func (d *dedup) entries() []dedupEntry {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]dedupEntry, 0, len(d.seen))
	for k, w := range d.seen {
		out = append(out, dedupEntry{Agent: k.agent, Flow: k.flow, Top: w.top, Bits: w.bits, At: w.at})
	}
	slices.SortFunc(out, func(a, b dedupEntry) int {
		return cmp.Or(strings.Compare(a.Agent, b.Agent), strings.Compare(a.Flow, b.Flow))
	})
	return out
}

// load replaces what d remembers with es.
func (d *dedup) load(es []dedupEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen = make(map[dedupKey]*seqWindow, len(es))
	for _, e := range es {
		d.seen[dedupKey{e.Agent, e.Flow}] = &seqWindow{top: e.Top, bits: e.Bits, at: e.At}
	}
}

// appendMerged appends a recMerged record's data: the delta's length and
// the delta, the merge's time, then the marks.
func appendMerged(buf, delta []byte, at time.Time, marks []mergeMark) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(delta)))
	buf = append(buf, delta...)
	buf = binary.AppendVarint(buf, at.UnixNano())
	buf = binary.AppendUvarint(buf, uint64(len(marks)))
	for _, m := range marks {
		buf = binary.AppendUvarint(buf, uint64(len(m.agent)))
		buf = append(buf, m.agent...)
		buf = binary.AppendUvarint(buf, uint64(len(m.flow)))
		buf = append(buf, m.flow...)
		buf = binary.AppendUvarint(buf, m.seq)
	}
	return buf
}

var errMergedRecord = errors.New("malformed merge record")

// splitMerged returns a recMerged record's delta and the rest, its marks.
func splitMerged(data []byte) (delta, marks []byte, err error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || uint64(len(data)-k) < n {
		return nil, nil, errMergedRecord
	}
	return data[k : k+int(n)], data[k+int(n):], nil
}

// decodeMarks reads the marks part of a recMerged record.
func decodeMarks(data []byte) (time.Time, []mergeMark, error) {
	at, k := binary.Varint(data)
	if k <= 0 {
		return time.Time{}, nil, errMergedRecord
	}
	data = data[k:]
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)) {
		return time.Time{}, nil, errMergedRecord
	}
	data = data[k:]
	marks := make([]mergeMark, 0, n)
	str := func() (string, bool) {
		l, k := binary.Uvarint(data)
		if k <= 0 || uint64(len(data)-k) < l {
			return "", false
		}
		s := string(data[k : k+int(l)])
		data = data[k+int(l):]
		return s, true
	}
	for range n {
		agent, ok1 := str()
		flow, ok2 := str()
		if !ok1 || !ok2 {
			return time.Time{}, nil, errMergedRecord
		}
		seq, k := binary.Uvarint(data)
		if k <= 0 {
			return time.Time{}, nil, errMergedRecord
		}
		data = data[k:]
		marks = append(marks, mergeMark{agent: agent, flow: flow, seq: seq})
	}
	if len(data) != 0 {
		return time.Time{}, nil, errMergedRecord
	}
	return time.Unix(0, at), marks, nil
}

// merge runs fn, which marks and merges a gateway's aggregates into engine
// and returns the marks (and whether it merged anything: past
// dedupMaxEntries a merge is not remembered), and writes what it merged
// with the marks as one record; all under the lock a checkpoint cuts the
// engine and saves the gateway's memory under, so that a checkpoint holds
// a merge's counts exactly when it holds its marks. While storage is
// closed the delta is taken all the same and dropped, as appendDelta does.
func (p *persistence) merge(engine *slo.Engine, now time.Time, fn func() ([]mergeMark, bool)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	marks, merged := fn()
	if !merged {
		return
	}
	p.buf = engine.AppendDelta(p.buf[:0])
	if p.wal == nil {
		return
	}
	rec := appendMerged(make([]byte, 0, len(p.buf)+64*len(marks)), p.buf, now, marks)
	if _, err := p.wal.Append(recMerged, rec); err != nil {
		p.fail("append merge", err)
		p.setNotDurableLocked("write-ahead log append failed: " + err.Error())
		return
	}
	p.walBytes.Add(int64(len(rec)))
}
