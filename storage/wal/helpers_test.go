package wal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/burnwatch/burnwatch/storage/internal/storagetest"
)

// payload returns a deterministic, compressible payload for record i.
func payload(i, size int) []byte {
	b := bytes.Repeat([]byte(fmt.Sprintf("event-%08d|", i)), size/15+1)
	return b[:size]
}

// testOptions are small and deterministic: manual sync, no retention. Tests
// that depend on segment age run in a synctest bubble.
func testOptions() Options {
	return Options{SegmentSize: 4 << 10, Sync: SyncManual, RetentionAge: -1, RetentionBytes: -1}
}

func mustOpen(t *testing.T, dir string, opts Options) (*WAL, OpenReport) {
	t.Helper()
	w, rep, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v (report: %s)", dir, err, rep)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w, rep
}

func mustClose(t *testing.T, w *WAL) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// appendN appends n records of the given size numbered from start and
// checks that the LSNs are consecutive.
func appendN(t *testing.T, w *WAL, start, n, size int) {
	t.Helper()
	want := w.NextLSN()
	for i := start; i < start+n; i++ {
		lsn, err := w.Append(1, payload(i, size))
		if err != nil {
			t.Fatalf("Append(%d): %v", i, err)
		}
		if lsn != want {
			t.Fatalf("Append(%d) = lsn %d, want %d", i, lsn, want)
		}
		want++
	}
}

type replayed struct {
	lsns []LSN
	data [][]byte
}

func replayFrom(w *WAL, from LSN) (replayed, error) {
	var r replayed
	err := w.Replay(from, func(rec Record) error {
		r.lsns = append(r.lsns, rec.LSN)
		r.data = append(r.data, slices.Clone(rec.Data))
		return nil
	})
	return r, err
}

// checkRecords asserts that got holds LSNs first..last in order with the
// payloads appendN wrote for them, given payload index = lsn - 1 + offset.
func checkRecords(t *testing.T, got replayed, first, last LSN, size int) {
	t.Helper()
	if n := int(last) - int(first) + 1; len(got.lsns) != n {
		t.Fatalf("replayed %d records, want %d (lsn %d..%d); got lsns %v", len(got.lsns), n, first, last, summary(got.lsns))
	}
	for i, lsn := range got.lsns {
		if want := first + LSN(i); lsn != want {
			t.Fatalf("record %d has lsn %d, want %d", i, lsn, want)
		}
		if want := payload(int(lsn)-1, size); !bytes.Equal(got.data[i], want) {
			t.Fatalf("lsn %d payload %q, want %q", lsn, got.data[i], want)
		}
	}
}

func summary(l []LSN) string {
	if len(l) == 0 {
		return "[]"
	}
	return fmt.Sprintf("[%d..%d]", l[0], l[len(l)-1])
}

// files lists the directory's segment files in order.
func files(t *testing.T, dir string) []string {
	t.Helper()
	return slices.DeleteFunc(storagetest.Names(t, dir), func(name string) bool {
		_, _, _, ok := parseSegmentName(name)
		return !ok
	})
}

func corruptionError(t *testing.T, err error) *CorruptionError {
	t.Helper()
	var ce *CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *CorruptionError", err)
	}
	return ce
}

// decompressTo writes the zstd-decoded content of src to dst.
func decompressTo(t *testing.T, src, dst string) {
	t.Helper()
	dec, err := newDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	in, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	out, err := dec.DecodeAll(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, out, 0o640); err != nil {
		t.Fatal(err)
	}
}
