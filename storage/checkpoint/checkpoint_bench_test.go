package checkpoint

import (
	"testing"
)

// BenchmarkSave10MiB measures one atomic checkpoint of a 10 MiB state:
// write, fsync, rename, fsync the directory, prune.
func BenchmarkSave10MiB(b *testing.B) {
	s, err := Open(b.TempDir(), Options{Keep: 2})
	if err != nil {
		b.Fatal(err)
	}
	state := body(1, 10<<20)
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	lsn := uint64(0)
	for b.Loop() {
		lsn++
		if _, err := s.Save(lsn, state); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad10MiB measures reading and verifying it back.
func BenchmarkLoad10MiB(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	state := body(1, 10<<20)
	if _, err := s.Save(1, state); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Load(); err != nil {
			b.Fatal(err)
		}
	}
}
