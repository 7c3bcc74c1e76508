// Package checkpoint stores snapshots of the engine state so that a restart
// replays only the WAL records after the newest one.
//
// A checkpoint is one file, SEQ.ckpt (20 digits), written atomically: the
// body goes to SEQ.ckpt.tmp in the same directory, which is fsynced, renamed
// into place, and the directory fsynced. A crash at any point leaves either
// the old set of checkpoints or the new one, never a half-written file under
// a final name. The file holds a 40-byte header (magic "BWCP", version, the
// WAL LSN the state covers, creation time, body length, CRC32C of the body,
// CRC32C of the header) and the caller's opaque body.
//
// The newest Options.Keep checkpoints are kept. Load returns the newest one
// that passes every check; damaged newer ones are skipped and named in the
// LoadReport, so a corrupt newest checkpoint costs a longer replay, not the
// state. For that to work the WAL must keep the records the oldest kept
// checkpoint needs: pass Floor to wal.KeepFrom.
//
// One Store writes a directory at a time; the host owns it.
package checkpoint
