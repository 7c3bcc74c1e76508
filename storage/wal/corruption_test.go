package wal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/storage/internal/storagetest"
)

// The corruption tests build a log of 60 records of 100 B (117 B framed) in
// 2 KiB segments, 17 records each:
//
//	segment 1: lsn 1-17   sealed
//	segment 2: lsn 18-34  sealed
//	segment 3: lsn 35-51  sealed
//	segment 4: lsn 52-60  active, 9 records
//
// then damage the files, reopen and check the report and what Replay gives.
const (
	corpRecords = 60
	recSize     = recordHeaderSize + 100
)

// recordOff is the offset of the k-th record (0-based) in a segment.
func recordOff(k int) int64 { return segmentHeaderSize + int64(k)*recSize }

func buildCorpus(t *testing.T, noCompression bool) (string, Options, []string) {
	t.Helper()
	dir := t.TempDir()
	opts := testOptions()
	opts.SegmentSize = 2 << 10
	opts.NoCompression = noCompression
	w, _ := mustOpen(t, dir, opts)
	appendN(t, w, 0, corpRecords, 100)
	mustClose(t, w)
	names := files(t, dir)
	if len(names) != 4 {
		t.Fatalf("corpus has segments %v, want 4", names)
	}
	return dir, opts, names
}

func TestCorruptActiveTailIsCut(t *testing.T) {
	last := func(dir string, names []string) string { return filepath.Join(dir, names[3]) }
	tests := []struct {
		name        string
		damage      func(t *testing.T, path string)
		reason      Reason
		cut         int64
		intactAfter int
		lastKept    LSN
	}{
		{
			name:     "flipped byte in the last record",
			damage:   func(t *testing.T, p string) { storagetest.FlipByte(t, p, recordOff(8)+60) },
			reason:   ReasonBadCRC,
			cut:      recSize,
			lastKept: 59,
		},
		{
			name:        "flipped byte in a middle record",
			damage:      func(t *testing.T, p string) { storagetest.FlipByte(t, p, recordOff(3)+40) }, // lsn 55
			reason:      ReasonBadCRC,
			cut:         6 * recSize,
			intactAfter: 5,
			lastKept:    54,
		},
		{
			name:     "flipped length field",
			damage:   func(t *testing.T, p string) { storagetest.FlipByte(t, p, recordOff(3)+3) },
			reason:   ReasonBadLength,
			cut:      6 * recSize,
			lastKept: 54,
		},
		{
			name:        "flipped lsn field",
			damage:      func(t *testing.T, p string) { storagetest.FlipByte(t, p, recordOff(3)+9) },
			reason:      ReasonBadCRC, // the CRC covers the LSN
			cut:         6 * recSize,
			intactAfter: 5,
			lastKept:    54,
		},
		{
			name:     "truncated inside the last payload",
			damage:   func(t *testing.T, p string) { storagetest.Truncate(t, p, recordOff(8)+50) },
			reason:   ReasonTornRecord,
			cut:      50,
			lastKept: 59,
		},
		{
			name:     "truncated inside the last header",
			damage:   func(t *testing.T, p string) { storagetest.Truncate(t, p, recordOff(8)+5) },
			reason:   ReasonTornHeader,
			cut:      5,
			lastKept: 59,
		},
		{
			name:     "zero-filled tail after the records",
			damage:   func(t *testing.T, p string) { storagetest.AppendBytes(t, p, make([]byte, 4096)) },
			reason:   ReasonZeroFilled,
			cut:      4096,
			lastKept: 60,
		},
		{
			name: "last two records zeroed",
			damage: func(t *testing.T, p string) {
				storagetest.Truncate(t, p, recordOff(7))
				storagetest.AppendBytes(t, p, make([]byte, 2*recSize))
			},
			reason:   ReasonZeroFilled,
			cut:      2 * recSize,
			lastKept: 58,
		},
		{
			name: "garbage then zeros is not called zero-filled",
			damage: func(t *testing.T, p string) {
				storagetest.AppendBytes(t, p, []byte{1, 2, 3})
				storagetest.AppendBytes(t, p, make([]byte, 100))
			},
			reason:   ReasonTornRecord, // the garbage reads as a length
			cut:      103,
			lastKept: 60,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, opts, names := buildCorpus(t, false)
			path := last(dir, names)
			tt.damage(t, path)
			sizeBefore := storagetest.FileSize(t, path)

			w, rep := mustOpen(t, dir, opts)
			if len(rep.Repairs) != 1 {
				t.Fatalf("report %s: want exactly one repair", rep)
			}
			r := rep.Repairs[0]
			want := Repair{Segment: names[3], Offset: sizeBefore - tt.cut, CutBytes: tt.cut, Reason: tt.reason, LastLSN: tt.lastKept, IntactAfter: tt.intactAfter}
			if r != want {
				t.Fatalf("repair\n got %+v\nwant %+v", r, want)
			}
			if got := storagetest.FileSize(t, path); got != want.Offset {
				t.Fatalf("segment is %d bytes after repair, want %d", got, want.Offset)
			}
			if s := w.Stats(); s.Repairs != 1 || s.RepairedBytes != uint64(tt.cut) {
				t.Fatalf("Stats repairs %d bytes %d, want 1 and %d", s.Repairs, s.RepairedBytes, tt.cut)
			}
			got, err := replayFrom(w, 0)
			if err != nil {
				t.Fatalf("Replay after repair: %v", err)
			}
			checkRecords(t, got, 1, tt.lastKept, 100)

			// The log goes on from the cut, and a second open finds it clean.
			appendN(t, w, int(tt.lastKept), 3, 100)
			mustClose(t, w)
			w2, rep2 := mustOpen(t, dir, opts)
			if !rep2.Clean() {
				t.Fatalf("second open report %s, want clean", rep2)
			}
			got, err = replayFrom(w2, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, got, 1, tt.lastKept+3, 100)
		})
	}
}

