package storage

import "errors"

// ErrVanished means that what a store has open is no longer on disk where
// it was opened: its directory was removed (rm -rf of the data directory),
// or a file it writes was removed or replaced. Writes into a removed file
// still succeed, into an inode no path leads to, so the stores cannot see it
// from their errors; their Check methods return an error wrapping
// ErrVanished instead. The host should stop claiming durability and reopen.
var ErrVanished = errors.New("storage: removed or replaced while open")
