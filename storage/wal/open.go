package wal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/storage/internal/durable"
	"github.com/klauspost/compress/zstd"
)

// load reads the directory, repairs the active segment and makes it ready
// for appends. It runs before any goroutine starts, so it needs no lock.
func (w *WAL) load() (OpenReport, error) {
	var rep OpenReport
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return rep, fmt.Errorf("wal: read dir: %w", err)
	}
	byIndex := make(map[uint64]*segment)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		if base, ok := strings.CutSuffix(name, durable.TempSuffix); ok {
			// An interrupted compression (the plain segment is still there)
			// or segment creation (it held no record yet).
			if _, _, _, seg := parseSegmentName(base); seg {
				if err := os.Remove(w.path(name)); err != nil {
					return rep, fmt.Errorf("wal: remove leftover: %w", err)
				}
				rep.Removed = append(rep.Removed, name)
			}
			continue
		}
		index, first, zst, ok := parseSegmentName(name)
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return rep, fmt.Errorf("wal: stat segment: %w", err)
		}
		s := &segment{index: index, first: first, zst: zst, size: info.Size()}
		prev, dup := byIndex[index]
		if !dup {
			byIndex[index] = s
			continue
		}
		if prev.first != first || prev.zst == zst {
			return rep, fmt.Errorf("wal: %s and %s share index %d: %w", prev.name(), name, index, ErrCorrupt)
		}
		// A crash between renaming the compressed copy into place and
		// removing the plain file. The plain file is the original, so it
		// wins and is compressed again.
		stale, plain := s, prev
		if !zst {
			stale, plain = prev, s
		}
		if err := os.Remove(w.path(stale.name())); err != nil {
			return rep, fmt.Errorf("wal: remove stale copy: %w", err)
		}
		rep.Removed = append(rep.Removed, stale.name())
		byIndex[index] = plain
	}

	segs := make([]*segment, 0, len(byIndex))
	for _, s := range byIndex {
		segs = append(segs, s)
	}
	slices.SortFunc(segs, func(a, b *segment) int {
		switch {
		case a.index < b.index:
			return -1
		case a.index > b.index:
			return 1
		}
		return 0
	})
	for i := 1; i < len(segs); i++ {
		a, b := segs[i-1], segs[i]
		if b.first <= a.first {
			return rep, fmt.Errorf("wal: %s starts at or before %s: %w", b.name(), a.name(), ErrCorrupt)
		}
		if b.index != a.index+1 {
			rep.Missing = append(rep.Missing, MissingRange{FromIndex: a.index + 1, ToIndex: b.index - 1, Before: a.name(), After: b.name()})
			w.stats.missing.Add(b.index - a.index - 1)
		}
	}

	dec, err := newDecoder()
	if err != nil {
		return rep, err
	}
	defer dec.Close()
	w.segs = segs
	if len(segs) > 1 {
		for _, s := range segs[:len(segs)-1] {
			if err := w.headerOf(s, dec); err != nil {
				w.markBad(&rep, s, ReasonBadHeader, err)
			}
		}
	}
	if err := w.openActive(&rep, dec); err != nil {
		return rep, err
	}
	if err := w.skipTo(w.opts.StartLSN); err != nil {
		return rep, err
	}
	rep.Segments = len(w.segs)
	rep.FirstLSN = w.segs[0].first
	rep.NextLSN = w.next
	return rep, nil
}

func (w *WAL) markBad(rep *OpenReport, s *segment, reason Reason, err error) {
	s.bad = true
	rep.Corrupt = append(rep.Corrupt, SegmentProblem{Segment: s.name(), Reason: reason, Detail: err.Error()})
	w.stats.corrupt.Add(1)
}

