package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/storage/internal/durable"
)

// HeaderVersion is the version written in each file's header line.
const HeaderVersion = 1

// Defaults used for zero Options fields.
const (
	DefaultMaxSize      = 64 << 20
	DefaultMaxAge       = 24 * time.Hour
	DefaultMaxFiles     = 30
	DefaultRetentionAge = 90 * 24 * time.Hour
)

// Compression selects how rotated files are compressed.
type Compression string

// Compression choices.
const (
	CompressZstd Compression = "zstd" // .zst, the default
	CompressGzip Compression = "gzip" // .gz, for tools without zstd
	CompressNone Compression = "none"
)

// ErrClosed is returned by calls on a closed Journal.
var ErrClosed = errors.New("journal: closed")

// Options configures a Journal. Zero values give the defaults; a negative
// size, age or count disables that limit.
type Options struct {
	// MaxSize rotates the file before a write would take it past this many
	// bytes.
	MaxSize int64
	// MaxAge rotates a file holding records once it is this old.
	MaxAge time.Duration
	// MaxFiles is how many rotated files are kept.
	MaxFiles int
	// RetentionAge deletes rotated files rotated longer ago than this.
	RetentionAge time.Duration
	// Compression of rotated files.
	Compression Compression
	// NoSync skips the fsync after each write. Alert history is low volume,
	// so by default every line is durable when Write returns.
	NoSync bool
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.RetentionAge == 0 {
		o.RetentionAge = DefaultRetentionAge
	}
	switch o.Compression {
	case "":
		o.Compression = CompressZstd
	case CompressZstd, CompressGzip, CompressNone:
	default:
		return o, fmt.Errorf("journal: compression %q: want zstd, gzip or none", o.Compression)
	}
	return o, nil
}

// Header is the first line of every journal file.
type Header struct {
	Type    string    `json:"type"` // always "header"
	Version int       `json:"version"`
	Created time.Time `json:"created"`
}

// Journal appends JSON lines to one path. Its methods are safe for
// concurrent use.
type Journal struct {
	path  string
	dir   string
	name  naming
	opts  Options
	stats counters

	// mu guards the fields below and serializes writes, so each line is one
	// write(2) in the order Write was called.
	mu        sync.Mutex
	f         *os.File
	size      int64     // bytes in the file as far as we know
	bodyStart int64     // length of the header line; records start here
	created   time.Time // when the current file was started
	closed    bool

	kick chan struct{} // wakes the background worker; capacity 1
	done chan struct{} // closed by Close
	wg   sync.WaitGroup
}

// Open opens or creates the journal at path and starts the background
// compression and retention worker.
func Open(path string, opts Options) (*Journal, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("journal: create dir: %w", err)
	}
	j := &Journal{
		path: path,
		dir:  dir,
		name: newNaming(filepath.Base(path)),
		opts: opts,
		kick: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	if err := j.removeLeftovers(); err != nil {
		return nil, err
	}
	if _, err := j.openPathLocked(); err != nil {
		return nil, err
	}
	j.wg.Add(1)
	go j.worker()
	j.signal() // compress what a previous run rotated but did not finish
	return j, nil
}

// Path returns the journal's path.
func (j *Journal) Path() string { return j.path }

// Write appends v as one JSON line. It first follows an external rotation
// and rotates by size or age. An error means the line was not written.
func (j *Journal) Write(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<" and "&" readable in a human log
	if err := enc.Encode(v); err != nil {
		j.stats.encodeErrors.Add(1)
		return fmt.Errorf("journal: encode: %w", err)
	}
	line := buf.Bytes() // Encode ends it with '\n' and never emits another

	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	if err := j.followLocked(); err != nil {
		// Keep writing to the file we have: a line in a renamed file is
		// better than a lost one.
		j.stats.writeErrors.Count(err)
	}
	if j.rotateDueLocked(len(line)) {
		if err := j.rotateLocked(); err != nil {
			// Not returned: the line can still be written, and an error
			// would make the caller retry and duplicate it.
			j.stats.rotateErrors.Add(1)
			j.stats.writeErrors.Count(err)
		}
	}
	return j.writeLocked(line)
}

