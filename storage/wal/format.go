package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"time"
)

// LSN is a record's log sequence number: it increases by one per record and
// is never reused.
type LSN uint64

// RecordType is the caller's tag for a record. Type 0 is reserved.
type RecordType uint8

// Record is one replayed record. Data is only valid during the callback that
// receives it: copy it to keep it.
type Record struct {
	LSN  LSN
	Type RecordType
	Data []byte
}

const (
	segmentMagic      = "BWAL"
	segmentVersion    = 1
	segmentHeaderSize = 36
	recordHeaderSize  = 17

	plainExt = ".wal"
	zstExt   = ".wal.zst"

	// lockFile is flocked by the writer that has the log open.
	lockFile = "LOCK"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segment is what the WAL knows about one segment file. index, first and
// created never change; zst, size and bad change under WAL.mu.
type segment struct {
	index   uint64
	first   LSN
	created time.Time // from the header; zero when the header is unreadable
	skip    bool      // LSNs before first were skipped on purpose (Options.StartLSN)
	zst     bool
	size    int64 // bytes on disk
	bad     bool  // known damaged: never compressed, reported by Replay
}

func segmentBase(index uint64, first LSN) string {
	return fmt.Sprintf("%08d-%020d", index, first)
}

func (s *segment) plainName() string { return segmentBase(s.index, s.first) + plainExt }
func (s *segment) zstName() string   { return segmentBase(s.index, s.first) + zstExt }

func (s *segment) name() string {
	if s.zst {
		return s.zstName()
	}
	return s.plainName()
}

// parseSegmentName parses INDEX-FIRST.wal or INDEX-FIRST.wal.zst.
func parseSegmentName(name string) (index uint64, first LSN, zst, ok bool) {
	base, zst := strings.CutSuffix(name, zstExt)
	if !zst {
		var plain bool
		if base, plain = strings.CutSuffix(name, plainExt); !plain {
			return 0, 0, false, false
		}
	}
	is, fs, found := strings.Cut(base, "-")
	if !found {
		return 0, 0, false, false
	}
	i, err1 := strconv.ParseUint(is, 10, 64)
	f, err2 := strconv.ParseUint(fs, 10, 64)
	if err1 != nil || err2 != nil || i == 0 || f == 0 {
		return 0, 0, false, false
	}
	return i, LSN(f), zst, true
}

// flagSkip in header byte 5 marks a segment created by Options.StartLSN
// past the end of its predecessor.
const flagSkip = 1

func encodeSegmentHeader(s *segment) []byte {
	b := make([]byte, segmentHeaderSize)
	copy(b[0:4], segmentMagic)
	b[4] = segmentVersion
	if s.skip {
		b[5] = flagSkip
	}
	binary.LittleEndian.PutUint64(b[8:16], s.index)
	binary.LittleEndian.PutUint64(b[16:24], uint64(s.first))
	binary.LittleEndian.PutUint64(b[24:32], uint64(s.created.UnixNano()))
	binary.LittleEndian.PutUint32(b[32:36], crc32.Checksum(b[:32], castagnoli))
	return b
}

// readSegmentHeader reads a segment header, checks it against the index
// and first LSN from the file name, and stores its creation time and flags in
// s unless s is nil.
func readSegmentHeader(r io.Reader, index uint64, first LSN, s *segment) error {
	var b [segmentHeaderSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("short header")
		}
		return err
	}
	switch {
	case string(b[0:4]) != segmentMagic:
		return errors.New("bad magic")
	case binary.LittleEndian.Uint32(b[32:36]) != crc32.Checksum(b[:32], castagnoli):
		return errors.New("header crc mismatch")
	case b[4] != segmentVersion:
		return fmt.Errorf("unsupported version %d", b[4])
	case binary.LittleEndian.Uint64(b[8:16]) != index || LSN(binary.LittleEndian.Uint64(b[16:24])) != first:
		return errors.New("header does not match file name")
	}
	if s != nil {
		s.created = time.Unix(0, int64(binary.LittleEndian.Uint64(b[24:32])))
		s.skip = b[5]&flagSkip != 0
	}
	return nil
}

// appendRecord frames one record onto dst. The header is built in dst
// itself: a local array would escape to the heap through crc32.
func appendRecord(dst []byte, lsn LSN, typ RecordType, data []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, recordHeaderSize)...)
	dst = append(dst, data...)
	h := dst[start : start+recordHeaderSize]
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(data)))
	binary.LittleEndian.PutUint64(h[8:16], uint64(lsn))
	h[16] = byte(typ)
	binary.LittleEndian.PutUint32(h[4:8], recordCRC(h, data))
	return dst
}

// recordCRC is the CRC32C of a record: length, lsn, type and payload.
func recordCRC(h []byte, data []byte) uint32 {
	c := crc32.Update(0, castagnoli, h[0:4])
	c = crc32.Update(c, castagnoli, h[8:17])
	return crc32.Update(c, castagnoli, data)
}

// damage is a record that failed validation at off.
type damage struct {
	off    int64
	reason Reason
	length int // the header's payload length when the header was whole; -1 otherwise
}

func (d *damage) Error() string { return fmt.Sprintf("%s at offset %d", d.reason, d.off) }

// scanner reads records in order from a segment body. It stops at a clean
// end, at damage (err is a *damage) or at a read error (err is that error).
type scanner struct {
	r      *bufio.Reader
	off    int64 // offset of the next record in the uncompressed segment
	limit  int64 // stop at this offset; < 0 for no limit
	expect LSN
	max    int
	hdr    [recordHeaderSize]byte
	data   []byte
	rec    Record
	err    error
}

func newScanner(r *bufio.Reader, off int64, expect LSN, maxSize int) *scanner {
	return &scanner{r: r, off: off, limit: -1, expect: expect, max: maxSize}
}

func (s *scanner) fail(reason Reason, length int) bool {
	s.err = &damage{off: s.off, reason: reason, length: length}
	return false
}

func (s *scanner) next() bool {
	if s.err != nil || (s.limit >= 0 && s.off >= s.limit) {
		return false
	}
	n, err := io.ReadFull(s.r, s.hdr[:])
	switch {
	case err == io.EOF:
		return false
	case err == io.ErrUnexpectedEOF:
		if allZero(s.hdr[:n]) {
			return s.fail(ReasonZeroFilled, -1)
		}
		return s.fail(ReasonTornHeader, -1)
	case err != nil:
		s.err = err
		return false
	}
	if allZero(s.hdr[:]) {
		return s.fail(ReasonZeroFilled, -1)
	}
	length := binary.LittleEndian.Uint32(s.hdr[0:4])
	if uint64(length) > uint64(s.max) {
		return s.fail(ReasonBadLength, -1)
	}
	if cap(s.data) < int(length) {
		s.data = make([]byte, length)
	}
	s.data = s.data[:length]
	if _, err := io.ReadFull(s.r, s.data); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return s.fail(ReasonTornRecord, int(length))
		}
		s.err = err
		return false
	}
	if binary.LittleEndian.Uint32(s.hdr[4:8]) != recordCRC(s.hdr[:], s.data) {
		return s.fail(ReasonBadCRC, int(length))
	}
	if s.hdr[16] == 0 {
		return s.fail(ReasonBadType, int(length))
	}
	lsn := LSN(binary.LittleEndian.Uint64(s.hdr[8:16]))
	if lsn != s.expect {
		return s.fail(ReasonBadLSN, int(length))
	}
	s.rec = Record{LSN: lsn, Type: RecordType(s.hdr[16]), Data: s.data}
	s.off += recordHeaderSize + int64(length)
	s.expect++
	return true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
