package checkpoint

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/burnwatch/burnwatch/storage/internal/durable"
)

// DefaultKeep is how many checkpoints are kept when Options.Keep is zero.
const DefaultKeep = 3

const (
	magic      = "BWCP"
	version    = 1
	headerSize = 40
	ext        = ".ckpt"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrNoCheckpoint means the directory holds no checkpoint: a first start.
	ErrNoCheckpoint = errors.New("checkpoint: none found")
	// ErrCorrupt means checkpoints exist but none passed the checks.
	ErrCorrupt = errors.New("checkpoint: corrupt")
)

// Options configures a Store.
type Options struct {
	// Keep is how many of the newest checkpoints to keep; at least 1.
	Keep int
	// MaxBodySize bounds the body length Load believes from a header, so a
	// damaged length cannot make it allocate gigabytes. Default 4 GiB.
	MaxBodySize int64
}

// Info describes a checkpoint file.
type Info struct {
	Name    string
	Seq     uint64    // increases by one per Save; orders checkpoints
	LSN     uint64    // the last WAL record the state includes: replay from LSN+1
	Created time.Time // when Save ran
	Size    int64     // body bytes
}

// Checkpoint is a loaded checkpoint.
type Checkpoint struct {
	Info
	Body []byte
}

// LoadReport lists the checkpoints Load skipped because they were damaged.
type LoadReport struct {
	Skipped []Skipped
}

// Skipped is a damaged checkpoint Load passed over.
type Skipped struct {
	Name string
	Err  error
}

// Stats is a snapshot of a Store's counters.
type Stats struct {
	Saves          uint64
	SaveErrors     uint64
	DiskFullErrors uint64 // of SaveErrors, ENOSPC or EDQUOT
	ReadOnlyErrors uint64 // of SaveErrors, EROFS, EACCES or EPERM
	BytesWritten   uint64
	Fsyncs         uint64
	FsyncTime      time.Duration
	LastSaveTime   time.Duration // wall time of the last successful Save
	Loads          uint64
	CorruptSkipped uint64 // damaged checkpoints Load passed over
	Pruned         uint64 // old checkpoints deleted
	PruneErrors    uint64
}

// Store reads and writes the checkpoints in one directory.
type Store struct {
	dir  string
	opts Options

	// mu serializes Save and Load so sequence numbers, pruning and the
	// floor agree.
	mu   sync.Mutex
	next uint64

	saveErrors durable.ErrorCounts
	fsyncer    durable.Fsyncer

	saves, bytesWritten, lastSaveNanos         atomic.Uint64
	loads, corruptSkipped, pruned, pruneErrors atomic.Uint64
}

// Open prepares dir for checkpoints, creating it if needed and removing
// temporary files a crash left behind.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = 4 << 30
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("checkpoint: create dir: %w", err)
	}
	s := &Store{dir: dir, opts: opts, next: 1}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: read dir: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if base, ok := strings.CutSuffix(name, durable.TempSuffix); ok {
			if _, ok := parseName(base); ok {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					return nil, fmt.Errorf("checkpoint: remove leftover: %w", err)
				}
			}
			continue
		}
		if seq, ok := parseName(name); ok && seq >= s.next {
			s.next = seq + 1
		}
	}
	return s, nil
}

func fileName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, ext) }

func parseName(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, ext)
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseUint(base, 10, 64)
	return seq, err == nil && seq > 0
}

// Save writes body as a new checkpoint covering WAL records up to lsn, then
// deletes checkpoints beyond Options.Keep.
func (s *Store) Save(lsn uint64, body []byte) (Info, error) {
	return s.SaveFunc(lsn, func(w io.Writer) error {
		_, err := w.Write(body)
		return err
	})
}

// SaveFunc is Save for a body streamed by write, so a large state need not be
// built in memory first. If write fails nothing is saved.
func (s *Store) SaveFunc(lsn uint64, write func(io.Writer) error) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	info, err := s.save(lsn, write)
	if err != nil {
		s.saveErrors.Count(err)
		return Info{}, err
	}
	s.saves.Add(1)
	s.bytesWritten.Add(uint64(headerSize + info.Size))
	s.lastSaveNanos.Store(uint64(time.Since(start)))
	s.pruneLocked()
	return info, nil
}

