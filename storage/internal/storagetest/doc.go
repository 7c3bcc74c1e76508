// Package storagetest holds the test helpers the storage packages share:
// damaging files the way disks and operators do, listing directories, and
// the real-disk fixtures (a small tmpfs, an immutable directory) that make
// the kernel return ENOSPC, EROFS and EPERM. Each helper fails the test on
// an unexpected error, or skips it when the machine cannot provide the
// fixture.
package storagetest
