package wal

import (
	"fmt"
	"math"
	"time"
)

// Defaults used for zero Options fields.
const (
	DefaultSegmentSize    = 64 << 20
	DefaultSegmentAge     = time.Hour
	DefaultSyncInterval   = time.Second
	DefaultRetentionAge   = 72 * time.Hour
	DefaultRetentionBytes = 1 << 30
	DefaultMaxRecordSize  = 16 << 20
)

// SyncPolicy says when appended records are fsynced.
type SyncPolicy int

const (
	// SyncOnInterval fsyncs in the background every Options.SyncInterval when
	// something was appended. A crash of the process loses nothing (the data
	// is in the page cache); a power cut loses at most one interval.
	SyncOnInterval SyncPolicy = iota
	// SyncOnAppend fsyncs inside every Append: slow, but a returned LSN is on
	// disk.
	SyncOnAppend
	// SyncManual fsyncs only on Sync, rotation and Close.
	SyncManual
)

// Options configures a WAL. The zero value gives the defaults; a negative
// duration or size disables that limit.
type Options struct {
	// SegmentSize is the size at which the active segment is sealed.
	SegmentSize int64
	// SegmentAge is the age at which a non-empty active segment is sealed,
	// checked on Append.
	SegmentAge time.Duration
	// Sync selects the fsync policy.
	Sync SyncPolicy
	// SyncInterval is the background fsync period for SyncOnInterval.
	SyncInterval time.Duration
	// RetentionAge deletes sealed segments sealed longer ago than this.
	RetentionAge time.Duration
	// RetentionBytes deletes the oldest sealed segments while the log is
	// larger than this.
	RetentionBytes int64
	// MaxRecordSize bounds one record's payload; a larger length read back
	// from disk is treated as corruption instead of an allocation.
	MaxRecordSize int
	// NoCompression keeps sealed segments plain, for debugging with a hex
	// dump; retention still applies.
	NoCompression bool
	// StartLSN is the lowest LSN the next Append may get. Set it to the
	// newest checkpoint's LSN + 1: if the WAL directory was lost, or a repair
	// cut records the checkpoint already covers, new records then start past
	// the checkpoint instead of reusing LSNs that replay would skip. A jump
	// leaves a hole that Replay reports to readers that cross it.
	StartLSN LSN
}

func (o Options) withDefaults() (Options, error) {
	switch o.Sync {
	case SyncOnInterval, SyncOnAppend, SyncManual:
	default:
		return o, fmt.Errorf("wal: sync policy %d: want SyncOnInterval, SyncOnAppend or SyncManual", o.Sync)
	}
	if o.MaxRecordSize > math.MaxUint32 {
		return o, fmt.Errorf("wal: max record size %d: the format allows at most %d", o.MaxRecordSize, uint32(math.MaxUint32))
	}
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SegmentAge == 0 {
		o.SegmentAge = DefaultSegmentAge
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.RetentionAge == 0 {
		o.RetentionAge = DefaultRetentionAge
	}
	if o.RetentionBytes == 0 {
		o.RetentionBytes = DefaultRetentionBytes
	}
	if o.MaxRecordSize <= 0 {
		o.MaxRecordSize = DefaultMaxRecordSize
	}
	if o.StartLSN == 0 {
		o.StartLSN = 1
	}
	return o, nil
}
