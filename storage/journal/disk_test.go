package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/burnwatch/burnwatch/storage/internal/storagetest"
)

func TestOpenUnderAFileFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(file, "alerts.jsonl"), Options{}); !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("Open under a file = %v, want ENOTDIR", err)
	}
}

// TestDiskFull fills a small tmpfs: a failed Write leaves no partial line,
// and writing works again once space is freed.
func TestDiskFull(t *testing.T) {
	mnt := storagetest.MountTmpfs(t, "128k")
	ballast := filepath.Join(mnt, "ballast")
	if err := os.WriteFile(ballast, bytes.Repeat([]byte{1}, 32<<10), 0o640); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(mnt, "alerts.jsonl")
	j, err := Open(path, Options{MaxSize: -1, MaxAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat("p", 3000) // lines straddle page boundaries
	written := 0
	var full error
	for i := 0; i < 1000; i++ {
		if err := j.Write(record{ID: i, Alert: "a", Payload: payload}); err != nil {
			full = err
			break
		}
		written++
	}
	if !errors.Is(full, syscall.ENOSPC) {
		t.Fatalf("filling the disk gave %v after %d lines, want ENOSPC", full, written)
	}
	if s := j.Stats(); s.DiskFullErrors == 0 {
		t.Fatal("DiskFullErrors = 0")
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	for i := written; i < written+5; i++ {
		if err := j.Write(record{ID: i, Alert: "a", Payload: payload}); err != nil {
			t.Fatalf("Write after freeing space: %v", err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// Every line parses: the failed write left no fragment.
	lines := rawLines(t, path)
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not whole JSON (%d bytes): a torn line survived", i+1, len(l))
		}
	}
	checkExactlyOnce(t, collectIDs(t, []string{path}), written+5)
}

// TestRotationFailureKeepsWriting makes the directory immutable, which
// stops even root from creating the next file: the line still lands in the
// current file and the failure is counted.
func TestRotationFailureKeepsWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.jsonl")
	j := mustOpen(t, path, Options{MaxSize: 500, MaxAge: -1, Compression: CompressNone})
	writeRange(t, j, 0, 5)
	unlock := storagetest.Immutable(t, dir)
	writeRange(t, j, 5, 15) // would rotate at ~9 records
	s := j.Stats()
	if s.RotateErrors == 0 || s.ReadOnlyErrors == 0 || s.Rotations != 0 {
		t.Fatalf("rotate errors %d read-only %d rotations %d, want >0, >0, 0", s.RotateErrors, s.ReadOnlyErrors, s.Rotations)
	}
	unlock()
	writeRange(t, j, 15, 20)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if j.Stats().Rotations == 0 {
		t.Fatal("no rotation after the directory became writable again")
	}
	files := historyFiles(t, dir, "alerts.jsonl")
	checkHeaders(t, files)
	checkExactlyOnce(t, collectIDs(t, files), 20)
}
