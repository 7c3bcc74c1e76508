package wal

import (
	"sync/atomic"
	"time"

	"github.com/burnwatch/burnwatch/storage/internal/durable"
)

// Stats is a snapshot of the WAL's counters and gauges for the host to export.
// Counters only grow for the life of the WAL value.
type Stats struct {
	Records      uint64 // records appended
	BytesWritten uint64 // record bytes appended, framing included

	Segments  int   // segments on disk (gauge)
	DiskBytes int64 // bytes on disk, compressed segments at their compressed size (gauge)
	FirstLSN  LSN   // oldest retained record (gauge)
	NextLSN   LSN   // LSN of the next Append (gauge)
	Floor     LSN   // retention floor from KeepFrom (gauge)

	SegmentsSealed        uint64
	SegmentsCompressed    uint64
	CompressedRawBytes    uint64 // plain bytes fed to the compressor
	CompressedBytes       uint64 // compressed bytes it wrote
	Fsyncs                uint64 // file and directory fsyncs
	FsyncTime             time.Duration
	Repairs               uint64 // tails cut on Open
	RepairedBytes         uint64 // bytes those cuts removed
	CorruptSegments       uint64 // segments found damaged (Open, compressor)
	MissingSegments       uint64 // segments found missing on Open
	WriteErrors           uint64 // failed appends, creates, truncates and fsyncs
	DiskFullErrors        uint64 // of those, ENOSPC or EDQUOT
	ReadOnlyErrors        uint64 // of those, EROFS, EACCES or EPERM
	SyncErrors            uint64 // failed fsyncs
	CompressErrors        uint64 // compressions that failed and will be retried
	RetentionRemoved      uint64 // segments deleted by retention
	RetentionRemovedBytes uint64 // bytes deleted by retention
	RetentionBlocked      uint64 // retention passes held back by the floor
	BackgroundSyncFails   uint64 // interval fsyncs that failed (also in SyncErrors)
}

// CompressionRatio is raw bytes per compressed byte over all compressed
// segments, or 0 before the first one.
func (s Stats) CompressionRatio() float64 {
	if s.CompressedBytes == 0 {
		return 0
	}
	return float64(s.CompressedRawBytes) / float64(s.CompressedBytes)
}

// counters are the WAL's hot counters, atomics so Stats never waits for an
// fsync holding the WAL lock.
type counters struct {
	records, bytesWritten                            atomic.Uint64
	sealed, compressed, compressedRaw, compressedOut atomic.Uint64
	repairs, repairedBytes                           atomic.Uint64
	corrupt, missing                                 atomic.Uint64
	compressErrors                                   atomic.Uint64
	retentionRemoved, retentionBytes, retentionBlock atomic.Uint64
	backgroundSyncFails                              atomic.Uint64

	writeErrors durable.ErrorCounts // failed write-side operations by kind
	fsyncer     durable.Fsyncer     // every file and directory fsync
}

func (c *counters) snapshot() Stats {
	return Stats{
		Records:               c.records.Load(),
		BytesWritten:          c.bytesWritten.Load(),
		SegmentsSealed:        c.sealed.Load(),
		SegmentsCompressed:    c.compressed.Load(),
		CompressedRawBytes:    c.compressedRaw.Load(),
		CompressedBytes:       c.compressedOut.Load(),
		Fsyncs:                c.fsyncer.Count(),
		FsyncTime:             c.fsyncer.Time(),
		Repairs:               c.repairs.Load(),
		RepairedBytes:         c.repairedBytes.Load(),
		CorruptSegments:       c.corrupt.Load(),
		MissingSegments:       c.missing.Load(),
		WriteErrors:           c.writeErrors.Errors(),
		DiskFullErrors:        c.writeErrors.DiskFull(),
		ReadOnlyErrors:        c.writeErrors.ReadOnly(),
		SyncErrors:            c.fsyncer.Failed(),
		CompressErrors:        c.compressErrors.Load(),
		RetentionRemoved:      c.retentionRemoved.Load(),
		RetentionRemovedBytes: c.retentionBytes.Load(),
		RetentionBlocked:      c.retentionBlock.Load(),
		BackgroundSyncFails:   c.backgroundSyncFails.Load(),
	}
}
