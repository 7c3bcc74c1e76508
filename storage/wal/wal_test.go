package wal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/burnwatch/burnwatch/storage/internal/durable"
	"github.com/burnwatch/burnwatch/storage/internal/storagetest"
)

func TestAppendReplayRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		sync SyncPolicy
		size int
		n    int
	}{
		{"empty payloads", SyncManual, 0, 50},
		{"small records", SyncManual, 100, 200},
		{"4KiB records span segments", SyncManual, 4 << 10, 20},
		{"fsync every append", SyncOnAppend, 100, 20},
		{"fsync on interval", SyncOnInterval, 100, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions()
			opts.Sync = tt.sync
			w, rep := mustOpen(t, dir, opts)
			if !rep.Clean() || rep.NextLSN != 1 {
				t.Fatalf("fresh open report = %s, want clean starting at lsn 1", rep)
			}
			appendN(t, w, 0, tt.n, tt.size)

			for _, from := range []LSN{0, 1, LSN(tt.n / 2), LSN(tt.n)} {
				got, err := replayFrom(w, from)
				if err != nil {
					t.Fatalf("Replay(%d): %v", from, err)
				}
				first := max(from, 1)
				checkRecords(t, got, first, LSN(tt.n), tt.size)
			}
			if got, err := replayFrom(w, LSN(tt.n+1)); err != nil || len(got.lsns) != 0 {
				t.Fatalf("Replay past the end = %d records, %v; want none", len(got.lsns), err)
			}
			mustClose(t, w)

			w2, rep2 := mustOpen(t, dir, opts)
			if !rep2.Clean() {
				t.Fatalf("reopen after clean close: report %s, want clean", rep2)
			}
			if rep2.NextLSN != LSN(tt.n+1) {
				t.Fatalf("reopen NextLSN = %d, want %d", rep2.NextLSN, tt.n+1)
			}
			appendN(t, w2, tt.n, 5, tt.size)
			got, err := replayFrom(w2, 0)
			if err != nil {
				t.Fatalf("Replay after reopen: %v", err)
			}
			checkRecords(t, got, 1, LSN(tt.n+5), tt.size)
		})
	}
}

func TestSyncPolicies(t *testing.T) {
	tests := []struct {
		name       string
		sync       SyncPolicy
		wantFsyncs uint64 // after 10 appends, before Sync
	}{
		{"every append", SyncOnAppend, 10},
		{"manual", SyncManual, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			opts.SegmentSize = -1
			opts.Sync = tt.sync
			w, _ := mustOpen(t, t.TempDir(), opts)
			base := w.Stats().Fsyncs // creating the first segment fsyncs file and dir
			appendN(t, w, 0, 10, 100)
			if got := w.Stats().Fsyncs - base; got != tt.wantFsyncs {
				t.Fatalf("fsyncs after 10 appends = %d, want %d", got, tt.wantFsyncs)
			}
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			wantAfter := tt.wantFsyncs
			if tt.sync == SyncManual {
				wantAfter++
			}
			if got := w.Stats().Fsyncs - base; got != wantAfter {
				t.Fatalf("fsyncs after Sync = %d, want %d", got, wantAfter)
			}
			if s := w.Stats(); s.FsyncTime <= 0 {
				t.Fatalf("FsyncTime = %v, want > 0", s.FsyncTime)
			}
		})
	}
}

