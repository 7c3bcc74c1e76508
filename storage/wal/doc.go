// Package wal is a segmented write-ahead log: the engine appends each input
// event here before applying it, so that after a crash the events since the
// newest checkpoint can be replayed.
//
// # Format
//
// A log is a directory of segments named INDEX-FIRSTLSN.wal (8 and 20 digits),
// for example 00000003-00000000000000104857.wal. INDEX increases by one per
// segment, so a missing middle segment shows in a directory listing; FIRSTLSN
// is the sequence number of the segment's first record, so a reader can find
// where to start without opening files. Each segment starts with a 36-byte
// header (magic "BWAL", version, index, first LSN, creation time, CRC32C) and
// holds records framed as
//
//	length uint32 | crc32c uint32 | lsn uint64 | type uint8 | payload
//
// in little endian, where the CRC32C (Castagnoli) covers length, lsn, type and
// payload. LSNs increase by exactly one per record across segments.
//
// The newest segment is the active one. It is sealed (fsynced) when it would
// grow past Options.SegmentSize or is older than Options.SegmentAge, and a new
// segment is created: its header is written to INDEX-FIRSTLSN.wal.tmp, fsynced
// and renamed into place, and the directory fsynced. Sealed segments are
// compressed with zstd in the background: write INDEX-FIRSTLSN.wal.zst.tmp,
// fsync, rename, fsync the directory, then remove the plain file. Close waits
// for that work.
//
// # Crash repair
//
// Open scans the active segment and cuts a torn or corrupt tail (partial
// header or payload, bad CRC, zero-filled blocks, an out-of-sequence LSN) at
// the last good record. Each cut is returned in the OpenReport and counted in
// Stats; the report also says how many intact records followed the damage, so
// a torn write (none) can be told from bit rot (some). Leftover temporary files
// are removed, and when a crash left both a plain and a compressed copy of a
// segment the plain one wins and is compressed again.
//
// Sealed segments are never rewritten. Open reports a missing middle segment
// (a hole in the INDEX sequence) and sealed segments whose header is damaged;
// damage inside a sealed segment is found by Replay and by the compressor,
// which leaves such a segment plain and counts it.
//
// # Replay across damage
//
// Replay stops at the first hole or damaged record and returns a
// *CorruptionError (errors.Is ErrCorrupt or ErrMissing) naming the segment,
// offset and reason; every record before it has been delivered. The error
// carries ResumeLSN, the first LSN that can be read after the damage, so the
// host decides: refuse to start, or call Replay again from ResumeLSN and count
// the loss. Stopping is the default because silently skipping would make the
// engine's counters wrong without anyone knowing.
//
// # Retention
//
// Sealed segments are deleted oldest first once they are older than
// Options.RetentionAge (measured from when they were sealed) or the log is
// larger than Options.RetentionBytes, but never a segment that holds a record
// at or above the floor set with KeepFrom: the caller raises the floor to the
// first LSN its oldest kept checkpoint still needs. Without a floor nothing is
// deleted; Stats.RetentionBlocked counts how often the floor held a limit back.
//
// # Disk trouble
//
// Write, fsync and create failures are returned wrapped with %w (errors.Is
// finds syscall.ENOSPC, syscall.EROFS, ...) and counted. A failed Append did
// not happen: a partial record it may have left is cut before the next append,
// so appends work again once the disk recovers.
//
// Removing the directory (rm -rf) or the active segment makes no write fail:
// the kernel keeps the open file, with no name, until it is closed. Check
// notices it and returns an error wrapping storage.ErrVanished; the host
// calls it periodically and opens the log again.
package wal
