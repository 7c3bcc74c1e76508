//go:build !unix

package wal

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir creates dir/LOCK; without flock it cannot exclude a second
// writer.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("wal: open lock file: %w", err)
	}
	return f, nil
}

func unlockDir(f *os.File) error {
	if err := f.Close(); err != nil {
		return fmt.Errorf("wal: release lock: %w", err)
	}
	return nil
}