// openActive repairs the newest segment and opens it for appends, or starts
// a new segment when the newest cannot take appends.
func (w *WAL) openActive(rep *OpenReport, dec *zstd.Decoder) error {
	if len(w.segs) == 0 {
		return w.startSegment(1, w.opts.StartLSN, false)
	}
	last := w.segs[len(w.segs)-1]
	if last.zst {
		// The active segment is never compressed, so the plain one was lost
		// after its predecessor's compression: continue after what is here.
		if err := w.headerOf(last, dec); err != nil {
			w.markBad(rep, last, ReasonBadHeader, err)
		}
		next, err := w.scanEnd(last, dec)
		if err != nil {
			return err
		}
		return w.startSegment(last.index+1, next, false)
	}

	path := w.path(last.plainName())
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: open active segment: %w", err)
	}
	defer f.Close()
	if herr := readSegmentHeader(f, last.index, last.first, last); herr != nil {
		empty, err := zeroFrom(f, segmentHeaderSize)
		if err != nil {
			return fmt.Errorf("wal: read active segment: %w", err)
		}
		if !empty {
			// Records after a damaged header: keep them for inspection and
			// continue in a new segment after the last readable record.
			w.markBad(rep, last, ReasonBadHeader, herr)
			next, err := w.scanEnd(last, dec)
			if err != nil {
				return err
			}
			return w.startSegment(last.index+1, next, false)
		}
		// The crash hit while the segment was being created: it holds no
		// record, so write its header again.
		size := last.size
		last.created = time.Now()
		if err := f.Truncate(0); err != nil {
			w.stats.writeErrors.Count(err)
			return fmt.Errorf("wal: repair header of %s: %w", last.name(), err)
		}
		if _, err := f.WriteAt(encodeSegmentHeader(last), 0); err != nil {
			w.stats.writeErrors.Count(err)
			return fmt.Errorf("wal: repair header of %s: %w", last.name(), err)
		}
		if err := w.fsync(f); err != nil {
			w.stats.writeErrors.Count(err)
			return fmt.Errorf("wal: sync %s: %w", last.name(), err)
		}
		rep.Repairs = append(rep.Repairs, Repair{Segment: last.name(), CutBytes: size, Reason: ReasonBadHeader})
		w.stats.repairs.Add(1)
		w.stats.repairedBytes.Add(uint64(size))
		last.size = segmentHeaderSize
		w.next = last.first
		return w.reopenActive(path)
	}
	sc := newScanner(bufio.NewReaderSize(f, 256<<10), segmentHeaderSize, last.first, w.opts.MaxRecordSize)
	for sc.next() {
	}
	var d *damage
	if sc.err != nil && !errors.As(sc.err, &d) {
		return fmt.Errorf("wal: read active segment %s: %w", last.name(), sc.err)
	}
	if d != nil {
		if err := w.cutTail(rep, f, last, d, sc.expect); err != nil {
			return err
		}
	}
	last.size = sc.off
	w.next = sc.expect
	return w.reopenActive(path)
}

// cutTail truncates the active segment at damage d and reports the cut.
func (w *WAL) cutTail(rep *OpenReport, f *os.File, s *segment, d *damage, expect LSN) error {
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("wal: stat %s: %w", s.name(), err)
	}
	reason := d.reason
	if zero, err := zeroFrom(f, d.off); err == nil && zero {
		reason = ReasonZeroFilled
	}
	r := Repair{
		Segment:     s.name(),
		Offset:      d.off,
		CutBytes:    info.Size() - d.off,
		Reason:      reason,
		IntactAfter: w.countIntactAfter(f, d, expect),
	}
	if expect > s.first {
		r.LastLSN = expect - 1
	}
	if err := f.Truncate(d.off); err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: cut %s: %w", s.name(), err)
	}
	if err := w.fsync(f); err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: sync %s: %w", s.name(), err)
	}
	rep.Repairs = append(rep.Repairs, r)
	w.stats.repairs.Add(1)
	w.stats.repairedBytes.Add(uint64(r.CutBytes))
	return nil
}

// countIntactAfter counts well-formed records that follow a damaged record
// whose length field looked sane: a torn write has none, bit rot may have
// many. It is only for the report, so read errors count as zero.
func (w *WAL) countIntactAfter(f *os.File, d *damage, expect LSN) int {
	if d.length < 0 {
		return 0
	}
	off := d.off + recordHeaderSize + int64(d.length)
	sc := newScanner(bufio.NewReader(io.NewSectionReader(f, off, 1<<62)), off, expect+1, w.opts.MaxRecordSize)
	n := 0
	for sc.next() {
		n++
	}
	return n
}