func (j *Journal) writeLocked(line []byte) error {
	n, err := j.f.Write(line)
	if err != nil {
		if n > 0 {
			// Cut the partial line so the file holds only whole lines.
			_ = j.f.Truncate(j.size)
		}
		j.stats.writeErrors.Count(err)
		return fmt.Errorf("journal: write %s: %w", j.path, err)
	}
	j.size += int64(n)
	j.stats.lines.Add(1)
	j.stats.bytes.Add(uint64(n))
	if !j.opts.NoSync {
		if err := j.stats.fsyncer.File(j.f); err != nil {
			// The line is written; report through Stats rather than make
			// the caller retry it.
			j.stats.writeErrors.Count(err)
		}
	}
	return nil
}

// Reopen closes the file and opens the path again, creating it with a
// header if it is gone or empty. The host calls it on SIGHUP.
func (j *Journal) Reopen() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	j.stats.reopens.Add(1)
	return j.reopenLocked()
}

// Rotate rotates the file now if it holds any record.
func (j *Journal) Rotate() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	if err := j.followLocked(); err != nil {
		return err
	}
	if j.size <= j.bodyStart {
		return nil
	}
	return j.rotateLocked()
}

// Check returns an error wrapping storage.ErrVanished when the journal's
// directory no longer exists: until it is back, Write cannot reopen the path
// and its lines go into a file with no name. A file that is merely moved or
// removed, as logrotate does, is not reported: the next Write reopens the
// path. The host calls Check periodically; it costs a stat call.
func (j *Journal) Check() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	if err := durable.CheckDir(j.dir); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Close syncs and closes the file and waits for background compression and
// retention to finish. It is safe to call twice.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	var errs []error
	if err := j.stats.fsyncer.File(j.f); err != nil {
		errs = append(errs, fmt.Errorf("journal: sync: %w", err))
	}
	if err := j.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("journal: close: %w", err))
	}
	j.mu.Unlock()
	close(j.done)
	j.wg.Wait()
	return errors.Join(errs...)
}

// followLocked notices an external rotation: the path replaced or removed
// (logrotate create mode, mv), or the file truncated (copytruncate).
func (j *Journal) followLocked() error {
	atPath, err := os.Stat(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		j.stats.externalRotations.Add(1)
		return j.reopenLocked()
	}
	if err != nil {
		return fmt.Errorf("journal: stat %s: %w", j.path, err)
	}
	open, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("journal: stat open file: %w", err)
	}
	if !os.SameFile(atPath, open) {
		j.stats.externalRotations.Add(1)
		return j.reopenLocked()
	}
	if open.Size() < j.size {
		j.stats.truncations.Add(1)
		j.size = open.Size()
		if j.size == 0 {
			j.bodyStart = 0
			return j.writeHeaderLocked()
		}
		return nil
	}
	j.size = open.Size() // someone else may append too; stay in step
	return nil
}

// reopenLocked switches to the file now at the path. On error the old file
// stays open so writes still land somewhere.
func (j *Journal) reopenLocked() error {
	old, err := j.openPathLocked()
	if err != nil {
		return err
	}
	if err := old.Close(); err != nil {
		j.stats.writeErrors.Count(err)
	}
	return nil
}

// openPathLocked opens (or creates) the file at the path, makes it the
// current file and sets size, bodyStart and created from it, writing a
// header into an empty file. It returns the previous file for the caller to
// close; on error the previous file stays current.
func (j *Journal) openPathLocked() (old *os.File, err error) {
	// O_RDWR so the first line and last byte can be read with pread;
	// O_APPEND so every write lands at the end even after a copytruncate.
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		j.stats.writeErrors.Count(err)
		return nil, fmt.Errorf("journal: open: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("journal: stat: %w", err)
	}
	old = j.f
	oldSize, oldStart, oldCreated := j.size, j.bodyStart, j.created
	j.f, j.size, j.bodyStart = f, info.Size(), 0
	restore := func(err error) (*os.File, error) {
		j.f, j.size, j.bodyStart, j.created = old, oldSize, oldStart, oldCreated
		_ = f.Close()
		return nil, err
	}
	if j.size == 0 {
		if err := j.writeHeaderLocked(); err != nil {
			return restore(err)
		}
		return old, nil
	}
	j.created = info.ModTime()
	if h, n, ok := readHeader(f); ok {
		j.created, j.bodyStart = h.Created, n
	}
	if err := j.endLineLocked(); err != nil {
		return restore(err)
	}
	return old, nil
}

