package journal

import (
	"sync/atomic"
	"time"

	"github.com/burnwatch/burnwatch/storage/internal/durable"
)

// Stats is a snapshot of a Journal's counters.
type Stats struct {
	Lines             uint64 // records written
	Bytes             uint64 // record bytes written
	WriteErrors       uint64 // failed writes, opens, renames and fsyncs
	DiskFullErrors    uint64 // of those, ENOSPC or EDQUOT
	ReadOnlyErrors    uint64 // of those, EROFS, EACCES or EPERM
	SyncErrors        uint64 // failed fsyncs
	Fsyncs            uint64 // file and directory fsyncs
	FsyncTime         time.Duration
	EncodeErrors      uint64 // values json could not encode
	Rotations         uint64 // by size, age or Rotate
	RotateErrors      uint64
	ExternalRotations uint64 // the path was replaced or removed under us
	Truncations       uint64 // the file shrank under us (copytruncate)
	Reopens           uint64 // Reopen calls
	TornLines         uint64 // unterminated last lines found and ended
	Compressed        uint64 // rotated files compressed
	CompressedRaw     uint64 // their plain bytes
	CompressedBytes   uint64 // their compressed bytes
	CompressErrors    uint64
	RetentionRemoved  uint64 // rotated files deleted
	RetentionErrors   uint64
}

type counters struct {
	lines, bytes, encodeErrors                                          atomic.Uint64
	rotations, rotateErrors, externalRotations, truncations, reopens    atomic.Uint64
	tornLines, compressed, compressedRaw, compressedOut, compressErrors atomic.Uint64
	retentionRemoved, retentionErrors                                   atomic.Uint64

	writeErrors durable.ErrorCounts // failed write-side operations by kind
	fsyncer     durable.Fsyncer     // every file and directory fsync
}

// Stats returns a snapshot of the counters.
func (j *Journal) Stats() Stats {
	c := &j.stats
	return Stats{
		Lines:             c.lines.Load(),
		Bytes:             c.bytes.Load(),
		WriteErrors:       c.writeErrors.Errors(),
		DiskFullErrors:    c.writeErrors.DiskFull(),
		ReadOnlyErrors:    c.writeErrors.ReadOnly(),
		SyncErrors:        c.fsyncer.Failed(),
		Fsyncs:            c.fsyncer.Count(),
		FsyncTime:         c.fsyncer.Time(),
		EncodeErrors:      c.encodeErrors.Load(),
		Rotations:         c.rotations.Load(),
		RotateErrors:      c.rotateErrors.Load(),
		ExternalRotations: c.externalRotations.Load(),
		Truncations:       c.truncations.Load(),
		Reopens:           c.reopens.Load(),
		TornLines:         c.tornLines.Load(),
		Compressed:        c.compressed.Load(),
		CompressedRaw:     c.compressedRaw.Load(),
		CompressedBytes:   c.compressedOut.Load(),
		CompressErrors:    c.compressErrors.Load(),
		RetentionRemoved:  c.retentionRemoved.Load(),
		RetentionErrors:   c.retentionErrors.Load(),
	}
}