// reopenActive opens the repaired active segment for appending.
func (w *WAL) reopenActive(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: open active segment: %w", err)
	}
	w.active = f
	return nil
}

// skipTo makes the next LSN at least lsn. When a checkpoint covers records a
// repair cut, reusing their LSNs would make replay from the checkpoint skip
// new records; a new segment at lsn leaves a hole that Replay reports to
// anyone reading across it.
func (w *WAL) skipTo(lsn LSN) error {
	if w.next >= lsn {
		return nil
	}
	last := w.segs[len(w.segs)-1]
	if last.size > segmentHeaderSize {
		w.dirty = true
		if err := w.syncLocked(); err != nil {
			return err
		}
		_ = w.active.Close()
		return w.startSegment(last.index+1, lsn, true)
	}
	// The active segment is empty: replace it rather than keep an empty file.
	_ = w.active.Close()
	if err := os.Remove(w.path(last.plainName())); err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: replace empty segment: %w", err)
	}
	w.segs = w.segs[:len(w.segs)-1]
	return w.startSegment(last.index, lsn, last.skip || len(w.segs) > 0)
}

// startSegment creates an empty active segment.
func (w *WAL) startSegment(index uint64, first LSN, skip bool) error {
	seg, f, err := w.createSegment(index, first, skip)
	if err != nil {
		return err
	}
	w.segs = append(w.segs, seg)
	w.active = f
	w.next = first
	return nil
}

// scanEnd returns the LSN after the last readable record of s, reading past
// a damaged header.
func (w *WAL) scanEnd(s *segment, dec *zstd.Decoder) (LSN, error) {
	f, r, err := openSegmentReader(w.path(s.name()), s.zst, dec)
	if err != nil {
		return 0, fmt.Errorf("wal: open %s: %w", s.name(), err)
	}
	defer f.Close()
	if _, err := io.CopyN(io.Discard, r, segmentHeaderSize); err != nil {
		return s.first, nil
	}
	sc := newScanner(r, segmentHeaderSize, s.first, w.opts.MaxRecordSize)
	for sc.next() {
	}
	return sc.expect, nil
}

// headerOf reads the header of a segment, compressed or not.
func (w *WAL) headerOf(s *segment, dec *zstd.Decoder) error {
	f, r, err := openSegmentReader(w.path(s.name()), s.zst, dec)
	if err != nil {
		return err
	}
	defer f.Close()
	return readSegmentHeader(r, s.index, s.first, s)
}

// zeroFrom reports whether f holds only zero bytes from off to its end.
func zeroFrom(f *os.File, off int64) (bool, error) {
	buf := make([]byte, 64<<10)
	for {
		n, err := f.ReadAt(buf, off)
		if !allZero(buf[:n]) {
			return false, nil
		}
		off += int64(n)
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}

func newDecoder() (*zstd.Decoder, error) {
	// One goroutine-free decoder per operation; concurrency 1 decodes
	// synchronously.
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("wal: zstd decoder: %w", err)
	}
	return dec, nil
}

// openSegmentReader opens a segment file and returns a buffered reader of
// its uncompressed bytes. The caller closes the file.
func openSegmentReader(path string, zst bool, dec *zstd.Decoder) (*os.File, *bufio.Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r, err := wrapSegmentReader(f, zst, dec)
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return f, r, nil
}

// wrapSegmentReader returns a buffered reader of f's uncompressed bytes.
func wrapSegmentReader(f *os.File, zst bool, dec *zstd.Decoder) (*bufio.Reader, error) {
	if !zst {
		return bufio.NewReaderSize(f, 256<<10), nil
	}
	if err := dec.Reset(f); err != nil {
		return nil, err
	}
	return bufio.NewReaderSize(dec, 256<<10), nil
}