// TestSyncOnInterval runs in a synctest bubble: its fake time drives the
// background ticker, so no real second passes.
func TestSyncOnInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, _, err := Open(t.TempDir(), Options{Sync: SyncOnInterval, SyncInterval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		base := w.Stats().Fsyncs
		if _, err := w.Append(1, []byte("x")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := w.Stats().Fsyncs - base; got != 0 {
			t.Fatalf("fsyncs before the interval = %d, want 0", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := w.Stats().Fsyncs - base; got != 1 {
			t.Fatalf("fsyncs after one interval = %d, want 1", got)
		}
		time.Sleep(5 * time.Second) // nothing new appended: no fsync
		synctest.Wait()
		if got := w.Stats().Fsyncs - base; got != 1 {
			t.Fatalf("fsyncs after idle intervals = %d, want 1", got)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRotationBySizeCompressesAndReplays(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	opts.SegmentSize = 2 << 10
	w, _ := mustOpen(t, dir, opts)
	const n = 200
	appendN(t, w, 0, n, 100) // 117 B framed: ~17 per segment
	mustClose(t, w)          // waits for the compressor

	names := files(t, dir)
	if len(names) < 10 {
		t.Fatalf("got %d segments, want >= 10 for %d records of 117 B in 2 KiB segments", len(names), n)
	}
	for i, name := range names {
		last := i == len(names)-1
		if zst := strings.HasSuffix(name, zstExt); zst == last {
			t.Fatalf("segment %s: compressed = %v, want sealed segments compressed and the active one plain", name, zst)
		}
		if size := storagetest.FileSize(t, filepath.Join(dir, name)); !strings.HasSuffix(name, zstExt) && size > opts.SegmentSize {
			t.Fatalf("plain segment %s is %d bytes, over SegmentSize %d", name, size, opts.SegmentSize)
		}
	}

	w2, rep := mustOpen(t, dir, opts)
	if !rep.Clean() {
		t.Fatalf("report %s, want clean", rep)
	}
	for _, from := range []LSN{0, 1, 18, 100, n} { // 18 is near the start of the second segment
		got, err := replayFrom(w2, from)
		if err != nil {
			t.Fatalf("Replay(%d) across compressed segments: %v", from, err)
		}
		checkRecords(t, got, max(from, 1), n, 100)
	}
	s := w2.Stats()
	if s.Segments != len(names) {
		t.Fatalf("Stats.Segments = %d, want %d", s.Segments, len(names))
	}
}

func TestCompressionStats(t *testing.T) {
	opts := testOptions()
	opts.SegmentSize = 8 << 10
	w, _, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 0, 300, 100)
	if err := w.Close(); err != nil { // waits for compression
		t.Fatal(err)
	}
	s := w.Stats()
	if s.SegmentsSealed == 0 || s.SegmentsCompressed != s.SegmentsSealed {
		t.Fatalf("sealed %d, compressed %d: want every sealed segment compressed", s.SegmentsSealed, s.SegmentsCompressed)
	}
	if r := s.CompressionRatio(); r < 3 {
		t.Fatalf("compression ratio %.2f on repetitive payloads, want >= 3", r)
	}
	if s.Records != 300 || s.BytesWritten != 300*117 {
		t.Fatalf("Records %d BytesWritten %d, want 300 and %d", s.Records, s.BytesWritten, 300*117)
	}
	if s.CompressErrors != 0 || s.WriteErrors != 0 {
		t.Fatalf("errors: compress %d write %d, want 0", s.CompressErrors, s.WriteErrors)
	}
}

// TestRotationByAge runs in a synctest bubble: time.Sleep moves the clock
// that segment age is measured by, without waiting.
func TestRotationByAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := testOptions()
		opts.SegmentSize = -1
		opts.SegmentAge = time.Hour
		w, _ := mustOpen(t, t.TempDir(), opts)

		steps := []struct {
			advance      time.Duration
			wantSegments int
		}{
			{0, 1},
			{59 * time.Minute, 1},
			{2 * time.Minute, 2},  // first segment is 61m old: sealed before this append
			{30 * time.Minute, 2}, // second is 30m old
			{31 * time.Minute, 3},
			{5 * time.Hour, 4}, // one seal however long the gap
		}
		for i, st := range steps {
			time.Sleep(st.advance)
			appendN(t, w, i, 1, 10)
			if got := w.Stats().Segments; got != st.wantSegments {
				t.Fatalf("step %d (+%v): %d segments, want %d", i, st.advance, got, st.wantSegments)
			}
		}
		// An idle empty segment is never sealed, whatever its age.
		if err := w.Rotate(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Hour)
		if err := w.Rotate(); err != nil {
			t.Fatal(err)
		}
		if got := w.Stats().Segments; got != 5 {
			t.Fatalf("after rotating an empty segment: %d segments, want 5", got)
		}
	})
}

func TestRetention(t *testing.T) {
	// Ten sealed segments of 10 records each (LSN 1-10, 11-20, ...), one
	// sealed per hour of synctest time, plus an empty active segment.
	build := func(t *testing.T, opts Options) *WAL {
		opts.NoCompression = true // sizes stay exact
		w, _ := mustOpen(t, t.TempDir(), opts)
		for i := range 10 {
			appendN(t, w, i*10, 10, 100)
			time.Sleep(time.Hour)
			if err := w.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
		return w
	}
	const segBytes = segmentHeaderSize + 10*117
	tests := []struct {
		name        string
		age         time.Duration
		bytes       int64
		floor       LSN
		wantFirst   LSN // first retained LSN
		wantBlocked bool
	}{
		{"no limits keep all", -1, -1, 101, 1, false},
		{"age limit with floor past it", 150 * time.Minute, -1, 101, 71, false}, // sealed 9h..0h ago; 2.5h keeps the last three
		{"age limit held by floor", 150 * time.Minute, -1, 35, 31, true},        // segment 31-40 holds lsn 35
		{"floor at segment boundary", 150 * time.Minute, -1, 41, 41, true},
		{"byte limit", -1, 3*segBytes + segmentHeaderSize, 101, 71, false},
		{"byte limit held by floor", -1, 3*segBytes + segmentHeaderSize, 60, 51, true},
		{"no floor deletes nothing", 150 * time.Minute, 1, 0, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				opts := testOptions()
				opts.SegmentSize = -1
				opts.RetentionAge = tt.age
				opts.RetentionBytes = tt.bytes
				w := build(t, opts)
				blockedBefore := w.Stats().RetentionBlocked // rotations ran retention with no floor
				if err := w.KeepFrom(tt.floor); err != nil {
					t.Fatal(err)
				}
				s := w.Stats()
				s.RetentionBlocked -= blockedBefore
				if s.FirstLSN != tt.wantFirst {
					t.Fatalf("first retained lsn = %d, want %d", s.FirstLSN, tt.wantFirst)
				}
				if blocked := s.RetentionBlocked > 0; blocked != tt.wantBlocked {
					t.Fatalf("RetentionBlocked = %d, want blocked=%v", s.RetentionBlocked, tt.wantBlocked)
				}
				if removed := int(tt.wantFirst-1) / 10; s.RetentionRemoved != uint64(removed) || s.RetentionRemovedBytes != uint64(removed*segBytes) {
					t.Fatalf("removed %d segments / %d bytes, want %d / %d", s.RetentionRemoved, s.RetentionRemovedBytes, removed, removed*segBytes)
				}
				if len(files(t, w.Dir())) != s.Segments {
					t.Fatalf("directory holds %d segments, Stats says %d", len(files(t, w.Dir())), s.Segments)
				}
				got, err := replayFrom(w, 0)
				if err != nil {
					t.Fatal(err)
				}
				checkRecords(t, got, tt.wantFirst, 100, 100)
				if tt.wantFirst > 1 {
					_, err := replayFrom(w, 1)
					ce := corruptionError(t, err)
					if !errors.Is(err, ErrMissing) || ce.Reason != ReasonNotRetained || ce.ResumeLSN != tt.wantFirst {
						t.Fatalf("Replay(1) after retention = %v, want ErrMissing/not retained resuming at %d", err, tt.wantFirst)
					}
				}
			})
		})
	}
}

