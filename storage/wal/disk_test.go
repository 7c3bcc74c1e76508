package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/burnwatch/burnwatch/storage/internal/storagetest"
)

func TestOpenOnAFileFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(file, "wal")} {
		_, _, err := Open(dir, Options{})
		if !errors.Is(err, syscall.ENOTDIR) && !errors.Is(err, syscall.EEXIST) {
			t.Fatalf("Open(%s) = %v, want ENOTDIR or EEXIST", dir, err)
		}
	}
}

// faultyWrite writes the first partial bytes of b for real, as a disk that
// fills up mid-record would, then fails with errno.
func faultyWrite(errno syscall.Errno, partial int) func(*os.File, []byte) (int, error) {
	return func(f *os.File, b []byte) (int, error) {
		n, _ := f.Write(b[:min(partial, len(b))])
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: errno}
	}
}

func TestInjectedWriteFaults(t *testing.T) {
	tests := []struct {
		name         string
		errno        syscall.Errno
		partial      int
		wantFull     uint64
		wantReadOnly uint64
	}{
		{"disk full mid-record", syscall.ENOSPC, 60, 1, 0},
		{"quota exceeded, nothing written", syscall.EDQUOT, 0, 1, 0},
		{"read-only file system", syscall.EROFS, 0, 0, 1},
		{"permission denied mid-header", syscall.EACCES, 5, 0, 1},
		{"i/o error", syscall.EIO, 30, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions()
			opts.SegmentSize = -1
			w, _ := mustOpen(t, dir, opts)
			appendN(t, w, 0, 10, 100)

			w.writeFile = faultyWrite(tt.errno, tt.partial)
			for range 3 {
				_, err := w.Append(1, payload(10, 100))
				if !errors.Is(err, tt.errno) {
					t.Fatalf("Append on a failing disk = %v, want errors.Is %v", err, tt.errno)
				}
			}
			s := w.Stats()
			if s.WriteErrors != 3 || s.DiskFullErrors != 3*tt.wantFull || s.ReadOnlyErrors != 3*tt.wantReadOnly {
				t.Fatalf("write/full/read-only errors = %d/%d/%d, want 3/%d/%d", s.WriteErrors, s.DiskFullErrors, s.ReadOnlyErrors, 3*tt.wantFull, 3*tt.wantReadOnly)
			}

			// The disk recovers: the failed appends did not happen.
			w.writeFile = (*os.File).Write
			appendN(t, w, 10, 10, 100)
			got, err := replayFrom(w, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, got, 1, 20, 100)
			mustClose(t, w)

			w2, rep := mustOpen(t, dir, opts)
			if !rep.Clean() {
				t.Fatalf("reopen after recovered faults: %s, want clean (partial writes must have been cut)", rep)
			}
			got, err = replayFrom(w2, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, got, 1, 20, 100)
		})
	}
}

func TestInjectedSyncFault(t *testing.T) {
	opts := testOptions()
	opts.SegmentSize = -1
	opts.Sync = SyncOnAppend
	w, _ := mustOpen(t, t.TempDir(), opts)
	appendN(t, w, 0, 5, 100)
	w.syncFile = func(*os.File) error { return &os.PathError{Op: "sync", Path: "x", Err: syscall.EIO} }
	if _, err := w.Append(1, payload(5, 100)); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append with failing fsync = %v, want EIO", err)
	}
	if got, err := replayFrom(w, 0); err != nil || len(got.lsns) != 5 {
		t.Fatalf("after failed fsync replay gives %d records (%v), want the 5 acknowledged", len(got.lsns), err)
	}
	w.syncFile = (*os.File).Sync
	appendN(t, w, 5, 5, 100)
	got, err := replayFrom(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, 1, 10, 100)
	if s := w.Stats(); s.SyncErrors != 1 || s.WriteErrors != 1 {
		t.Fatalf("SyncErrors %d WriteErrors %d, want 1 and 1", s.SyncErrors, s.WriteErrors)
	}
}

// TestReadOnlyDirectoryBlocksRotation makes the directory immutable, which
// stops even root from creating a segment in it, unlike permission bits.
func TestReadOnlyDirectoryBlocksRotation(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	opts.SegmentSize = 1 << 10
	w, _ := mustOpen(t, dir, opts)
	appendN(t, w, 0, 8, 100) // 36 + 8*117 = 972 B: the next record needs a new segment
	restore := storagetest.Immutable(t, dir)

	_, err := w.Append(1, payload(8, 100))
	if !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EACCES) {
		t.Fatalf("Append needing a new segment in an immutable dir = %v, want EPERM", err)
	}
	if s := w.Stats(); s.ReadOnlyErrors == 0 || s.Segments != 1 {
		t.Fatalf("ReadOnlyErrors %d Segments %d, want > 0 and 1", s.ReadOnlyErrors, s.Segments)
	}
	restore()
	appendN(t, w, 8, 10, 100)
	got, err := replayFrom(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, 1, 18, 100)
}

// TestDiskFullOnRealFileSystem fills a small tmpfs, then frees space.
func TestDiskFullOnRealFileSystem(t *testing.T) {
	mnt := storagetest.MountTmpfs(t, "512k")
	ballast := filepath.Join(mnt, "ballast")
	if err := os.WriteFile(ballast, bytes.Repeat([]byte{1}, 128<<10), 0o640); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(mnt, "wal")
	opts := testOptions()
	opts.SegmentSize = 64 << 10
	w, _ := mustOpen(t, dir, opts)

	acked := 0
	var full error
	for i := 0; i < 10000 && full == nil; i++ {
		if _, err := w.Append(1, payload(acked, 1000)); err != nil {
			full = err
			break
		}
		acked++
	}
	if !errors.Is(full, syscall.ENOSPC) {
		t.Fatalf("filling the disk gave %v after %d records, want ENOSPC", full, acked)
	}
	if s := w.Stats(); s.DiskFullErrors == 0 {
		t.Fatal("DiskFullErrors = 0 after ENOSPC")
	}
	if _, err := w.Append(1, payload(acked, 1000)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("second append on a full disk = %v, want ENOSPC", err)
	}

	storagetest.Remove(t, ballast) // the operator frees space
	for range 20 {
		if _, err := w.Append(1, payload(acked, 1000)); err != nil {
			t.Fatalf("append after freeing space: %v", err)
		}
		acked++
	}
	mustClose(t, w)

	w2, rep := mustOpen(t, dir, opts)
	if len(rep.Repairs) != 0 {
		t.Fatalf("reopen after disk full: %s, want no repair", rep)
	}
	got, err := replayFrom(w2, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, 1, LSN(acked), 1000)
}

// TestReadOnlyMount opens a log on a file system remounted read-only.
func TestReadOnlyMount(t *testing.T) {
	mnt := storagetest.MountTmpfs(t, "1m")
	dir := filepath.Join(mnt, "wal")
	opts := testOptions()
	w, _ := mustOpen(t, dir, opts)
	appendN(t, w, 0, 10, 100)
	mustClose(t, w)

	storagetest.Remount(t, mnt, "ro")
	_, _, err := Open(dir, opts)
	if !errors.Is(err, syscall.EROFS) {
		storagetest.Remount(t, mnt, "rw")
		t.Fatalf("Open on a read-only mount = %v, want EROFS", err)
	}
	storagetest.Remount(t, mnt, "rw")
	w2, rep := mustOpen(t, dir, opts)
	if !rep.Clean() {
		t.Fatalf("report %s, want clean", rep)
	}
	appendN(t, w2, 10, 1, 100)
	got, err := replayFrom(w2, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, 1, 11, 100)
}
