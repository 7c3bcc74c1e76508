package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// stampLayout names rotated files by their rotation time, in UTC so names
// sort and read the same on every host.
const stampLayout = "20060102T150405Z"

// naming builds and parses rotated names: for alerts.jsonl they look like
// alerts-20260102T150405Z.jsonl, alerts-20260102T150405Z-2.jsonl for a
// second rotation in the same second, plus .zst or .gz once compressed.
type naming struct {
	base, ext string
}

func newNaming(file string) naming {
	ext := filepath.Ext(file)
	return naming{base: strings.TrimSuffix(file, ext), ext: ext}
}

// rotatedFile is a file the journal rotated.
type rotatedFile struct {
	name string    // file name in the directory
	at   time.Time // rotation time from the name
	seq  int       // 1, or the -N suffix
	comp string    // "", ".zst" or ".gz"
}

func (f rotatedFile) plain() string { return strings.TrimSuffix(f.name, f.comp) }

func (n naming) rotated(t time.Time, seq int) string {
	s := n.base + "-" + t.UTC().Format(stampLayout)
	if seq > 1 {
		s += "-" + strconv.Itoa(seq)
	}
	return s + n.ext
}

func (n naming) parse(name string) (rotatedFile, bool) {
	f := rotatedFile{name: name, seq: 1}
	rest := name
	for _, c := range []string{".zst", ".gz"} {
		if r, ok := strings.CutSuffix(rest, c); ok {
			rest, f.comp = r, c
			break
		}
	}
	rest, ok := strings.CutPrefix(rest, n.base+"-")
	if !ok {
		return f, false
	}
	if rest, ok = strings.CutSuffix(rest, n.ext); !ok {
		return f, false
	}
	stamp, seq, hasSeq := strings.Cut(rest, "-")
	t, err := time.Parse(stampLayout, stamp)
	if err != nil {
		return f, false
	}
	f.at = t
	if hasSeq {
		if f.seq, err = strconv.Atoi(seq); err != nil || f.seq < 2 {
			return f, false
		}
	}
	return f, true
}

// free returns a path for a file rotated at t that no file, plain or
// compressed, uses yet.
func (n naming) free(dir string, t time.Time) (string, error) {
	for seq := 1; seq < 10000; seq++ {
		name := n.rotated(t, seq)
		taken := false
		for _, c := range []string{"", ".zst", ".gz"} {
			_, err := os.Lstat(filepath.Join(dir, name+c))
			if err == nil {
				taken = true
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("journal: rotate: %w", err)
			}
		}
		if !taken {
			return filepath.Join(dir, name), nil
		}
	}
	return "", errors.New("journal: rotate: no free name")
}

// list returns the rotated files in dir, oldest first.
func (n naming) list(dir string) ([]rotatedFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: read dir: %w", err)
	}
	var out []rotatedFile
	for _, e := range entries {
		if f, ok := n.parse(e.Name()); ok && e.Type().IsRegular() {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b rotatedFile) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		if a.seq != b.seq {
			return a.seq - b.seq
		}
		return strings.Compare(a.comp, b.comp) // plain before its compressed copy
	})
	return out, nil
}
