package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/burnwatch/burnwatch/storage/internal/durable"
	"github.com/burnwatch/burnwatch/storage/internal/storagetest"
)

func body(seq, size int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("state-%04d;", seq)), size/11+1)[:size]
}

func mustOpen(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustSave(t *testing.T, s *Store, lsn uint64, b []byte) Info {
	t.Helper()
	info, err := s.Save(lsn, b)
	if err != nil {
		t.Fatalf("Save(lsn %d): %v", lsn, err)
	}
	return info
}

// TestSaveLoadRoundTrip runs each size in a synctest bubble, where the clock
// stands still while the test does file I/O, so Created is known exactly.
func TestSaveLoadRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, 4 << 10, 3 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				now := time.Now()
				s := mustOpen(t, dir, Options{})
				want := body(1, size)
				info := mustSave(t, s, 12345, want)
				if info.Seq != 1 || info.LSN != 12345 || info.Size != int64(size) || !info.Created.Equal(now) {
					t.Fatalf("Save info = %+v, want created at %v", info, now)
				}
				// A fresh Store, as after a restart.
				c, rep, err := mustOpen(t, dir, Options{}).Load()
				if err != nil || len(rep.Skipped) != 0 {
					t.Fatalf("Load = %v, skipped %v", err, rep.Skipped)
				}
				if !c.Created.Equal(info.Created) {
					t.Fatalf("loaded created %v, want %v", c.Created, info.Created)
				}
				c.Created = info.Created
				if c.Info != info {
					t.Fatalf("loaded info %+v, want %+v", c.Info, info)
				}
				if !bytes.Equal(c.Body, want) {
					t.Fatalf("body differs (len %d, want %d)", len(c.Body), len(want))
				}
			})
		})
	}
}

func TestKeepsNewestN(t *testing.T) {
	tests := []struct {
		keep, saves int
		wantFiles   []string
	}{
		{1, 3, []string{fileName(3)}},
		{3, 5, []string{fileName(3), fileName(4), fileName(5)}},
		{5, 2, []string{fileName(1), fileName(2)}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("keep %d of %d", tt.keep, tt.saves), func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir, Options{Keep: tt.keep})
			for i := 1; i <= tt.saves; i++ {
				mustSave(t, s, uint64(i*100), body(i, 100))
			}
			if got := storagetest.Names(t, dir); strings.Join(got, ",") != strings.Join(tt.wantFiles, ",") {
				t.Fatalf("files %v, want %v", got, tt.wantFiles)
			}
			c, _, err := s.Load()
			if err != nil || c.Seq != uint64(tt.saves) || c.LSN != uint64(tt.saves*100) {
				t.Fatalf("Load = %+v, %v; want the newest", c, err)
			}
			oldest := max(tt.saves-tt.keep+1, 1)
			if floor, err := s.Floor(); err != nil || floor != uint64(oldest*100+1) {
				t.Fatalf("Floor = %d, %v; want %d", floor, err, oldest*100+1)
			}
			if st := s.Stats(); st.Pruned != uint64(tt.saves-len(tt.wantFiles)) || st.Saves != uint64(tt.saves) {
				t.Fatalf("Stats %+v", st)
			}
		})
	}
}

func TestSequenceContinuesAfterReopen(t *testing.T) {
	dir := t.TempDir()
	mustSave(t, mustOpen(t, dir, Options{}), 1, nil)
	mustSave(t, mustOpen(t, dir, Options{}), 2, nil)
	info := mustSave(t, mustOpen(t, dir, Options{}), 3, nil)
	if info.Seq != 3 {
		t.Fatalf("third Save after reopens has seq %d, want 3", info.Seq)
	}
}

// TestSaveIsAtomic looks at the directory from a second Store while a Save
// is half way through writing its body, and after a Save that fails.
func TestSaveIsAtomic(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	mustSave(t, s, 100, body(1, 1000))
	observer := mustOpen(t, dir, Options{})

	var during *Checkpoint
	_, err := s.SaveFunc(200, func(w io.Writer) error {
		if _, err := w.Write(body(2, 500)); err != nil {
			return err
		}
		c, _, err := observer.Load()
		during = c
		if err != nil {
			return err
		}
		_, err = w.Write(body(2, 500))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if during == nil || during.LSN != 100 || !bytes.Equal(during.Body, body(1, 1000)) {
		t.Fatalf("mid-save Load saw %+v, want the previous checkpoint intact", during)
	}

	boom := errors.New("engine snapshot failed")
	_, err = s.SaveFunc(300, func(w io.Writer) error {
		_, _ = w.Write(body(3, 4096))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("SaveFunc with failing writer = %v, want it wrapped", err)
	}
	if got := storagetest.Names(t, dir); strings.Join(got, ",") != fileName(1)+","+fileName(2) {
		t.Fatalf("files after failed save %v: want no new file and no temp file", got)
	}
	c, _, err := observer.Load()
	if err != nil || c.LSN != 200 {
		t.Fatalf("Load after failed save = %+v, %v; want lsn 200", c, err)
	}
	if st := s.Stats(); st.SaveErrors != 1 {
		t.Fatalf("SaveErrors = %d, want 1", st.SaveErrors)
	}
}

func TestOpenRemovesCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	mustSave(t, mustOpen(t, dir, Options{}), 100, body(1, 100))
	// A crash after writing part of the next checkpoint's temp file.
	tmp := filepath.Join(dir, fileName(2)+durable.TempSuffix)
	if err := os.WriteFile(tmp, []byte("BWCP partial"), 0o640); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dir, Options{})
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp file survived Open: %v", err)
	}
	c, rep, err := s.Load()
	if err != nil || c.LSN != 100 || len(rep.Skipped) != 0 {
		t.Fatalf("Load = %+v, %v, %v", c, rep, err)
	}
}

