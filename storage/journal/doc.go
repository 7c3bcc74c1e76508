// Package journal writes the human-readable alert history: one JSON object
// per line, so that `tail -f`, `jq` and log shippers can read it.
//
// Every file starts with a header line,
//
//	{"type":"header","version":1,"created":"2026-01-02T03:04:05Z"}
//
// and each Write appends one whole line with a single write(2) on a file
// opened O_APPEND, under a mutex, so lines from concurrent writers never
// interleave and an external reader never sees half a line unless the disk
// fills mid-write; then the partial line is cut off again.
//
// # Rotation
//
// The journal rotates itself by rename when the file would grow past
// Options.MaxSize or is older than Options.MaxAge: alerts.jsonl becomes
// alerts-20260102T150405Z.jsonl and a fresh alerts.jsonl with a header takes
// its place. Rotated files are compressed in the background (zstd to .zst or
// gzip to .gz: write a temp file, fsync, rename, fsync the directory, remove
// the plain one) and deleted beyond Options.MaxFiles or Options.RetentionAge.
// Close waits for that work.
//
// # External logrotate
//
// The journal also works under logrotate. Before each write it compares the
// inode at the path with the one it has open and the file's size with what it
// wrote: if the path now names another file or none (logrotate's create mode,
// nocreate, or a plain mv) it reopens the path, and if the file shrank
// (copytruncate) it starts again with a header. Reopen does the same on
// demand; the host calls it on SIGHUP, as logrotate's postrotate usually
// asks. With create mode no line is lost or duplicated; with copytruncate a
// line written between logrotate's copy and its truncate is lost, which is
// inherent to copytruncate. See docs/operations.md for stanzas. When
// logrotate manages the file, disable the journal's own rotation (negative
// MaxSize and MaxAge): its retention only touches files it named itself.
//
// A removed directory is another matter: the path cannot be reopened and
// lines go into the old file, which no name leads to any more. Check reports
// that (storage.ErrVanished).
package journal
