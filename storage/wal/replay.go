package wal

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/klauspost/compress/zstd"
)

// Replay calls fn for every record with LSN >= from, in order, across plain
// and compressed segments; from 0 means the oldest retained record. It sees
// the records appended before it was called. It stops at the first error fn
// returns (and returns that error unchanged) or at the first hole or damage,
// returning a *CorruptionError; see the package doc for what to do with it.
func (w *WAL) Replay(from LSN, fn func(Record) error) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	segs := make([]segment, len(w.segs))
	for i, s := range w.segs {
		segs[i] = *s
	}
	next := w.next
	w.mu.Unlock()
	// The active segment's size may grow while we read; segs holds its size
	// at the snapshot, which always ends on a record boundary.

	if from == 0 {
		from = segs[0].first
	}
	if from >= next {
		return nil
	}
	if from < segs[0].first {
		return &CorruptionError{LSN: from, Reason: ReasonNotRetained, ResumeLSN: segs[0].first, Err: ErrMissing}
	}
	start := sort.Search(len(segs), func(i int) bool { return segs[i].first > from }) - 1

	dec, err := newDecoder()
	if err != nil {
		return err
	}
	defer dec.Close()

	expect := segs[start].first
	for i := start; i < len(segs); i++ {
		s := &segs[i]
		resume := LSN(0)
		if i+1 < len(segs) {
			resume = segs[i+1].first
		}
		if i > start {
			prev := &segs[i-1]
			if s.index != prev.index+1 {
				return &CorruptionError{LSN: expect, Reason: ReasonMissingSegment, ResumeLSN: s.first, Err: ErrMissing,
					Cause: fmt.Errorf("segments %d..%d between %s and %s", prev.index+1, s.index-1, prev.name(), s.name())}
			}
			if s.first != expect && s.skip {
				return &CorruptionError{LSN: expect, Reason: ReasonSkipped, ResumeLSN: s.first, Err: ErrMissing,
					Cause: fmt.Errorf("%s starts past the previous segment (Options.StartLSN)", s.name())}
			}
			if s.first != expect {
				// The previous segment ended early: cut short by hand or by
				// a file system that lost its tail.
				return &CorruptionError{Segment: prev.name(), Offset: prev.size, LSN: expect, Reason: ReasonTruncated, ResumeLSN: s.first, Err: ErrCorrupt}
			}
		}
		end, err := w.replaySegment(s, i == len(segs)-1, from, dec, fn)
		if err != nil {
			var ce *CorruptionError
			if errors.As(err, &ce) {
				ce.ResumeLSN = resume
			}
			return err
		}
		expect = end
	}
	return nil
}

// replaySegment delivers the records of one segment and returns the LSN after
// its last record.
func (w *WAL) replaySegment(s *segment, active bool, from LSN, dec *zstd.Decoder, fn func(Record) error) (LSN, error) {
	f, err := w.openLive(s)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, &CorruptionError{Segment: s.name(), LSN: s.first, Reason: ReasonMissingSegment, Err: ErrMissing, Cause: err}
		}
		return 0, fmt.Errorf("wal: replay %s: %w", s.name(), err)
	}
	defer f.Close()
	name := s.name()
	r, err := wrapSegmentReader(f, s.zst, dec)
	if err != nil {
		return 0, &CorruptionError{Segment: name, LSN: s.first, Reason: ReasonUnreadable, Err: ErrCorrupt, Cause: err}
	}
	if err := readSegmentHeader(r, s.index, s.first, nil); err != nil {
		return 0, &CorruptionError{Segment: name, LSN: s.first, Reason: ReasonBadHeader, Err: ErrCorrupt, Cause: err}
	}
	sc := newScanner(r, segmentHeaderSize, s.first, w.opts.MaxRecordSize)
	if active {
		sc.limit = s.size
	}
	for sc.next() {
		if sc.rec.LSN < from {
			continue
		}
		if err := fn(sc.rec); err != nil {
			return 0, err
		}
	}
	if sc.err != nil {
		var d *damage
		if errors.As(sc.err, &d) {
			return 0, &CorruptionError{Segment: name, Offset: d.off, LSN: sc.expect, Reason: d.reason, Err: ErrCorrupt}
		}
		return 0, &CorruptionError{Segment: name, Offset: sc.off, LSN: sc.expect, Reason: ReasonUnreadable, Err: ErrCorrupt, Cause: sc.err}
	}
	return sc.expect, nil
}

// openLive opens a segment under the lock, picking the plain or compressed
// file as it is now: the compressor removes the plain file only under the
// lock, and an open file stays readable after removal.
func (w *WAL) openLive(s *segment) (*os.File, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, live := range w.segs {
		if live.index == s.index {
			s.zst = live.zst
			return os.Open(w.path(live.name()))
		}
	}
	return nil, fmt.Errorf("segment %s: %w", s.name(), os.ErrNotExist)
}
