package durable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/burnwatch/burnwatch/storage"
	"github.com/burnwatch/burnwatch/storage/internal/storagetest"
)

func TestClassify(t *testing.T) {
	wrap := func(errno syscall.Errno) error {
		return fmt.Errorf("wal: append: %w", &os.PathError{Op: "write", Path: "x", Err: errno})
	}
	tests := []struct {
		err            error
		full, readOnly bool
	}{
		{wrap(syscall.ENOSPC), true, false},
		{wrap(syscall.EDQUOT), true, false},
		{wrap(syscall.EROFS), false, true},
		{wrap(syscall.EACCES), false, true},
		{wrap(syscall.EPERM), false, true},
		{wrap(syscall.EIO), false, false},
		{errors.New("other"), false, false},
	}
	for _, tt := range tests {
		if got := IsDiskFull(tt.err); got != tt.full {
			t.Errorf("IsDiskFull(%v) = %v, want %v", tt.err, got, tt.full)
		}
		if got := IsReadOnly(tt.err); got != tt.readOnly {
			t.Errorf("IsReadOnly(%v) = %v, want %v", tt.err, got, tt.readOnly)
		}
	}
}

func TestSyncDirErrors(t *testing.T) {
	if err := SyncDir(t.TempDir()); err != nil {
		t.Fatalf("SyncDir: %v", err)
	}
	if err := SyncDir("/nonexistent/dir"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("SyncDir of a missing dir = %v, want ErrNotExist", err)
	}
}

func TestErrorCounts(t *testing.T) {
	var c ErrorCounts
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO} {
		c.Count(fmt.Errorf("write: %w", errno))
	}
	if c.Errors() != 4 || c.DiskFull() != 2 || c.ReadOnly() != 1 {
		t.Fatalf("errors/full/read-only = %d/%d/%d, want 4/2/1", c.Errors(), c.DiskFull(), c.ReadOnly())
	}
}

func TestFsyncer(t *testing.T) {
	var s Fsyncer
	if err := s.Dir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := s.Dir("/nonexistent/dir"); err == nil {
		t.Fatal("Dir of a missing dir succeeded")
	}
	if s.Count() != 2 || s.Failed() != 1 || s.Time() <= 0 {
		t.Fatalf("count %d failed %d time %v, want 2, 1, > 0", s.Count(), s.Failed(), s.Time())
	}
}

func TestAtomicFile(t *testing.T) {
	t.Run("commit publishes the whole file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, []byte("old"), 0o640); err != nil {
			t.Fatal(err)
		}
		var s Fsyncer
		f, err := CreateAtomic(path, os.O_WRONLY, &s)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Abort()
		if _, err := f.Write([]byte("new")); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != "old" {
			t.Fatalf("before Commit the path holds %q, want the old content", got)
		}
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		f.Abort() // a no-op after Commit
		if got, _ := os.ReadFile(path); string(got) != "new" {
			t.Fatalf("after Commit the path holds %q, want %q", got, "new")
		}
		if names := storagetest.Names(t, dir); len(names) != 1 {
			t.Fatalf("directory holds %v, want only the published file", names)
		}
		if s.Count() != 2 { // the file, then the directory
			t.Fatalf("fsyncs = %d, want 2", s.Count())
		}
	})
	t.Run("publish keeps the file open", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "f")
		f, err := CreateAtomic(path, os.O_WRONLY|os.O_APPEND, new(Fsyncer))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Abort()
		if _, err := f.Write([]byte("a")); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := f.Publish(); err != nil {
			t.Fatal(err)
		}
		f.Abort() // must not close or remove a published file
		if _, err := f.Write([]byte("b")); err != nil {
			t.Fatalf("write after Publish: %v", err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != "ab" {
			t.Fatalf("path holds %q, want %q", got, "ab")
		}
	})
	t.Run("abort leaves nothing", func(t *testing.T) {
		dir := t.TempDir()
		f, err := CreateAtomic(filepath.Join(dir, "f"), os.O_WRONLY, new(Fsyncer))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("partial")); err != nil {
			t.Fatal(err)
		}
		f.Abort()
		if names := storagetest.Names(t, dir); len(names) != 0 {
			t.Fatalf("directory holds %v after Abort, want nothing", names)
		}
	})
	t.Run("create in a missing directory", func(t *testing.T) {
		_, err := CreateAtomic("/nonexistent/dir/f", os.O_WRONLY, new(Fsyncer))
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("CreateAtomic = %v, want ErrNotExist", err)
		}
	})
}

func TestCheckDirAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := CheckDir(dir); err != nil {
		t.Fatalf("CheckDir of a present dir = %v", err)
	}
	if err := CheckFile(path, f); err != nil {
		t.Fatalf("CheckFile of the file at its path = %v", err)
	}

	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	if err := CheckFile(path, f); !errors.Is(err, storage.ErrVanished) || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("CheckFile after the path was replaced = %v, want ErrVanished saying replaced", err)
	}
	storagetest.Remove(t, path)
	if err := CheckFile(path, f); !errors.Is(err, storage.ErrVanished) || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("CheckFile after the file was removed = %v, want ErrVanished saying removed", err)
	}

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(dir); !errors.Is(err, storage.ErrVanished) {
		t.Fatalf("CheckDir after rm -rf = %v, want ErrVanished", err)
	}
	if err := os.WriteFile(dir, nil, 0o640); err != nil { // a file where the dir was
		t.Fatal(err)
	}
	if err := CheckDir(dir); !errors.Is(err, storage.ErrVanished) {
		t.Fatalf("CheckDir of a file = %v, want ErrVanished", err)
	}
	if err := CheckFile(path, f); !errors.Is(err, storage.ErrVanished) {
		t.Fatalf("CheckFile under a file (ENOTDIR) = %v, want ErrVanished", err)
	}
}
