package durable

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
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

// Fsyncer fsyncs files and directories and counts the calls, their failures
// and the time they took, for a store's Stats. The zero value is ready; its
// methods are safe for concurrent use.
type Fsyncer struct {
	count, failed, nanos atomic.Uint64
}

// File fsyncs f.
func (s *Fsyncer) File(f *os.File) error { return s.Do(f.Sync) }

// Dir fsyncs the directory dir.
func (s *Fsyncer) Dir(dir string) error {
	return s.Do(func() error { return SyncDir(dir) })
}

// Do runs sync, a caller's own fsync, and counts it.
func (s *Fsyncer) Do(sync func() error) error {
	start := time.Now()
	err := sync()
	s.count.Add(1)
	s.nanos.Add(uint64(time.Since(start)))
	if err != nil {
		s.failed.Add(1)
	}
	return err
}

// Count is how many fsyncs ran.
func (s *Fsyncer) Count() uint64 { return s.count.Load() }

// Failed is how many of them failed.
func (s *Fsyncer) Failed() uint64 { return s.failed.Load() }

// Time is how long they took together.
func (s *Fsyncer) Time() time.Duration { return time.Duration(s.nanos.Load()) }

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

// ErrorCounts counts failed disk operations and, of those, the ones that mean
// the disk is full or read-only: the three numbers every store exports. The
// zero value is ready; its methods are safe for concurrent use.
type ErrorCounts struct {
	errors, diskFull, readOnly atomic.Uint64
}

// Count counts err, which must not be nil.
func (c *ErrorCounts) Count(err error) {
	c.errors.Add(1)
	if IsDiskFull(err) {
		c.diskFull.Add(1)
	}
	if IsReadOnly(err) {
		c.readOnly.Add(1)
	}
}

// Errors is how many errors were counted.
func (c *ErrorCounts) Errors() uint64 { return c.errors.Load() }

// DiskFull is how many of them were ENOSPC or EDQUOT.
func (c *ErrorCounts) DiskFull() uint64 { return c.diskFull.Load() }

// ReadOnly is how many of them were EROFS, EACCES or EPERM.
func (c *ErrorCounts) ReadOnly() uint64 { return c.readOnly.Load() }
