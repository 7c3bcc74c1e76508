package durable

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
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