func (s *Store) save(lsn uint64, write func(io.Writer) error) (Info, error) {
	info := Info{Name: fileName(s.next), Seq: s.next, LSN: lsn, Created: time.Now()}
	f, err := durable.CreateAtomic(filepath.Join(s.dir, info.Name), os.O_WRONLY, &s.fsyncer)
	if err != nil {
		return Info{}, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Abort()
	// The header needs the body's length and CRC: reserve it, stream the
	// body, then fill it in.
	if _, err := f.Write(make([]byte, headerSize)); err != nil {
		return Info{}, fmt.Errorf("checkpoint: write %s: %w", f.Name(), err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &countingWriter{w: bw, crc: crc32.New(castagnoli)}
	if err := write(cw); err != nil {
		return Info{}, fmt.Errorf("checkpoint: write body: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return Info{}, fmt.Errorf("checkpoint: write %s: %w", f.Name(), err)
	}
	info.Size = cw.n
	if _, err := f.WriteAt(encodeHeader(info, cw.crc.Sum32()), 0); err != nil {
		return Info{}, fmt.Errorf("checkpoint: write %s: %w", f.Name(), err)
	}
	if err := f.Commit(); err != nil {
		return Info{}, fmt.Errorf("checkpoint: %w", err)
	}
	s.next++
	return info, nil
}

type countingWriter struct {
	w   io.Writer
	crc hash.Hash32
	n   int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc.Write(p[:n])
	c.n += int64(n)
	return n, err
}

func encodeHeader(info Info, bodyCRC uint32) []byte {
	b := make([]byte, headerSize)
	copy(b[0:4], magic)
	binary.LittleEndian.PutUint16(b[4:6], version)
	binary.LittleEndian.PutUint64(b[8:16], info.LSN)
	binary.LittleEndian.PutUint64(b[16:24], uint64(info.Created.UnixNano()))
	binary.LittleEndian.PutUint64(b[24:32], uint64(info.Size))
	binary.LittleEndian.PutUint32(b[32:36], bodyCRC)
	binary.LittleEndian.PutUint32(b[36:40], crc32.Checksum(b[:36], castagnoli))
	return b
}

// readHeader reads and checks a header; the body CRC is returned for the
// caller to check.
func (s *Store) readHeader(f *os.File, info *Info) (bodyCRC uint32, err error) {
	var b [headerSize]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return 0, fmt.Errorf("read header: %w", err)
	}
	switch {
	case string(b[0:4]) != magic:
		return 0, errors.New("bad magic")
	case binary.LittleEndian.Uint32(b[36:40]) != crc32.Checksum(b[:36], castagnoli):
		return 0, errors.New("header crc mismatch")
	case binary.LittleEndian.Uint16(b[4:6]) != version:
		return 0, fmt.Errorf("unsupported version %d", binary.LittleEndian.Uint16(b[4:6]))
	}
	info.LSN = binary.LittleEndian.Uint64(b[8:16])
	info.Created = time.Unix(0, int64(binary.LittleEndian.Uint64(b[16:24])))
	info.Size = int64(binary.LittleEndian.Uint64(b[24:32]))
	if info.Size < 0 || info.Size > s.opts.MaxBodySize {
		return 0, fmt.Errorf("body length %d over limit %d", info.Size, s.opts.MaxBodySize)
	}
	return binary.LittleEndian.Uint32(b[32:36]), nil
}

// list returns the checkpoint files, newest first.
func (s *Store) list() ([]Info, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: read dir: %w", err)
	}
	var out []Info
	for _, e := range entries {
		if seq, ok := parseName(e.Name()); ok && !e.IsDir() {
			out = append(out, Info{Name: e.Name(), Seq: seq})
		}
	}
	slices.SortFunc(out, func(a, b Info) int {
		switch {
		case a.Seq > b.Seq:
			return -1
		case a.Seq < b.Seq:
			return 1
		}
		return 0
	})
	return out, nil
}

// Load returns the newest checkpoint that passes every check. It returns
// ErrNoCheckpoint when there is none, and an error wrapping ErrCorrupt when
// all are damaged; the report names each damaged one it skipped.
func (s *Store) Load() (*Checkpoint, LoadReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads.Add(1)
	var rep LoadReport
	list, err := s.list()
	if err != nil {
		return nil, rep, err
	}
	if len(list) == 0 {
		return nil, rep, ErrNoCheckpoint
	}
	for _, info := range list {
		c, err := s.read(info)
		if err == nil {
			return c, rep, nil
		}
		rep.Skipped = append(rep.Skipped, Skipped{Name: info.Name, Err: err})
		s.corruptSkipped.Add(1)
	}
	return nil, rep, fmt.Errorf("checkpoint: all %d checkpoints in %s are damaged (newest: %v): %w", len(list), s.dir, rep.Skipped[0].Err, ErrCorrupt)
}

func (s *Store) read(info Info) (*Checkpoint, error) {
	f, err := os.Open(filepath.Join(s.dir, info.Name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bodyCRC, err := s.readHeader(f, &info)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if got := st.Size() - headerSize; got != info.Size {
		return nil, fmt.Errorf("body is %d bytes, header says %d", got, info.Size)
	}
	body := make([]byte, info.Size)
	if _, err := io.ReadFull(f, body); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if crc32.Checksum(body, castagnoli) != bodyCRC {
		return nil, errors.New("body crc mismatch")
	}
	return &Checkpoint{Info: info, Body: body}, nil
}

// pruneLocked deletes all but the newest Keep checkpoints. A failure is
// counted, not returned: the Save it follows has succeeded.
func (s *Store) pruneLocked() {
	list, err := s.list()
	if err != nil {
		s.pruneErrors.Add(1)
		return
	}
	for _, info := range list[min(len(list), s.opts.Keep):] {
		if err := os.Remove(filepath.Join(s.dir, info.Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.pruneErrors.Add(1)
			continue
		}
		s.pruned.Add(1)
	}
}

// Floor returns the first WAL LSN that the oldest kept checkpoint needs
// replayed (its LSN + 1), or 0 when there is no readable checkpoint header.
// Pass it to wal.KeepFrom so that falling back to an older checkpoint still
// finds its records.
func (s *Store) Floor() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := s.list()
	if err != nil {
		return 0, err
	}
	var floor uint64
	for _, info := range list {
		f, err := os.Open(filepath.Join(s.dir, info.Name))
		if err != nil {
			continue
		}
		_, herr := s.readHeader(f, &info)
		_ = f.Close()
		if herr == nil && (floor == 0 || info.LSN+1 < floor) {
			floor = info.LSN + 1
		}
	}
	return floor, nil
}

// Check returns an error wrapping storage.ErrVanished when the checkpoint
// directory no longer exists. Save then fails too; Check lets the host find
// out before it needs a checkpoint. It costs a stat call.
func (s *Store) Check() error {
	if err := durable.CheckDir(s.dir); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (s *Store) Stats() Stats {
	return Stats{
		Saves:          s.saves.Load(),
		SaveErrors:     s.saveErrors.Errors(),
		DiskFullErrors: s.saveErrors.DiskFull(),
		ReadOnlyErrors: s.saveErrors.ReadOnly(),
		BytesWritten:   s.bytesWritten.Load(),
		Fsyncs:         s.fsyncer.Count(),
		FsyncTime:      s.fsyncer.Time(),
		LastSaveTime:   time.Duration(s.lastSaveNanos.Load()),
		Loads:          s.loads.Load(),
		CorruptSkipped: s.corruptSkipped.Load(),
		Pruned:         s.pruned.Load(),
		PruneErrors:    s.pruneErrors.Load(),
	}
}
