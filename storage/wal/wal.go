package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/storage/internal/durable"
)

// WAL is an open write-ahead log directory. Its methods are safe for
// concurrent use.
type WAL struct {
	dir   string
	opts  Options
	lock  *os.File
	stats counters

	// writeFile and syncFile write and fsync records in the active segment;
	// tests replace them to inject disk faults the kernel will not produce on
	// demand.
	writeFile func(f *os.File, b []byte) (int, error)
	syncFile  func(f *os.File) error

	// mu guards the fields below. Append holds it for the whole write so
	// records reach the file in LSN order; the compressor takes it only to
	// pick work and to swap a finished segment in.
	mu      sync.Mutex
	segs    []*segment // ordered by index; the last one is active
	active  *os.File   // the last segment, opened for append
	torn    bool       // a failed write may have left bytes after segs[last].size
	next    LSN
	floor   LSN
	dirty   bool  // appended since the last fsync
	syncErr error // a background fsync failure not yet returned by Sync or Close
	closed  bool
	buf     []byte

	kick chan struct{} // wakes the compressor; capacity 1 so senders never block
	done chan struct{} // closed by Close
	wg   sync.WaitGroup
}

// Open opens or creates the log in dir, repairing a torn tail. The report
// says what was found; it is returned even when err is not nil.
func Open(dir string, opts Options) (*WAL, OpenReport, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, OpenReport{}, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, OpenReport{}, fmt.Errorf("wal: create dir: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, OpenReport{}, err
	}
	w := &WAL{
		dir:       dir,
		opts:      opts,
		lock:      lock,
		writeFile: (*os.File).Write,
		syncFile:  (*os.File).Sync,
		kick:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	report, err := w.load()
	if err != nil {
		if w.active != nil {
			_ = w.active.Close()
		}
		_ = unlockDir(lock)
		return nil, report, err
	}
	w.wg.Add(1)
	go w.compressLoop()
	if opts.Sync == SyncOnInterval {
		w.wg.Add(1)
		go w.syncLoop()
	}
	w.signalCompressor()
	return w, report, nil
}

// Append writes one record and returns its LSN. A record is visible to
// Replay and survives a process crash once Append returns; it survives a
// power cut after the next fsync (see SyncPolicy). When Append returns an
// error the record was not appended.
func (w *WAL) Append(typ RecordType, data []byte) (LSN, error) {
	if typ == 0 {
		return 0, ErrInvalidType
	}
	if len(data) > w.opts.MaxRecordSize {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, len(data), w.opts.MaxRecordSize)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	if err := w.cutTornLocked(); err != nil {
		return 0, err
	}
	if w.needsRotationLocked(recordHeaderSize + len(data)) {
		if err := w.rotateLocked(); err != nil {
			return 0, err
		}
	}
	seg := w.segs[len(w.segs)-1]
	lsn := w.next
	w.buf = appendRecord(w.buf[:0], lsn, typ, data)
	n, err := w.writeFile(w.active, w.buf)
	if err != nil {
		// Even n == 0 may hide a partial write on some file systems; the
		// cut is cheap and makes "a failed Append did not happen" hold.
		w.torn = true
		w.stats.writeErrors.Count(err)
		return 0, fmt.Errorf("wal: append lsn %d to %s: %w", lsn, seg.name(), err)
	}
	if w.opts.Sync == SyncOnAppend {
		if err := w.fsync(w.active); err != nil {
			w.torn = true
			w.stats.writeErrors.Count(err)
			return 0, fmt.Errorf("wal: sync %s: %w", seg.name(), err)
		}
	} else {
		w.dirty = true
	}
	seg.size += int64(n)
	w.next++
	w.stats.records.Add(1)
	w.stats.bytesWritten.Add(uint64(n))
	return lsn, nil
}

// Sync fsyncs appended records. It also returns a background fsync failure
// not yet reported: such a failure may have lost data even if this fsync
// succeeds.
func (w *WAL) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	err := errors.Join(w.syncErr, w.syncLocked())
	w.syncErr = nil
	return err
}

