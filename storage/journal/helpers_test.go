package journal

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// record is what the tests write: ID identifies the line across files.
type record struct {
	ID      int    `json:"id"`
	Alert   string `json:"alert"`
	Payload string `json:"payload,omitempty"`
}

func mustOpen(t *testing.T, path string, opts Options) *Journal {
	t.Helper()
	j, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	return j
}

func writeRange(t *testing.T, j *Journal, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := j.Write(record{ID: i, Alert: "checkout-availability/page"}); err != nil {
			t.Fatalf("Write(%d): %v", i, err)
		}
	}
}

// historyFiles returns every file in dir that holds history: the live file,
// the journal's rotated files and logrotate's (.1, .2.gz, ...).
func historyFiles(t *testing.T, dir, base string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, stem) && !strings.HasSuffix(n, ".tmp") && !strings.HasSuffix(n, ".conf") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Strings(out)
	return out
}

// collectIDs reads every history file and counts each record ID.
func collectIDs(t *testing.T, files []string) map[int]int {
	t.Helper()
	seen := map[int]int{}
	for _, f := range files {
		err := ReadFile(f, func(line []byte) error {
			var r record
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatalf("%s: unparsable line %q: %v", f, line, err)
			}
			seen[r.ID]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return seen
}

// checkExactlyOnce asserts IDs 0..n-1 each appear exactly once.
func checkExactlyOnce(t *testing.T, seen map[int]int, n int) {
	t.Helper()
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("record %d appears %d times, want exactly once", i, seen[i])
		}
	}
	if len(seen) != n {
		t.Fatalf("found %d distinct records, want %d", len(seen), n)
	}
}

// rawLines returns the decompressed lines of a file, header included.
func rawLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case strings.HasSuffix(path, ".gz"):
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	case strings.HasSuffix(path, ".zst"):
		dec, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		r = dec
	}
	var lines []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// checkHeaders asserts that every non-empty history file starts with a
// header line and holds no other header.
func checkHeaders(t *testing.T, files []string) {
	t.Helper()
	for _, f := range files {
		lines := rawLines(t, f)
		if len(lines) == 0 {
			continue // logrotate's create makes an empty file we may not have written to yet
		}
		var h Header
		if err := json.Unmarshal([]byte(lines[0]), &h); err != nil || h.Type != "header" || h.Version != HeaderVersion || h.Created.IsZero() {
			t.Fatalf("%s starts with %q, want a header line", f, lines[0])
		}
		for i, l := range lines[1:] {
			if bytes.Contains([]byte(l), []byte(`"type":"header"`)) {
				t.Fatalf("%s line %d is a second header: %q", f, i+2, l)
			}
		}
	}
}

func requireLogrotate(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("logrotate")
	if err != nil {
		for _, p := range []string{"/usr/sbin/logrotate", "/sbin/logrotate"} {
			if _, serr := os.Stat(p); serr == nil {
				return p
			}
		}
		t.Skip("logrotate binary not found (apt-get install logrotate); skipping the logrotate integration test")
	}
	return bin
}
