package journal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/burnwatch/burnwatch/storage"
	"github.com/burnwatch/burnwatch/storage/internal/storagetest"
)

func TestCheck(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	dir := filepath.Join(data, "history")
	path := filepath.Join(dir, "alerts.jsonl")
	j := mustOpen(t, path, Options{MaxSize: -1, MaxAge: -1})
	writeRange(t, j, 0, 3)
	if err := j.Check(); err != nil {
		t.Fatalf("Check of a healthy journal = %v", err)
	}

	// logrotate moving the file away is followed, not reported.
	mv(t, path, 1)
	if err := j.Check(); err != nil {
		t.Fatalf("Check after the file was moved = %v, want nil", err)
	}
	writeRange(t, j, 3, 4)

	storagetest.RemoveAll(t, data)
	if err := j.Check(); !errors.Is(err, storage.ErrVanished) {
		t.Fatalf("Check after rm -rf = %v, want ErrVanished", err)
	}

	// Once the directory is back, Write reopens the path there and Check
	// is content; a fresh Open works too.
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := j.Check(); err != nil {
		t.Fatalf("Check after the directory came back = %v", err)
	}
	writeRange(t, j, 4, 5)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Check(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Check after Close = %v, want ErrClosed", err)
	}
	checkHeaders(t, []string{path})
	// Records 0-3 went with the directory; record 4 is in the new file.
	if seen := collectIDs(t, []string{path}); len(seen) != 1 || seen[4] != 1 {
		t.Fatalf("records in the recreated file %v, want record 4 once", seen)
	}

	j2 := mustOpen(t, path, Options{})
	writeRange(t, j2, 5, 6)
	if err := j2.Check(); err != nil {
		t.Fatalf("Check of the reopened journal = %v", err)
	}
}