// Rotate seals the active segment and starts a new one, unless the active
// segment is empty.
func (w *WAL) Rotate() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.cutTornLocked(); err != nil {
		return err
	}
	if w.segs[len(w.segs)-1].size <= segmentHeaderSize {
		return nil
	}
	return w.rotateLocked()
}

// KeepFrom raises the retention floor to lsn: records at or above it are
// never deleted. Call it with the first LSN the oldest kept checkpoint needs
// replayed. It then applies retention and returns any deletion error.
func (w *WAL) KeepFrom(lsn LSN) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if lsn > w.floor {
		w.floor = lsn
	}
	return w.retainLocked()
}

// NextLSN returns the LSN the next Append will get.
func (w *WAL) NextLSN() LSN {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next
}

// Check returns an error wrapping storage.ErrVanished when the log is no
// longer on disk where it was opened: its directory was removed, or the
// active segment or the lock file was removed or replaced. Appends into a
// removed segment still succeed, so only Check notices; the host calls it
// periodically (it costs a few stat calls) and reopens the log when it
// fails. A removed lock file also means another process may now open the
// directory.
func (w *WAL) Check() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := durable.CheckDir(w.dir); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	if err := durable.CheckFile(w.path(w.segs[len(w.segs)-1].plainName()), w.active); err != nil {
		return fmt.Errorf("wal: active segment: %w", err)
	}
	if err := durable.CheckFile(w.path(lockFile), w.lock); err != nil {
		return fmt.Errorf("wal: lock: %w", err)
	}
	return nil
}

// Dir returns the log's directory.
func (w *WAL) Dir() string { return w.dir }

// Stats returns a snapshot of the counters.
func (w *WAL) Stats() Stats {
	s := w.stats.snapshot()
	w.mu.Lock()
	defer w.mu.Unlock()
	s.Segments = len(w.segs)
	for _, seg := range w.segs {
		s.DiskBytes += seg.size
	}
	if len(w.segs) > 0 {
		s.FirstLSN = w.segs[0].first
	}
	s.NextLSN = w.next
	s.Floor = w.floor
	return s
}

// Close fsyncs the active segment, waits for background compression of
// sealed segments to finish and releases the directory. It is safe to call
// twice; the second call returns nil.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	errs := []error{w.syncErr, w.cutTornLocked(), w.syncLocked()}
	if err := w.active.Close(); err != nil {
		errs = append(errs, fmt.Errorf("wal: close active segment: %w", err))
	}
	w.mu.Unlock()

	close(w.done)
	w.wg.Wait()
	errs = append(errs, unlockDir(w.lock))
	return errors.Join(errs...)
}

func (w *WAL) path(name string) string { return filepath.Join(w.dir, name) }

// fsync syncs f through the syncFile hook, counted.
func (w *WAL) fsync(f *os.File) error {
	return w.stats.fsyncer.Do(func() error { return w.syncFile(f) })
}

func (w *WAL) syncLocked() error {
	if !w.dirty {
		return nil
	}
	if err := w.fsync(w.active); err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: sync %s: %w", w.segs[len(w.segs)-1].name(), err)
	}
	w.dirty = false
	return nil
}

// cutTornLocked removes whatever a failed write left after the last good
// record, so the next record starts at a record boundary.
func (w *WAL) cutTornLocked() error {
	if !w.torn {
		return nil
	}
	seg := w.segs[len(w.segs)-1]
	if err := w.active.Truncate(seg.size); err != nil {
		w.stats.writeErrors.Count(err)
		return fmt.Errorf("wal: cut failed write from %s: %w", seg.name(), err)
	}
	w.torn = false
	return nil
}

func (w *WAL) needsRotationLocked(n int) bool {
	seg := w.segs[len(w.segs)-1]
	if seg.size <= segmentHeaderSize {
		return false // never seal an empty segment: it would only add files
	}
	if w.opts.SegmentSize > 0 && seg.size+int64(n) > w.opts.SegmentSize {
		return true
	}
	return w.opts.SegmentAge > 0 && time.Since(seg.created) >= w.opts.SegmentAge
}

