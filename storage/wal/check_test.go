package wal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/burnwatch/burnwatch/storage"
	"github.com/burnwatch/burnwatch/storage/internal/storagetest"
)

// TestCheckNoticesVanishedFiles removes or replaces, under an open WAL, what
// an operator's rm or mv would, and expects Check to say so; then a fresh
// Open in the recreated directory works.
func TestCheckNoticesVanishedFiles(t *testing.T) {
	active := func(w *WAL) string { return w.path(files(t, w.Dir())[0]) }
	tests := []struct {
		name    string
		vanish  func(t *testing.T, w *WAL, data string)
		wantMsg string
	}{
		{"rm -rf of the data directory", func(t *testing.T, w *WAL, data string) {
			storagetest.RemoveAll(t, data)
		}, "directory"},
		{"rm of the active segment", func(t *testing.T, w *WAL, _ string) {
			if err := os.Remove(active(w)); err != nil {
				t.Fatal(err)
			}
		}, "active segment"},
		{"active segment replaced", func(t *testing.T, w *WAL, _ string) {
			other := filepath.Join(w.Dir(), "copy")
			if err := os.WriteFile(other, nil, 0o640); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(other, active(w)); err != nil {
				t.Fatal(err)
			}
		}, "replaced"},
		{"rm of the lock file", func(t *testing.T, w *WAL, _ string) {
			if err := os.Remove(w.path(lockFile)); err != nil {
				t.Fatal(err)
			}
		}, "lock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			dir := filepath.Join(data, "wal")
			w, _ := mustOpen(t, dir, testOptions())
			appendN(t, w, 0, 5, 100)
			if err := w.Check(); err != nil {
				t.Fatalf("Check of a healthy log = %v", err)
			}

			tt.vanish(t, w, data)
			err := w.Check()
			if !errors.Is(err, storage.ErrVanished) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Check = %v, want ErrVanished mentioning %q", err, tt.wantMsg)
			}
			_ = w.Close() // the host gives up on the vanished log
			if err := w.Check(); !errors.Is(err, ErrClosed) {
				t.Fatalf("Check after Close = %v, want ErrClosed", err)
			}

			storagetest.RemoveAll(t, data)
			w2, rep := mustOpen(t, dir, testOptions())
			if rep.NextLSN != 1 {
				t.Fatalf("fresh log starts at lsn %d, want 1", rep.NextLSN)
			}
			appendN(t, w2, 0, 5, 100)
			if err := w2.Check(); err != nil {
				t.Fatalf("Check of the reopened log = %v", err)
			}
			got, err := replayFrom(w2, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, got, 1, 5, 100)
		})
	}
}

// TestCheckAfterRotation checks the segment that is active now, not the one
// Open made.
func TestCheckAfterRotation(t *testing.T) {
	opts := testOptions()
	opts.SegmentSize = 1 << 10
	w, _ := mustOpen(t, t.TempDir(), opts)
	appendN(t, w, 0, 30, 100)
	if s := w.Stats(); s.SegmentsSealed == 0 {
		t.Fatal("no rotation")
	}
	if err := w.Check(); err != nil {
		t.Fatalf("Check after rotations = %v", err)
	}
	names := files(t, w.Dir())
	if err := os.Remove(w.path(names[len(names)-1])); err != nil {
		t.Fatal(err)
	}
	if err := w.Check(); !errors.Is(err, storage.ErrVanished) {
		t.Fatalf("Check after removing the newest segment = %v, want ErrVanished", err)
	}
}
