package durable

import (
	"fmt"
	"os"
	"path/filepath"
)

// TempSuffix ends the name of a file that AtomicFile has not published yet.
// A store's Open removes such leftovers of a crash.
const TempSuffix = ".tmp"

// AtomicFile is a new file written under a temporary name (its final path
// plus TempSuffix) and published under its final path only once it is
// complete and durable: fsync the file, rename it into place, fsync the
// directory. A crash at any point leaves either the old state at the final
// path or the whole new file, never a part of it; at most a temporary file is
// left over.
//
// Commit runs the whole sequence and closes the file. A caller that goes on
// writing to the file after it is published (a WAL segment, a journal file)
// calls Sync and Publish instead; so does one that must rename under a lock
// it should not hold during the fsync.
type AtomicFile struct {
	*os.File // the temporary file

	path, tmp string
	fsyncer   *Fsyncer
	published bool
}

// CreateAtomic creates (or truncates) the temporary file for path. flag is
// os.O_WRONLY or os.O_RDWR, with os.O_APPEND for a file that is appended to
// after Publish. The fsyncs are counted in fsyncer.
func CreateAtomic(path string, flag int, fsyncer *Fsyncer) (*AtomicFile, error) {
	tmp := path + TempSuffix
	f, err := os.OpenFile(tmp, flag|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	return &AtomicFile{File: f, path: path, tmp: tmp, fsyncer: fsyncer}, nil
}

// Commit fsyncs and closes the file, renames it to its final path and
// fsyncs the directory. On error nothing is published.
func (a *AtomicFile) Commit() error {
	if err := a.Sync(); err != nil {
		return err
	}
	if err := a.Close(); err != nil {
		return fmt.Errorf("close %s: %w", a.tmp, err)
	}
	return a.Publish()
}

// Sync fsyncs the file, counted in the Fsyncer. Call it after the last write
// before Publish.
func (a *AtomicFile) Sync() error {
	if err := a.fsyncer.File(a.File); err != nil {
		return fmt.Errorf("sync %s: %w", a.tmp, err)
	}
	return nil
}

// Publish renames the synced file to its final path, replacing what was
// there, and fsyncs the directory. If that fsync fails the rename might not
// survive a power cut, so the file is removed again rather than left for
// later steps to build on. The file stays open if it was.
func (a *AtomicFile) Publish() error {
	if err := os.Rename(a.tmp, a.path); err != nil {
		return fmt.Errorf("publish %s: %w", a.path, err)
	}
	if err := a.fsyncer.Dir(filepath.Dir(a.path)); err != nil {
		_ = os.Remove(a.path)
		return fmt.Errorf("publish %s: %w", a.path, err)
	}
	a.published = true
	return nil
}

// Abort closes and removes the temporary file unless it was published. It is
// meant to be deferred right after CreateAtomic.
func (a *AtomicFile) Abort() {
	if a.published {
		return
	}
	_ = a.Close()
	_ = os.Remove(a.tmp) // if this fails, the store's next Open removes it
}