func TestTornSegmentCreationIsRepaired(t *testing.T) {
	dir, opts, _ := buildCorpus(t, false)
	// A crash while creating segment 5: only part of its header reached disk.
	name := segmentBase(5, 61) + plainExt
	full := encodeSegmentHeader(&segment{index: 5, first: 61, created: time.Now()})
	if err := os.WriteFile(filepath.Join(dir, name), full[:10], 0o640); err != nil {
		t.Fatal(err)
	}
	w, rep := mustOpen(t, dir, opts)
	want := Repair{Segment: name, CutBytes: 10, Reason: ReasonBadHeader}
	if len(rep.Repairs) != 1 || rep.Repairs[0] != want || len(rep.Corrupt) != 0 {
		t.Fatalf("report %s, want one header repair of %s", rep, name)
	}
	if rep.NextLSN != 61 {
		t.Fatalf("NextLSN = %d, want 61", rep.NextLSN)
	}
	appendN(t, w, 60, 1, 100)
	got, err := replayFrom(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, 1, 61, 100)
}

func TestDamagedSealedSegmentsStopReplay(t *testing.T) {
	seg := func(names []string, i int) string { return names[i] }
	tests := []struct {
		name          string
		noCompression bool
		damage        func(t *testing.T, dir string, names []string)
		// Open
		wantMissing []MissingRange
		// Replay(0) delivers records 1..n, lastAtLeast <= n < lastBelow, then
		// fails.
		lastAtLeast, lastBelow LSN
		wantErr                error
		wantReason             Reason // empty: any
		wantSegment            int    // index into names of the segment named in the error; -1 for none
		wantResume             LSN
	}{
		{
			name: "missing middle segment",
			damage: func(t *testing.T, dir string, names []string) {
				storagetest.Remove(t, filepath.Join(dir, names[1]))
			},
			wantMissing: []MissingRange{{FromIndex: 2, ToIndex: 2, Before: "", After: ""}},
			lastAtLeast: 17, lastBelow: 18,
			wantErr: ErrMissing, wantReason: ReasonMissingSegment, wantSegment: -1, wantResume: 35,
		},
		{
			name: "corrupt compressed segment",
			damage: func(t *testing.T, dir string, names []string) {
				p := filepath.Join(dir, names[1])
				storagetest.FlipByte(t, p, storagetest.FileSize(t, p)/2)
			},
			lastAtLeast: 17, lastBelow: 34,
			wantErr: ErrCorrupt, wantSegment: 1, wantResume: 35,
		},
		{
			name: "compressed segment cut short",
			damage: func(t *testing.T, dir string, names []string) {
				p := filepath.Join(dir, names[1])
				storagetest.Truncate(t, p, storagetest.FileSize(t, p)-20)
			},
			lastAtLeast: 17, lastBelow: 34,
			wantErr: ErrCorrupt, wantSegment: 1, wantResume: 35,
		},
		{
			name:          "flipped byte in a sealed plain segment",
			noCompression: true,
			damage: func(t *testing.T, dir string, names []string) {
				storagetest.FlipByte(t, filepath.Join(dir, names[1]), recordOff(7)+50) // lsn 25
			},
			lastAtLeast: 24, lastBelow: 25,
			wantErr: ErrCorrupt, wantReason: ReasonBadCRC, wantSegment: 1, wantResume: 35,
		},
		{
			name:          "sealed segment truncated at a record boundary",
			noCompression: true,
			damage: func(t *testing.T, dir string, names []string) {
				storagetest.Truncate(t, filepath.Join(dir, names[1]), recordOff(10)) // keeps lsn 18-27
			},
			lastAtLeast: 27, lastBelow: 28,
			wantErr: ErrCorrupt, wantReason: ReasonTruncated, wantSegment: 1, wantResume: 35,
		},
		{
			name:          "sealed segment truncated inside a record",
			noCompression: true,
			damage: func(t *testing.T, dir string, names []string) {
				storagetest.Truncate(t, filepath.Join(dir, names[1]), recordOff(10)+30)
			},
			lastAtLeast: 27, lastBelow: 28,
			wantErr: ErrCorrupt, wantReason: ReasonTornRecord, wantSegment: 1, wantResume: 35,
		},
		{
			name:          "sealed segment with a zeroed header",
			noCompression: true,
			damage: func(t *testing.T, dir string, names []string) {
				f, err := os.OpenFile(filepath.Join(dir, names[1]), os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.WriteAt(make([]byte, segmentHeaderSize), 0); err != nil {
					t.Fatal(err)
				}
			},
			lastAtLeast: 17, lastBelow: 18,
			wantErr: ErrCorrupt, wantReason: ReasonBadHeader, wantSegment: 1, wantResume: 35,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, opts, names := buildCorpus(t, tt.noCompression)
			tt.damage(t, dir, names)
			w, rep := mustOpen(t, dir, opts)
			if len(rep.Repairs) != 0 {
				t.Fatalf("sealed damage must not be cut: report %s", rep)
			}
			if len(rep.Missing) != len(tt.wantMissing) {
				t.Fatalf("Missing = %+v, want %d ranges", rep.Missing, len(tt.wantMissing))
			}
			for i, m := range tt.wantMissing {
				if got := rep.Missing[i]; got.FromIndex != m.FromIndex || got.ToIndex != m.ToIndex || got.Before != names[0] || got.After != names[2] {
					t.Fatalf("Missing[%d] = %+v, want %d..%d between %s and %s", i, got, m.FromIndex, m.ToIndex, names[0], names[2])
				}
			}
			if tt.wantMissing != nil && w.Stats().MissingSegments != 1 {
				t.Fatalf("Stats.MissingSegments = %d, want 1", w.Stats().MissingSegments)
			}
			for _, c := range rep.Corrupt { // a damaged header may show on Open; it must name the right file
				if c.Segment != seg(names, 1) {
					t.Fatalf("Open reports %s corrupt, want only %s", c.Segment, seg(names, 1))
				}
			}

			got, err := replayFrom(w, 0)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Replay(0) = %v, want %v", err, tt.wantErr)
			}
			ce := corruptionError(t, err)
			if tt.wantReason != "" && ce.Reason != tt.wantReason {
				t.Fatalf("reason %q, want %q (%v)", ce.Reason, tt.wantReason, err)
			}
			if tt.wantSegment >= 0 && ce.Segment != names[tt.wantSegment] {
				t.Fatalf("error names segment %q, want %q", ce.Segment, names[tt.wantSegment])
			}
			if ce.ResumeLSN != tt.wantResume {
				t.Fatalf("ResumeLSN = %d, want %d", ce.ResumeLSN, tt.wantResume)
			}
			if n := LSN(len(got.lsns)); n < tt.lastAtLeast || n >= tt.lastBelow {
				t.Fatalf("delivered %s before the error, want 1..%d (at most %d)", summary(got.lsns), tt.lastAtLeast, tt.lastBelow-1)
			}
			if len(got.lsns) > 0 {
				checkRecords(t, got, 1, LSN(len(got.lsns)), 100)
			}
			if !strings.Contains(err.Error(), string(ce.Reason)) {
				t.Fatalf("error text %q does not say why", err)
			}

			got, err = replayFrom(w, ce.ResumeLSN)
			if err != nil {
				t.Fatalf("Replay(ResumeLSN=%d): %v", ce.ResumeLSN, err)
			}
			checkRecords(t, got, ce.ResumeLSN, corpRecords, 100)
		})
	}
}