func TestLoadFallsBackPastDamage(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, path string)
		wantErr string // in the skipped error
	}{
		{"flipped body byte", func(t *testing.T, p string) { storagetest.FlipByte(t, p, headerSize+500) }, "body crc"},
		{"flipped lsn in header", func(t *testing.T, p string) { storagetest.FlipByte(t, p, 9) }, "header crc"},
		{"bad magic", func(t *testing.T, p string) { storagetest.FlipByte(t, p, 0) }, "magic"},
		{"truncated body", func(t *testing.T, p string) { storagetest.Truncate(t, p, headerSize+100) }, "header says"},
		{"truncated header", func(t *testing.T, p string) { storagetest.Truncate(t, p, 20) }, "read header"},
		{"empty file", func(t *testing.T, p string) { storagetest.Truncate(t, p, 0) }, "read header"},
		{"trailing garbage", func(t *testing.T, p string) { storagetest.AppendBytes(t, p, []byte("junk")) }, "header says"},
		{"zero-filled", func(t *testing.T, p string) {
			if err := os.WriteFile(p, make([]byte, headerSize+1000), 0o640); err != nil {
				t.Fatal(err)
			}
		}, "magic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir, Options{})
			mustSave(t, s, 100, body(1, 1000))
			mustSave(t, s, 200, body(2, 1000))
			newest := mustSave(t, s, 300, body(3, 1000))
			tt.damage(t, filepath.Join(dir, newest.Name))

			c, rep, err := s.Load()
			if err != nil {
				t.Fatalf("Load with damaged newest: %v", err)
			}
			if c.LSN != 200 || !bytes.Equal(c.Body, body(2, 1000)) {
				t.Fatalf("Load = lsn %d, want the previous checkpoint (200)", c.LSN)
			}
			if len(rep.Skipped) != 1 || rep.Skipped[0].Name != newest.Name || !strings.Contains(rep.Skipped[0].Err.Error(), tt.wantErr) {
				t.Fatalf("Skipped = %+v, want %s with %q", rep.Skipped, newest.Name, tt.wantErr)
			}
			if st := s.Stats(); st.CorruptSkipped != 1 {
				t.Fatalf("CorruptSkipped = %d, want 1", st.CorruptSkipped)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	if _, _, err := s.Load(); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("Load of empty dir = %v, want ErrNoCheckpoint", err)
	}
	a := mustSave(t, s, 1, body(1, 100))
	b := mustSave(t, s, 2, body(2, 100))
	storagetest.FlipByte(t, filepath.Join(dir, a.Name), headerSize+1)
	storagetest.FlipByte(t, filepath.Join(dir, b.Name), headerSize+1)
	_, rep, err := s.Load()
	if !errors.Is(err, ErrCorrupt) || len(rep.Skipped) != 2 {
		t.Fatalf("Load with all damaged = %v, skipped %d; want ErrCorrupt and 2", err, len(rep.Skipped))
	}
}

func TestDiskErrors(t *testing.T) {
	t.Run("directory path is a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(file, nil, 0o640); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(filepath.Join(file, "ckpt"), Options{}); !errors.Is(err, syscall.ENOTDIR) {
			t.Fatalf("Open under a file = %v, want ENOTDIR", err)
		}
	})
	t.Run("disk full keeps the previous checkpoint", func(t *testing.T) {
		mnt := storagetest.MountTmpfs(t, "256k")
		s := mustOpen(t, mnt, Options{})
		mustSave(t, s, 1, body(1, 64<<10))
		_, err := s.Save(2, body(2, 512<<10))
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Save on a full disk = %v, want ENOSPC", err)
		}
		if got := storagetest.Names(t, mnt); len(got) != 1 || got[0] != fileName(1) {
			t.Fatalf("files after failed save %v, want only %s", got, fileName(1))
		}
		if st := s.Stats(); st.DiskFullErrors != 1 {
			t.Fatalf("DiskFullErrors = %d, want 1", st.DiskFullErrors)
		}
		c, _, err := s.Load()
		if err != nil || c.LSN != 1 {
			t.Fatalf("Load = %+v, %v", c, err)
		}
		// Space is back (the failed temp file was removed): saving works.
		mustSave(t, s, 3, body(3, 64<<10))
	})
}
