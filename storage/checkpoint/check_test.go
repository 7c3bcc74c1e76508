package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/burnwatch/burnwatch/storage"
	"github.com/burnwatch/burnwatch/storage/internal/storagetest"
)

func TestCheck(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	dir := filepath.Join(data, "checkpoints")
	s := mustOpen(t, dir, Options{})
	mustSave(t, s, 1, body(1, 100))
	if err := s.Check(); err != nil {
		t.Fatalf("Check of a healthy store = %v", err)
	}

	storagetest.RemoveAll(t, data)
	if err := s.Check(); !errors.Is(err, storage.ErrVanished) {
		t.Fatalf("Check after rm -rf = %v, want ErrVanished", err)
	}
	if _, err := s.Save(2, body(2, 100)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Save into the removed directory = %v, want ErrNotExist", err)
	}

	s2 := mustOpen(t, dir, Options{}) // creates the directory again
	if err := s2.Check(); err != nil {
		t.Fatalf("Check of the reopened store = %v", err)
	}
	mustSave(t, s2, 3, body(3, 100))
	c, _, err := s2.Load()
	if err != nil || c.LSN != 3 {
		t.Fatalf("Load = %+v, %v; want lsn 3", c, err)
	}
}
