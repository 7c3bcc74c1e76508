package durable

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/burnwatch/burnwatch/storage"
)

// CheckDir returns an error wrapping storage.ErrVanished when dir no longer
// exists or is no longer a directory.
func CheckDir(dir string) error {
	info, err := os.Stat(dir)
	switch {
	case gone(err):
		return fmt.Errorf("directory %s was removed: %w", dir, storage.ErrVanished)
	case err != nil:
		return fmt.Errorf("stat %s: %w", dir, err)
	case !info.IsDir():
		return fmt.Errorf("%s is no longer a directory: %w", dir, storage.ErrVanished)
	}
	return nil
}

// CheckFile returns an error wrapping storage.ErrVanished when path no
// longer names the open file f: it was removed (with its directory or
// alone), or another file took its place.
func CheckFile(path string, f *os.File) error {
	open, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat open %s: %w", path, err)
	}
	atPath, err := os.Stat(path)
	switch {
	case gone(err):
		return fmt.Errorf("%s was removed while open: %w", path, storage.ErrVanished)
	case err != nil:
		return fmt.Errorf("stat %s: %w", path, err)
	case !os.SameFile(atPath, open):
		return fmt.Errorf("%s was replaced by another file while open: %w", path, storage.ErrVanished)
	}
	return nil
}

// gone reports whether a stat error means nothing is at the path: ENOTDIR
// when a directory on the way was replaced by a file.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
