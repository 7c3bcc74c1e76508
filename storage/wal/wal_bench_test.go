package wal

import (
	"fmt"
	"testing"
)

// BenchmarkAppend measures Append for small (~100 B) and page-sized (4 KiB)
// records, with fsync left to Sync (SyncManual: the write(2) path) and with
// an fsync per append (SyncOnAppend: the durable path). Segments rotate at
// the default 64 MiB and are compressed in the background.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{100, 4 << 10} {
		for _, sync := range []struct {
			name   string
			policy SyncPolicy
		}{{"nosync", SyncManual}, {"fsync", SyncOnAppend}} {
			b.Run(fmt.Sprintf("%dB/%s", size, sync.name), func(b *testing.B) {
				w, _, err := Open(b.TempDir(), Options{Sync: sync.policy})
				if err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				data := payload(1, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := w.Append(1, data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkReplay measures reading back 64 MiB of 100 B records across
// compressed segments, the restart path.
func BenchmarkReplay(b *testing.B) {
	dir := b.TempDir()
	w, _, err := Open(dir, Options{Sync: SyncManual, SegmentSize: 8 << 20})
	if err != nil {
		b.Fatal(err)
	}
	data := payload(1, 100)
	const n = (64 << 20) / (100 + recordHeaderSize)
	for range n {
		if _, err := w.Append(1, data); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil { // compresses the sealed segments
		b.Fatal(err)
	}
	w, _, err = Open(dir, Options{Sync: SyncManual})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.SetBytes(int64(n * (100 + recordHeaderSize)))
	b.ReportAllocs()
	for b.Loop() {
		count := 0
		if err := w.Replay(0, func(Record) error { count++; return nil }); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("replayed %d, want %d", count, n)
		}
	}
}