// endLineLocked ends a torn last line (a crash mid-write) so the next
// record starts on a line of its own.
func (j *Journal) endLineLocked() error {
	last := make([]byte, 1)
	if _, err := j.f.ReadAt(last, j.size-1); err != nil {
		return fmt.Errorf("journal: read: %w", err)
	}
	if last[0] == '\n' {
		return nil
	}
	n, err := j.f.Write([]byte{'\n'})
	if err != nil {
		j.stats.writeErrors.Count(err)
		return fmt.Errorf("journal: end torn line: %w", err)
	}
	j.size += int64(n)
	j.stats.tornLines.Add(1)
	return nil
}

func (j *Journal) writeHeaderLocked() error {
	now := time.Now()
	b, err := json.Marshal(Header{Type: "header", Version: HeaderVersion, Created: now.UTC()})
	if err != nil {
		return fmt.Errorf("journal: encode header: %w", err)
	}
	b = append(b, '\n')
	n, err := j.f.Write(b)
	if err != nil {
		if n > 0 {
			_ = j.f.Truncate(j.size)
		}
		j.stats.writeErrors.Count(err)
		return fmt.Errorf("journal: write header: %w", err)
	}
	j.size += int64(n)
	j.bodyStart = j.size
	j.created = now
	return nil
}

// readHeader parses the first line of f if it is a header, returning its
// length including the newline.
func readHeader(f *os.File) (Header, int64, bool) {
	buf := make([]byte, 512)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return Header{}, 0, false
	}
	line, _, found := bytes.Cut(buf[:n], []byte{'\n'})
	if !found {
		return Header{}, 0, false
	}
	var h Header
	if json.Unmarshal(line, &h) != nil || h.Type != "header" {
		return Header{}, 0, false
	}
	return h, int64(len(line) + 1), true
}

func (j *Journal) rotateDueLocked(next int) bool {
	if j.size <= j.bodyStart {
		return false // never rotate a file without records
	}
	if j.opts.MaxSize > 0 && j.size+int64(next) > j.opts.MaxSize {
		return true
	}
	return j.opts.MaxAge > 0 && time.Since(j.created) >= j.opts.MaxAge
}

// rotateLocked renames the file aside and puts a fresh one in its place.
// The new file is prepared first under a temporary name, so a full disk
// leaves the current file in place rather than the path missing.
func (j *Journal) rotateLocked() error {
	now := time.Now()
	rotated, err := j.name.free(j.dir, now)
	if err != nil {
		return err
	}
	// O_RDWR and O_APPEND as in openPathLocked: the new file becomes j.f.
	nf, err := durable.CreateAtomic(j.path, os.O_RDWR|os.O_APPEND, &j.stats.fsyncer)
	if err != nil {
		return fmt.Errorf("journal: rotate: %w", err)
	}
	defer nf.Abort()
	old, oldSize, oldStart, oldCreated := j.f, j.size, j.bodyStart, j.created
	j.f, j.size = nf.File, 0
	fail := func(err error) error {
		j.f, j.size, j.bodyStart, j.created = old, oldSize, oldStart, oldCreated
		return fmt.Errorf("journal: rotate: %w", err)
	}
	if err := j.writeHeaderLocked(); err != nil {
		return fail(err)
	}
	if err := nf.Sync(); err != nil {
		return fail(err)
	}
	if err := j.stats.fsyncer.File(old); err != nil {
		return fail(err)
	}
	if err := os.Rename(j.path, rotated); err != nil {
		return fail(err)
	}
	// Publish's directory fsync makes both renames durable.
	if err := nf.Publish(); err != nil {
		// Put the old file back so the path keeps working.
		_ = os.Rename(rotated, j.path)
		return fail(err)
	}
	if err := old.Close(); err != nil {
		j.stats.writeErrors.Count(err)
	}
	j.stats.rotations.Add(1)
	j.signal()
	return nil
}

func (j *Journal) signal() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// removeLeftovers deletes temporary files a crash left behind.
func (j *Journal) removeLeftovers() error {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return fmt.Errorf("journal: read dir: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		// .next was the new file's temporary name before it was
		// path+TempSuffix.
		stale := name == filepath.Base(j.path)+".next"
		if base, ok := strings.CutSuffix(name, durable.TempSuffix); ok {
			_, isRotated := j.name.parse(base)
			stale = stale || isRotated || base == filepath.Base(j.path)
		}
		if stale {
			if err := os.Remove(filepath.Join(j.dir, name)); err != nil {
				return fmt.Errorf("journal: remove leftover: %w", err)
			}
		}
	}
	return nil
}