func TestCompressorLeavesCorruptSegmentPlain(t *testing.T) {
	dir, opts, names := buildCorpus(t, true)
	storagetest.FlipByte(t, filepath.Join(dir, names[1]), recordOff(7)+50)
	opts.NoCompression = false
	w, _ := mustOpen(t, dir, opts)
	mustClose(t, w) // waits for the compressor
	s := w.Stats()
	if s.CorruptSegments != 1 || s.SegmentsCompressed != 2 || s.CompressErrors != 0 {
		t.Fatalf("corrupt %d compressed %d compress errors %d, want 1, 2, 0", s.CorruptSegments, s.SegmentsCompressed, s.CompressErrors)
	}
	after := files(t, dir)
	want := []string{
		strings.TrimSuffix(names[0], plainExt) + zstExt,
		names[1], // left plain for inspection
		strings.TrimSuffix(names[2], plainExt) + zstExt,
		names[3],
	}
	if strings.Join(after, ",") != strings.Join(want, ",") {
		t.Fatalf("files after compression %v, want %v", after, want)
	}
}

func TestActiveSegmentWithDamagedHeader(t *testing.T) {
	dir, opts, names := buildCorpus(t, false)
	f, err := os.OpenFile(filepath.Join(dir, names[3]), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XXXX"), 0); err != nil { // magic
		t.Fatal(err)
	}
	_ = f.Close()

	w, rep := mustOpen(t, dir, opts)
	if len(rep.Corrupt) != 1 || rep.Corrupt[0].Segment != names[3] || rep.Corrupt[0].Reason != ReasonBadHeader {
		t.Fatalf("report %s: want %s reported with a bad header", rep, names[3])
	}
	if len(rep.Repairs) != 0 {
		t.Fatalf("a segment with records after a damaged header must be kept, not cut: %s", rep)
	}
	if rep.NextLSN != 61 {
		t.Fatalf("NextLSN = %d, want 61 (after the records still readable in the damaged segment)", rep.NextLSN)
	}
	appendN(t, w, 60, 1, 100)
	got, err := replayFrom(w, 0)
	ce := corruptionError(t, err)
	if ce.Reason != ReasonBadHeader || ce.Segment != names[3] || ce.ResumeLSN != 61 {
		t.Fatalf("Replay(0) = %v, want bad header in %s resuming at 61", err, names[3])
	}
	checkRecords(t, got, 1, 51, 100)
	if got, err = replayFrom(w, 61); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, 61, 61, 100)
}
