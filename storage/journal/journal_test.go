package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/burnwatch/burnwatch/storage/internal/storagetest"
)

// TestWriteFormat runs in a synctest bubble, like every test here that looks
// at times: the bubble's clock starts at midnight UTC on 2000-01-01 and moves
// only with time.Sleep.
func TestWriteFormat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "history", "alerts.jsonl")
		j := mustOpen(t, path, Options{})
		values := []any{
			record{ID: 1, Alert: "checkout <p99> & more"},
			map[string]any{"id": 2, "alert": "login", "burn": 14.4},
			record{ID: 3, Alert: "ünïcødé \"quoted\"\nnewline"},
		}
		for _, v := range values {
			if err := j.Write(v); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		lines := rawLines(t, path)
		if len(lines) != 4 {
			t.Fatalf("file has %d lines, want header + 3:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		want := `{"type":"header","version":1,"created":"2000-01-01T00:00:00Z"}`
		if lines[0] != want {
			t.Fatalf("header line %s, want %s", lines[0], want)
		}
		if !strings.Contains(lines[1], `checkout <p99> & more`) {
			t.Fatalf("line %s: HTML characters escaped, want them readable", lines[1])
		}
		for i, v := range values {
			wantJSON, _ := json.Marshal(v)
			var got, exp any
			_ = json.Unmarshal([]byte(lines[i+1]), &got)
			_ = json.Unmarshal(wantJSON, &exp)
			if fmt.Sprint(got) != fmt.Sprint(exp) {
				t.Fatalf("line %d = %s, want %s", i+1, lines[i+1], wantJSON)
			}
		}
		n := 0
		if err := ReadFile(path, func([]byte) error { n++; return nil }); err != nil || n != 3 {
			t.Fatalf("ReadFile gave %d lines (%v), want 3 without the header", n, err)
		}
	})
}

func TestConcurrentWritesNeverInterleave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	j := mustOpen(t, path, Options{NoSync: true, MaxSize: 256 << 10, MaxFiles: -1})
	const writers, each = 8, 100
	big := strings.Repeat("x", 16<<10) // bigger than a pipe buffer or page
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := j.Write(record{ID: w*each + i, Alert: "a", Payload: big}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	files := historyFiles(t, filepath.Dir(path), "alerts.jsonl")
	if len(files) < 2 {
		t.Fatalf("want size rotations under concurrency, got files %v", files)
	}
	checkHeaders(t, files)
	checkExactlyOnce(t, collectIDs(t, files), writers*each)
}

func TestRotation(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		step      time.Duration // clock advance per record
		records   int
		wantFiles int // rotated files
		suffix    string
	}{
		// A record line is 46-48 bytes and a header 63: 20 records per KiB.
		{"by size, zstd", Options{MaxSize: 1 << 10, MaxAge: -1}, 0, 130, 6, ".zst"},
		{"by size, gzip", Options{MaxSize: 1 << 10, MaxAge: -1, Compression: CompressGzip}, 0, 130, 6, ".gz"},
		{"by size, uncompressed", Options{MaxSize: 1 << 10, MaxAge: -1, Compression: CompressNone}, 0, 130, 6, ""},
		// A file is started every hour: at 0, 60, ..., 360 minutes.
		{"by age", Options{MaxSize: -1, MaxAge: time.Hour}, 10 * time.Minute, 40, 6, ".zst"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "alerts.jsonl")
				j := mustOpen(t, path, tt.opts)
				for i := range tt.records {
					time.Sleep(tt.step)
					writeRange(t, j, i, i+1)
				}
				if err := j.Close(); err != nil { // waits for compression
					t.Fatal(err)
				}
				files := historyFiles(t, dir, "alerts.jsonl")
				rotated := 0
				for _, f := range files {
					if f == path {
						continue
					}
					rotated++
					if !strings.HasSuffix(f, ".jsonl"+tt.suffix) {
						t.Fatalf("rotated file %s, want suffix .jsonl%s", f, tt.suffix)
					}
					if tt.opts.MaxSize > 0 && tt.suffix == "" && storagetest.FileSize(t, f) > tt.opts.MaxSize {
						t.Fatalf("%s is %d bytes, over MaxSize %d", f, storagetest.FileSize(t, f), tt.opts.MaxSize)
					}
				}
				if rotated != tt.wantFiles {
					t.Fatalf("%d rotated files, want %d: %v", rotated, tt.wantFiles, files)
				}
				if s := j.Stats(); s.Rotations != uint64(tt.wantFiles) || (tt.suffix != "" && s.Compressed != uint64(tt.wantFiles)) {
					t.Fatalf("Stats rotations %d compressed %d, want %d", s.Rotations, s.Compressed, tt.wantFiles)
				}
				checkHeaders(t, files)
				checkExactlyOnce(t, collectIDs(t, files), tt.records)
			})
		})
	}
}

func TestRotatedNamesAreUniqueWithinASecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "alerts.jsonl")
		j := mustOpen(t, path, Options{Compression: CompressNone})
		for i := range 3 {
			writeRange(t, j, i, i+1)
			if err := j.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Rotate(); err != nil { // empty: no rotation
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range historyFiles(t, dir, "alerts.jsonl") {
			got = append(got, filepath.Base(f))
		}
		want := []string{"alerts-20000101T000000Z-2.jsonl", "alerts-20000101T000000Z-3.jsonl", "alerts-20000101T000000Z.jsonl", "alerts.jsonl"}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("files %v, want %v", got, want)
		}
	})
}

func TestRetention(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		wantNames []string // rotated files left, oldest first
	}{
		{"by count", Options{MaxFiles: 2, RetentionAge: -1},
			[]string{"alerts-20000101T050000Z.jsonl.zst", "alerts-20000101T060000Z.jsonl.zst"}},
		{"by age", Options{MaxFiles: -1, RetentionAge: 150 * time.Minute},
			[]string{"alerts-20000101T040000Z.jsonl.zst", "alerts-20000101T050000Z.jsonl.zst", "alerts-20000101T060000Z.jsonl.zst"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "alerts.jsonl")
				j := mustOpen(t, path, tt.opts)
				for i := range 6 { // rotations at 01:00:00 ... 06:00:00
					writeRange(t, j, i, i+1)
					time.Sleep(time.Hour)
					if err := j.Rotate(); err != nil {
						t.Fatal(err)
					}
				}
				if err := j.Close(); err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, f := range historyFiles(t, dir, "alerts.jsonl") {
					if f != path {
						got = append(got, filepath.Base(f))
					}
				}
				if strings.Join(got, ",") != strings.Join(tt.wantNames, ",") {
					t.Fatalf("kept %v, want %v", got, tt.wantNames)
				}
				if s := j.Stats(); s.RetentionRemoved != uint64(6-len(tt.wantNames)) {
					t.Fatalf("RetentionRemoved = %d, want %d", s.RetentionRemoved, 6-len(tt.wantNames))
				}
			})
		})
	}
}

// TestExternalRotation moves or truncates the file the way logrotate and
// operators do, without logrotate itself.
func TestExternalRotation(t *testing.T) {
	tests := []struct {
		name       string
		rotate     func(t *testing.T, path string, n int) // n numbers the rotation
		reopen     bool                                   // call Reopen, as on SIGHUP
		wantExt    uint64
		wantTrunc  uint64
		wantReopen uint64
	}{
		{"mv, noticed on write", mv, false, 3, 0, 0},
		{"mv and Reopen", mv, true, 0, 0, 3},
		{"mv and create", func(t *testing.T, p string, n int) {
			mv(t, p, n)
			if err := os.WriteFile(p, nil, 0o640); err != nil {
				t.Fatal(err)
			}
		}, false, 3, 0, 0},
		{"copytruncate", func(t *testing.T, p string, n int) {
			copyFile(t, p, fmt.Sprintf("%s.%d", p, n))
			if err := os.Truncate(p, 0); err != nil {
				t.Fatal(err)
			}
		}, false, 0, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "alerts.jsonl")
			j := mustOpen(t, path, Options{MaxSize: -1, MaxAge: -1})
			const per = 25
			for n := range 3 {
				writeRange(t, j, n*per, (n+1)*per)
				tt.rotate(t, path, n+1)
				if tt.reopen {
					if err := j.Reopen(); err != nil {
						t.Fatal(err)
					}
				}
			}
			writeRange(t, j, 3*per, 4*per)
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			s := j.Stats()
			if s.ExternalRotations != tt.wantExt || s.Truncations != tt.wantTrunc || s.Reopens != tt.wantReopen {
				t.Fatalf("external %d truncations %d reopens %d, want %d %d %d", s.ExternalRotations, s.Truncations, s.Reopens, tt.wantExt, tt.wantTrunc, tt.wantReopen)
			}
			files := historyFiles(t, dir, "alerts.jsonl")
			if len(files) != 4 {
				t.Fatalf("files %v, want the live file and 3 rotated", files)
			}
			checkHeaders(t, files)
			checkExactlyOnce(t, collectIDs(t, files), 4*per)
		})
	}
}

