package wal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/burnwatch/burnwatch/storage/internal/durable"
	"github.com/klauspost/compress/zstd"
)

// compressLoop compresses sealed segments whenever it is kicked, and once
// more on Close so that Close returns with no sealed plain segment left
// behind unless compressing it failed.
func (w *WAL) compressLoop() {
	defer w.wg.Done()
	// Concurrency 1: one goroutine-free encoder; compression is background
	// work and must not take both cores from the engine.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		w.stats.compressErrors.Add(1)
		<-w.done
		return
	}
	for {
		select {
		case <-w.kick:
			w.compressPending(enc)
		case <-w.done:
			w.compressPending(enc)
			return
		}
	}
}

// compressPending compresses each sealed plain segment once. A failure
// leaves the plain segment in place for the next kick.
func (w *WAL) compressPending(enc *zstd.Encoder) {
	if w.opts.NoCompression {
		return
	}
	w.mu.Lock()
	var todo []*segment
	for i, s := range w.segs {
		if i < len(w.segs)-1 && !s.zst && !s.bad {
			todo = append(todo, s)
		}
	}
	w.mu.Unlock()
	for _, s := range todo {
		if err := w.compressSegment(enc, s); err != nil && !errors.Is(err, ErrCorrupt) {
			w.stats.compressErrors.Add(1)
		}
	}
}

// compressSegment writes s.zst through a durable.AtomicFile while checking
// every record, then removes the plain file. A segment that fails the check
// is marked bad and left plain.
func (w *WAL) compressSegment(enc *zstd.Encoder, s *segment) error {
	src := w.path(s.plainName())
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("wal: compress: %w", err)
	}
	defer in.Close()
	out, err := durable.CreateAtomic(w.path(s.zstName()), os.O_WRONLY, &w.stats.fsyncer)
	if err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: compress: %w", err)
	}
	defer out.Abort()

	enc.Reset(out)
	// Everything the scanner reads passes through the encoder, so the
	// compressed copy holds exactly the bytes that were verified.
	r := bufio.NewReaderSize(io.TeeReader(in, enc), 256<<10)
	if herr := readSegmentHeader(r, s.index, s.first, nil); herr != nil {
		w.markCorrupt(s)
		return fmt.Errorf("wal: compress %s: %w: %w", s.plainName(), ErrCorrupt, herr)
	}
	sc := newScanner(r, segmentHeaderSize, s.first, w.opts.MaxRecordSize)
	for sc.next() {
	}
	var d *damage
	if errors.As(sc.err, &d) {
		w.markCorrupt(s)
		return fmt.Errorf("wal: compress %s: %w: %w", s.plainName(), ErrCorrupt, d)
	}
	if sc.err != nil {
		w.stats.writeErrors.Count(sc.err)
		return fmt.Errorf("wal: compress %s: %w", s.plainName(), sc.err)
	}
	if err := enc.Close(); err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: compress %s: %w", s.plainName(), err)
	}
	info, err := out.Stat()
	if err != nil {
		return fmt.Errorf("wal: compress: %w", err)
	}
	// The fsync runs before taking the lock, so appends do not wait for it;
	// only the rename and the directory fsync run under it.
	if err := out.Sync(); err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: compress: %w", err)
	}
	if err := out.Close(); err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: compress: %w", err)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	live := false
	for _, x := range w.segs {
		live = live || x == s
	}
	if !live { // retention removed it while we worked
		return nil
	}
	if err := w.checkContinuityLocked(s, sc.expect); err != nil {
		return err
	}
	// If the directory fsync fails, Publish removes the compressed copy and
	// the plain file, which Open prefers anyway, stays.
	if err := out.Publish(); err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: compress: %w", err)
	}
	rawSize := s.size
	s.zst = true
	s.size = info.Size()
	if err := os.Remove(src); err != nil {
		// Both copies now exist; Open resolves that. Count, do not fail.
		w.stats.writeErrors.Count(err)
	}
	w.stats.compressed.Add(1)
	w.stats.compressedRaw.Add(uint64(rawSize))
	w.stats.compressedOut.Add(uint64(info.Size()))
	return nil
}

// checkContinuityLocked checks that segment s, whose records end before
// end, is followed by a segment starting at end: a sealed segment cut at a
// record boundary would otherwise pass the record checks.
func (w *WAL) checkContinuityLocked(s *segment, end LSN) error {
	for i, x := range w.segs {
		if x == s && i+1 < len(w.segs) && w.segs[i+1].index == s.index+1 && w.segs[i+1].first != end && !w.segs[i+1].skip {
			s.bad = true
			w.stats.corrupt.Add(1)
			return fmt.Errorf("wal: compress %s: %w: %s", s.plainName(), ErrCorrupt, ReasonTruncated)
		}
	}
	return nil
}

func (w *WAL) markCorrupt(s *segment) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s.bad = true
	w.stats.corrupt.Add(1)
}
