package storagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// MountTmpfs mounts a tmpfs of the given size ("512k", "1m") on a fresh
// directory and unmounts it when the test ends, or skips the test when this
// process may not mount (not root, no CAP_SYS_ADMIN). A small tmpfs is a real
// file system that fills up: writes fail with ENOSPC, and a remount makes it
// read-only.
func MountTmpfs(t testing.TB, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs (%v: %s); skipping the real-disk case", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// Remount remounts the file system at mnt with mode "ro" or "rw".
func Remount(t testing.TB, mnt, mode string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+mode, mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v: %s", mnt, mode, err, out)
	}
}

// Immutable makes dir immutable (chattr +i), which stops even root from
// creating, renaming or removing files in it, unlike permission bits; or
// skips the test where chattr or the file system cannot. The returned
// function makes dir writable again; it is also run when the test ends, so
// t.TempDir can remove the directory.
func Immutable(t testing.TB, dir string) (restore func()) {
	t.Helper()
	if _, err := exec.LookPath("chattr"); err != nil {
		t.Skip("chattr not installed")
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("file system does not support chattr +i (%v: %s)", err, out)
	}
	restore = func() {
		if out, err := exec.Command("chattr", "-i", dir).CombinedOutput(); err != nil {
			t.Errorf("chattr -i %s: %v: %s", dir, err, out)
		}
	}
	t.Cleanup(restore)
	return restore
}
