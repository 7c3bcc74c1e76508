package journal

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/burnwatch/burnwatch/storage/internal/durable"
	"github.com/klauspost/compress/zstd"
)

// worker compresses rotated files and applies retention when kicked, and
// once more on Close.
func (j *Journal) worker() {
	defer j.wg.Done()
	for {
		select {
		case <-j.kick:
			j.maintain()
		case <-j.done:
			j.maintain()
			return
		}
	}
}

func (j *Journal) maintain() {
	files, err := j.name.list(j.dir)
	if err != nil {
		j.stats.compressErrors.Add(1)
		return
	}
	if j.opts.Compression != CompressNone {
		for i, f := range files {
			if f.comp != "" {
				continue
			}
			if i+1 < len(files) && files[i+1].plain() == f.name {
				// A crash after the compressed copy was renamed into place
				// but before the plain file was removed: the plain file is
				// the original, so compress it again.
				if err := os.Remove(filepath.Join(j.dir, files[i+1].name)); err != nil {
					j.stats.compressErrors.Add(1)
					continue
				}
			}
			if err := j.compress(f.name); err != nil {
				j.stats.compressErrors.Add(1)
				j.stats.writeErrors.Count(err)
			}
		}
		if files, err = j.name.list(j.dir); err != nil {
			j.stats.compressErrors.Add(1)
			return
		}
	}
	j.retain(files)
}

// compress writes name.zst (or .gz) through a durable.AtomicFile, then
// removes the plain file.
func (j *Journal) compress(name string) error {
	suffix := ".zst"
	if j.opts.Compression == CompressGzip {
		suffix = ".gz"
	}
	src := filepath.Join(j.dir, name)
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("journal: compress: %w", err)
	}
	defer in.Close()
	out, err := durable.CreateAtomic(src+suffix, os.O_WRONLY, &j.stats.fsyncer)
	if err != nil {
		return fmt.Errorf("journal: compress: %w", err)
	}
	defer out.Abort()
	var w io.WriteCloser
	if suffix == ".gz" {
		w = gzip.NewWriter(out)
	} else if w, err = zstd.NewWriter(out, zstd.WithEncoderConcurrency(1)); err != nil {
		return fmt.Errorf("journal: compress: %w", err)
	}
	raw, err := io.Copy(w, in)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("journal: compress %s: %w", name, err)
	}
	info, err := out.Stat()
	if err != nil {
		return fmt.Errorf("journal: compress %s: %w", name, err)
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("journal: compress %s: %w", name, err)
	}
	if err := os.Remove(src); err != nil {
		return fmt.Errorf("journal: compress %s: remove plain: %w", name, err)
	}
	j.stats.compressed.Add(1)
	j.stats.compressedRaw.Add(uint64(raw))
	j.stats.compressedOut.Add(uint64(info.Size()))
	return nil
}

// retain deletes rotated files beyond MaxFiles (oldest first) or rotated
// longer ago than RetentionAge.
func (j *Journal) retain(files []rotatedFile) {
	now := time.Now()
	excess := 0
	if j.opts.MaxFiles > 0 && len(files) > j.opts.MaxFiles {
		excess = len(files) - j.opts.MaxFiles
	}
	for i, f := range files {
		old := j.opts.RetentionAge > 0 && now.Sub(f.at) > j.opts.RetentionAge
		if i >= excess && !old {
			continue
		}
		if err := os.Remove(filepath.Join(j.dir, f.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			j.stats.retentionErrors.Add(1)
			continue
		}
		j.stats.retentionRemoved.Add(1)
	}
}
