package durable

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// SyncDir fsyncs a directory so that a create, rename or remove inside it is
// durable: fsyncing the file alone does not persist its directory entry.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for sync: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// RenameDurable renames tmp to dst and fsyncs the directory, the last two
// steps of an atomic replace (the caller has already fsynced tmp).
func RenameDurable(dir, tmp, dst string) error {
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	return SyncDir(dir)
}

// IsDiskFull reports whether err means the file system is out of space or
// quota.
func IsDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// IsReadOnly reports whether err means the file system or directory refuses
// writes: a read-only mount, or permissions.
func IsReadOnly(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}