func TestRetentionAppliesOnRotation(t *testing.T) {
	opts := testOptions()
	opts.SegmentSize = 1 << 10
	opts.RetentionBytes = 4 << 10
	opts.NoCompression = true
	w, _ := mustOpen(t, t.TempDir(), opts)
	if err := w.KeepFrom(1 << 40); err != nil { // checkpoint far ahead: nothing is needed
		t.Fatal(err)
	}
	appendN(t, w, 0, 500, 100)
	s := w.Stats()
	if s.DiskBytes > opts.RetentionBytes+opts.SegmentSize {
		t.Fatalf("DiskBytes = %d, want <= %d after rotations", s.DiskBytes, opts.RetentionBytes+opts.SegmentSize)
	}
	if s.RetentionRemoved == 0 {
		t.Fatal("retention removed nothing")
	}
}

func TestStartLSN(t *testing.T) {
	t.Run("empty log starts there", func(t *testing.T) {
		opts := testOptions()
		opts.StartLSN = 1000
		w, rep := mustOpen(t, t.TempDir(), opts)
		if rep.NextLSN != 1000 {
			t.Fatalf("NextLSN = %d, want 1000", rep.NextLSN)
		}
		if lsn, err := w.Append(1, nil); err != nil || lsn != 1000 {
			t.Fatalf("Append = %d, %v; want 1000", lsn, err)
		}
	})
	t.Run("existing log jumps and replay reports the hole", func(t *testing.T) {
		dir := t.TempDir()
		opts := testOptions()
		w, _ := mustOpen(t, dir, opts)
		appendN(t, w, 0, 10, 100)
		mustClose(t, w)
		opts.StartLSN = 50
		w, rep := mustOpen(t, dir, opts)
		if rep.NextLSN != 50 {
			t.Fatalf("NextLSN = %d, want 50", rep.NextLSN)
		}
		if lsn, err := w.Append(1, payload(49, 100)); err != nil || lsn != 50 {
			t.Fatalf("Append = %d, %v; want 50", lsn, err)
		}
		got, err := replayFrom(w, 0)
		ce := corruptionError(t, err)
		if !errors.Is(err, ErrMissing) || ce.Reason != ReasonSkipped || ce.ResumeLSN != 50 {
			t.Fatalf("Replay(0) = %v, want ErrMissing/skipped resuming at 50", err)
		}
		checkRecords(t, got, 1, 10, 100)
		got, err = replayFrom(w, 50)
		if err != nil {
			t.Fatal(err)
		}
		checkRecords(t, got, 50, 50, 100)
		mustClose(t, w)
		// The segment before the jump is still compressible.
		if s := w.Stats(); s.SegmentsCompressed != 1 || s.CorruptSegments != 0 {
			t.Fatalf("compressed %d corrupt %d, want 1 and 0", s.SegmentsCompressed, s.CorruptSegments)
		}
	})
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	if _, _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open of a locked dir = %v, want ErrLocked", err)
	}
	if _, _, err := Open(t.TempDir(), Options{Sync: 9}); err == nil || !strings.Contains(err.Error(), "SyncManual") {
		t.Fatalf("Open with an unknown sync policy = %v, want an error naming the choices", err)
	}
	if _, err := w.Append(0, nil); !errors.Is(err, ErrInvalidType) {
		t.Fatalf("Append type 0 = %v, want ErrInvalidType", err)
	}
	if _, err := w.Append(1, make([]byte, DefaultMaxRecordSize+1)); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("Append too large = %v, want ErrRecordTooLarge", err)
	}
	mustClose(t, w)
	if err := w.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	for name, err := range map[string]error{
		"Append":   func() error { _, err := w.Append(1, nil); return err }(),
		"Sync":     w.Sync(),
		"Replay":   w.Replay(0, func(Record) error { return nil }),
		"KeepFrom": w.KeepFrom(1),
		"Rotate":   w.Rotate(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	// The lock is released.
	w2, _ := mustOpen(t, dir, testOptions())
	mustClose(t, w2)
}

func TestReplayStopsOnCallbackError(t *testing.T) {
	w, _ := mustOpen(t, t.TempDir(), testOptions())
	appendN(t, w, 0, 100, 100)
	stop := errors.New("stop")
	n := 0
	err := w.Replay(0, func(Record) error {
		n++
		if n == 42 {
			return stop
		}
		return nil
	})
	if err != stop || n != 42 {
		t.Fatalf("Replay = %v after %d records, want the callback's error after 42", err, n)
	}
}

// TestConcurrentAppendAndReplay appends from several goroutines while
// replaying and rotating; run with -race.
func TestConcurrentAppendAndReplay(t *testing.T) {
	opts := testOptions()
	opts.SegmentSize = 4 << 10
	w, _ := mustOpen(t, t.TempDir(), opts)
	const writers, each = 4, 250
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				if _, err := w.Append(2, []byte("concurrent record payload")); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			var prev LSN
			err := w.Replay(0, func(r Record) error {
				if prev != 0 && r.LSN != prev+1 {
					t.Errorf("replay saw lsn %d after %d", r.LSN, prev)
				}
				prev = r.LSN
				return nil
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	got, err := replayFrom(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.lsns) != writers*each || got.lsns[len(got.lsns)-1] != writers*each {
		t.Fatalf("replayed %d records ending at %v, want %d", len(got.lsns), summary(got.lsns), writers*each)
	}
}

func TestOpenRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	opts.SegmentSize = 1 << 10
	w, _ := mustOpen(t, dir, opts)
	appendN(t, w, 0, 30, 100)
	mustClose(t, w)
	names := files(t, dir)
	zst := names[0]
	if !strings.HasSuffix(zst, zstExt) {
		t.Fatalf("first segment %s not compressed", zst)
	}
	// A crash after the rename but before the plain file was removed: put a
	// plain copy back by decompressing; and an interrupted compression tmp.
	idx, first, _, _ := parseSegmentName(zst)
	plain := (&segment{index: idx, first: first}).plainName()
	decompressTo(t, filepath.Join(dir, zst), filepath.Join(dir, plain))
	tmp := filepath.Join(dir, names[1]+durable.TempSuffix)
	if err := os.WriteFile(tmp, []byte("partial"), 0o640); err != nil {
		t.Fatal(err)
	}

	w2, rep := mustOpen(t, dir, opts)
	wantRemoved := []string{filepath.Base(tmp), zst}
	if len(rep.Removed) != 2 || !sameSet(rep.Removed, wantRemoved) {
		t.Fatalf("Removed = %v, want %v", rep.Removed, wantRemoved)
	}
	got, err := replayFrom(w2, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, 1, 30, 100)
	mustClose(t, w2)
	if _, err := os.Stat(filepath.Join(dir, zst)); err != nil {
		t.Fatalf("segment was not compressed again: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, plain)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("plain copy still there after recompression: %v", err)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}
