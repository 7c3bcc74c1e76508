package wal

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrClosed is returned by calls on a closed WAL.
	ErrClosed = errors.New("wal: closed")
	// ErrLocked means another process (or another WAL in this one) has the
	// directory open.
	ErrLocked = errors.New("wal: directory locked by another writer")
	// ErrCorrupt marks damaged data: a bad header, CRC, length or sequence.
	ErrCorrupt = errors.New("wal: corrupt")
	// ErrMissing marks records that should exist but do not: a missing
	// segment, or records older than the oldest retained segment.
	ErrMissing = errors.New("wal: records missing")
	// ErrRecordTooLarge is returned by Append for a payload over
	// Options.MaxRecordSize.
	ErrRecordTooLarge = errors.New("wal: record too large")
	// ErrInvalidType is returned by Append for record type 0, which is
	// reserved so that zero-filled disk blocks never parse as a record.
	ErrInvalidType = errors.New("wal: record type 0 is reserved")
)

// Reason says what was wrong with damaged data.
type Reason string

// Reasons found by Open, Replay and the compressor.
const (
	ReasonZeroFilled     Reason = "zero-filled" // the data is all zero bytes, typical after a power cut
	ReasonTornHeader     Reason = "torn header" // the file ends inside a record header
	ReasonTornRecord     Reason = "torn record" // the file ends inside a record payload
	ReasonBadLength      Reason = "bad length"  // the length is over Options.MaxRecordSize
	ReasonBadCRC         Reason = "bad crc"     // the CRC32C does not match
	ReasonBadType        Reason = "bad type"    // record type 0
	ReasonBadLSN         Reason = "bad lsn"     // not the next sequence number
	ReasonBadHeader      Reason = "bad segment header"
	ReasonTruncated      Reason = "segment truncated" // ends before the next segment's first LSN
	ReasonUnreadable     Reason = "unreadable"        // a read or decompression error
	ReasonMissingSegment Reason = "missing segment"   // a hole in the segment index sequence
	ReasonNotRetained    Reason = "not retained"      // older than the oldest segment
	ReasonSkipped        Reason = "skipped"           // LSNs skipped on purpose by Options.StartLSN
)

// CorruptionError describes where Replay found damage or a hole. Records
// before LSN were delivered; ResumeLSN, when non-zero, is where readable data
// starts again.
type CorruptionError struct {
	Segment   string // file name, empty when the segment itself is missing
	Offset    int64  // byte offset in the uncompressed segment
	LSN       LSN    // the LSN that could not be read
	Reason    Reason
	ResumeLSN LSN   // first readable LSN after the damage; 0 if none
	Err       error // ErrCorrupt or ErrMissing
	Cause     error // underlying read or decompression error, if any
}

func (e *CorruptionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wal: %s at lsn %d", e.Reason, e.LSN)
	if e.Segment != "" {
		fmt.Fprintf(&b, " in %s offset %d", e.Segment, e.Offset)
	}
	if e.Cause != nil {
		fmt.Fprintf(&b, ": %v", e.Cause)
	}
	if e.ResumeLSN != 0 {
		fmt.Fprintf(&b, " (readable again from lsn %d)", e.ResumeLSN)
	}
	return b.String()
}

// Unwrap lets errors.Is match both the sentinel and the cause.
func (e *CorruptionError) Unwrap() []error {
	errs := []error{e.Err}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// OpenReport says what Open found and fixed. The host should log it when
// Clean is false.
type OpenReport struct {
	Segments int // segments on disk after Open
	FirstLSN LSN // oldest retained record
	NextLSN  LSN // what the next Append returns

	Repairs []Repair         // torn or corrupt tails cut from the active segment
	Corrupt []SegmentProblem // segments left in place but known to be damaged
	Missing []MissingRange   // holes in the segment sequence
	Removed []string         // leftovers removed: temporary files, stale compressed copies
}

// Clean reports whether Open found nothing to repair or report.
func (r OpenReport) Clean() bool {
	return len(r.Repairs) == 0 && len(r.Corrupt) == 0 && len(r.Missing) == 0 && len(r.Removed) == 0
}

func (r OpenReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d segments, first lsn %d, next lsn %d", r.Segments, r.FirstLSN, r.NextLSN)
	for _, x := range r.Repairs {
		fmt.Fprintf(&b, "; %s", x)
	}
	for _, x := range r.Corrupt {
		fmt.Fprintf(&b, "; corrupt %s: %s", x.Segment, x.Reason)
	}
	for _, x := range r.Missing {
		fmt.Fprintf(&b, "; missing segments %d..%d", x.FromIndex, x.ToIndex)
	}
	if len(r.Removed) > 0 {
		fmt.Fprintf(&b, "; removed %s", strings.Join(r.Removed, ", "))
	}
	return b.String()
}

// Repair is one cut of a segment's tail.
type Repair struct {
	Segment  string
	Offset   int64  // new size of the segment: the end of the last good record
	CutBytes int64  // bytes removed
	Reason   Reason // what was wrong at Offset
	LastLSN  LSN    // last record kept; 0 if none in this segment
	// IntactAfter counts well-formed records found after the damage and cut
	// with it: zero for a torn write, more for corruption in the middle.
	IntactAfter int
}

func (r Repair) String() string {
	return fmt.Sprintf("cut %d bytes of %s at offset %d (%s, last kept lsn %d, %d intact records dropped)",
		r.CutBytes, r.Segment, r.Offset, r.Reason, r.LastLSN, r.IntactAfter)
}

// SegmentProblem names a damaged segment that was left in place.
type SegmentProblem struct {
	Segment string
	Reason  Reason
	Detail  string
}

// MissingRange is a hole in the segment index sequence: segments FromIndex
// through ToIndex (inclusive) are gone.
type MissingRange struct {
	FromIndex, ToIndex uint64
	Before, After      string // the segments around the hole
}