// rotateLocked seals the active segment and makes a new one active. On error
// the old segment stays active, so the next Append tries again.
func (w *WAL) rotateLocked() error {
	old := w.segs[len(w.segs)-1]
	// The seal must be durable before a later segment exists: otherwise a
	// power cut could leave a hole in the middle of the log.
	w.dirty = true
	if err := w.syncLocked(); err != nil {
		return fmt.Errorf("wal: seal: %w", err)
	}
	seg, f, err := w.createSegment(old.index+1, w.next, false)
	if err != nil {
		return err
	}
	if err := w.active.Close(); err != nil {
		// The data is already fsynced; a failed close loses nothing.
		w.stats.writeErrors.Count(err)
	}
	w.active = f
	w.segs = append(w.segs, seg)
	w.stats.sealed.Add(1)
	w.signalCompressor()
	if err := w.retainLocked(); err != nil {
		// The append that triggered rotation can still succeed; retention
		// is retried on the next rotation or KeepFrom.
		w.stats.writeErrors.Count(err)
	}
	return nil
}

// createSegment creates a segment with its header, durable in the directory
// before it is returned open for appending. It is written under a temporary
// name first, so a crash never leaves a segment with a torn header.
func (w *WAL) createSegment(index uint64, first LSN, skip bool) (*segment, *os.File, error) {
	seg := &segment{index: index, first: first, created: time.Now(), skip: skip}
	// O_APPEND: after cutTornLocked truncates, the next record must land at
	// the new end, not at the old offset.
	f, err := durable.CreateAtomic(w.path(seg.plainName()), os.O_WRONLY|os.O_APPEND, &w.stats.fsyncer)
	if err != nil {
		w.stats.writeErrors.Count(err)
		return nil, nil, fmt.Errorf("wal: create segment: %w", err)
	}
	defer f.Abort()
	if _, err := f.Write(encodeSegmentHeader(seg)); err != nil {
		w.stats.writeErrors.Count(err)
		return nil, nil, fmt.Errorf("wal: write header of %s: %w", seg.plainName(), err)
	}
	if err := f.Sync(); err != nil {
		w.stats.writeErrors.Count(err)
		return nil, nil, fmt.Errorf("wal: create segment: %w", err)
	}
	if err := f.Publish(); err != nil {
		w.stats.writeErrors.Count(err)
		return nil, nil, fmt.Errorf("wal: create segment: %w", err)
	}
	seg.size = segmentHeaderSize
	return seg, f.File, nil
}

// retainLocked deletes the oldest sealed segments over the age or size limit
// that lie wholly below the floor. It deletes from the front only, so it
// never makes a hole.
func (w *WAL) retainLocked() error {
	var total int64
	for _, s := range w.segs {
		total += s.size
	}
	now := time.Now()
	for len(w.segs) > 1 {
		s, after := w.segs[0], w.segs[1]
		// A segment is sealed when its successor is created.
		old := w.opts.RetentionAge > 0 && !after.created.IsZero() && now.Sub(after.created) > w.opts.RetentionAge
		big := w.opts.RetentionBytes > 0 && total > w.opts.RetentionBytes
		if !old && !big {
			return nil
		}
		if after.first > w.floor { // s holds LSNs up to after.first-1
			w.stats.retentionBlock.Add(1)
			return nil
		}
		if err := os.Remove(w.path(s.name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("wal: retention: %w", err)
		}
		total -= s.size
		w.segs = w.segs[1:]
		w.stats.retentionRemoved.Add(1)
		w.stats.retentionBytes.Add(uint64(s.size))
	}
	return nil
}

func (w *WAL) signalCompressor() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// syncLoop fsyncs dirty data every SyncInterval for SyncOnInterval.
func (w *WAL) syncLoop() {
	defer w.wg.Done()
	t := time.NewTicker(w.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
			w.mu.Lock()
			if !w.closed {
				if err := w.syncLocked(); err != nil {
					w.stats.backgroundSyncFails.Add(1)
					if w.syncErr == nil { // keep the first: later ones repeat it
						w.syncErr = err
					}
				}
			}
			w.mu.Unlock()
		}
	}
}
