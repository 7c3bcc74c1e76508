package history

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/burnwatch/burnwatch/storage/journal"

	"github.com/klauspost/compress/zstd"
)

func writeZstd(t *testing.T, name string, data []byte) {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	write(t, name, enc.EncodeAll(data, nil))
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"alerts.jsonl", "alerts-20260301T000000Z.jsonl.zst",
		// Being compressed: both copies are there; the plain one is read.
		"alerts-20260302T000000Z.jsonl", "alerts-20260302T000000Z.jsonl.zst", "other.log"} {
		write(t, filepath.Join(dir, name), nil)
	}
	if err := os.Mkdir(filepath.Join(dir, "alerts.jsonl.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(dir, n))
		}
		return out
	}
	tests := []struct {
		patterns []string
		want     []string
		err      error
	}{
		{p("alerts*.jsonl*"), p("alerts-20260301T000000Z.jsonl.zst", "alerts-20260302T000000Z.jsonl", "alerts.jsonl"), nil},
		// Patterns keep their order; a file named twice is read once.
		{p("alerts.jsonl", "alerts*.jsonl*"), p("alerts.jsonl", "alerts-20260301T000000Z.jsonl.zst", "alerts-20260302T000000Z.jsonl"), nil},
		{p("alerts.jsonl", "missing.jsonl"), nil, fs.ErrNotExist},
		{p("nothing*"), nil, fs.ErrNotExist},
		{p("alerts.jsonl.d"), nil, fs.ErrNotExist}, // a directory is not a history file
		{p("[alerts"), nil, filepath.ErrBadPattern},
	}
	for _, tt := range tests {
		got, err := Files(tt.patterns)
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Files(%v) = %v, %v; want %v, %v", tt.patterns, got, err, tt.want, tt.err)
		}
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "alerts-20260301T000000Z.jsonl.zst")
	write(t, bad, []byte("not zstd at all"))
	if _, err := Read([]string{bad}, journal.ReadFile); err == nil {
		t.Errorf("Read of a corrupt .zst: no error")
	}
	if _, err := Read([]string{filepath.Join(dir, "gone.jsonl")}, journal.ReadFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of a missing file: %v, want ErrNotExist", err)
	}
	// Malformed lines are counted, with the first three as examples.
	ok := filepath.Join(dir, "alerts.jsonl")
	write(t, ok, []byte("x\n{\"time\":\"2026-03-02T00:00:00Z\",\"event\":\"attempt\"}\n[1]\n\n{\n}\n{\"time\":7}\n"))
	log, err := Read([]string{ok}, journal.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Records) != 1 || log.Malformed != 5 || len(log.MalformedExamples) != 3 || log.MalformedExamples[2].Record != 4 {
		t.Errorf("Read: %d records, %d malformed, examples %v; want 1, 5 (x, [1], {, }, a number for a time) and three, the third record 4",
			len(log.Records), log.Malformed, log.MalformedExamples)
	}
}