// It runs in a bubble so that the header it writes was created "now" and the
// first write does not rotate the file for age.
func TestTornLastLineIsEndedOnOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "alerts.jsonl")
		torn := `{"type":"header","version":1,"created":"2000-01-01T00:00:00Z"}` + "\n" + `{"id":0,"alert":"ok"}` + "\n" + `{"id":1,"al`
		if err := os.WriteFile(path, []byte(torn), 0o640); err != nil {
			t.Fatal(err)
		}
		j := mustOpen(t, path, Options{})
		writeRange(t, j, 2, 3)
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		lines := rawLines(t, path)
		if len(lines) != 4 || lines[2] != `{"id":1,"al` || !strings.HasPrefix(lines[3], `{"id":2,`) {
			t.Fatalf("lines %q: want the torn fragment on its own line and the new record whole", lines)
		}
		if s := j.Stats(); s.TornLines != 1 {
			t.Fatalf("TornLines = %d, want 1", s.TornLines)
		}
	})
}

func TestOpenFinishesInterruptedCompression(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "alerts.jsonl")
		rotated := filepath.Join(dir, "alerts-19991231T000000Z.jsonl") // a day old: within retention
		content := `{"type":"header","version":1,"created":"1999-12-31T00:00:00Z"}` + "\n" + `{"id":0,"alert":"a"}` + "\n"
		if err := os.WriteFile(rotated, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		// A half-written compressed copy and a new file not yet renamed into
		// place (.next from older versions) from a crashed run.
		for _, p := range []string{rotated + ".zst.tmp", rotated + ".zst", path + ".next", path + ".tmp"} {
			if err := os.WriteFile(p, []byte("partial"), 0o640); err != nil {
				t.Fatal(err)
			}
		}
		j := mustOpen(t, path, Options{})
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		files := historyFiles(t, dir, "alerts.jsonl")
		want := []string{rotated + ".zst", path}
		if strings.Join(files, ",") != strings.Join(want, ",") {
			t.Fatalf("files %v, want %v", files, want)
		}
		checkExactlyOnce(t, collectIDs(t, files), 1)
	})
}

func TestLifecycleAndErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	if _, err := Open(path, Options{Compression: "lz4"}); err == nil || !strings.Contains(err.Error(), "zstd, gzip or none") {
		t.Fatalf("Open with bad compression = %v, want an error naming the choices", err)
	}
	j := mustOpen(t, path, Options{})
	if err := j.Write(make(chan int)); err == nil {
		t.Fatal("Write(chan) succeeded")
	}
	if s := j.Stats(); s.EncodeErrors != 1 || s.Lines != 0 {
		t.Fatalf("EncodeErrors %d Lines %d, want 1 and 0", s.EncodeErrors, s.Lines)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	for name, err := range map[string]error{"Write": j.Write(1), "Reopen": j.Reopen(), "Rotate": j.Rotate()} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	// Reopening an existing file appends after its records, no second header.
	j2 := mustOpen(t, path, Options{})
	writeRange(t, j2, 0, 1)
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	checkHeaders(t, []string{path})
}

func mv(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.Rename(path, fmt.Sprintf("%s.%d", path, n)); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}
