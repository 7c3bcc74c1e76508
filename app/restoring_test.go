package app

import (
	"context"
	"strings"
	"testing"
	"time"
)

// startHolding starts an App on dir whose restore waits until the returned
// func is called: batches observed until then are held.
func startHolding(t *testing.T, dir string) (*App, func()) {
	t.Helper()
	a, err := New(storedConfig(dir), Settings{})
	if err != nil {
		t.Fatal(err)
	}
	a.hold.gate = make(chan struct{})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	if !a.hold.active.Load() {
		t.Fatal("storage on, restore not begun: batches are not held")
	}
	return a, func() {
		close(a.hold.gate)
		if err := a.WaitRestored(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// abandon is a kill -9 of an App whose restore has not begun: its files
// are let go (as a dead process's are), and only then may it restore (with
// no files, it finds nothing), so that its goroutines end.
func abandon(a *App) {
	a.persist.mu.Lock()
	_ = a.persist.closeLocked()
	a.persist.mu.Unlock()
	close(a.hold.gate)
}

// TestBatchesHeldWhileRestoring: batches that come in while the state is
// restored are acknowledged, and end up counted once, in order, at the times
// they came: after the restore, after a kill -9 during the restore (they
// are in the WAL), after another restore that holds more batches, and after
// a kill -9 once all that was applied (a replay does not count them twice).
// An App without storage, fed every batch, is the reference.
func TestBatchesHeldWhileRestoring(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ref := startApp(t, testConfig())
	var sent []func(*App) error
	send := func(a *App, b func(*App) error) {
		t.Helper()
		if err := b(a); err != nil {
			t.Fatal(err)
		}
		if err := b(ref); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, b)
	}
	batch := func(at time.Time, n int, flow string, errs, slow int) func(*App) error {
		return func(a *App) error { return a.observe(at, events(n, flow, at.Add(-time.Second), errs, slow)) }
	}
	same := func(a *App, what string) {
		t.Helper()
		at := now.Add(time.Minute)
		want, got := ref.Engine().Evaluate(at), a.Engine().Evaluate(at)
		for i := range want {
			if g, w := got[i].Period, want[i].Period; g.Total != w.Total || g.Bad != w.Bad {
				t.Errorf("%s: %s period %d/%d bad/total, want %d/%d", what, want[i].SLO.Name, g.Bad, g.Total, w.Bad, w.Total)
			}
			for j := range want[i].Tiers {
				if g, w := got[i].Tiers[j].Short, want[i].Tiers[j].Short; g != w {
					t.Errorf("%s: %s %s short window %+v, want %+v", what, want[i].SLO.Name, want[i].Tiers[j].Tier.Name, g, w)
				}
			}
		}
		if g, w := a.Engine().Stats().Events, ref.Engine().Stats().Events; g != w {
			t.Errorf("%s: %d events, want %d", what, g, w)
		}
	}

	a1 := startApp(t, storedConfig(dir))
	send(a1, batch(now, 10, "checkout", 3, 2))
	crash(a1)

	// Restarted; batches come in before the restore begins, then it is
	// killed: they are only in the WAL.
	a2, _ := startHolding(t, dir)
	now = now.Add(time.Second)
	send(a2, batch(now, 7, "checkout", 1, 1))
	now = now.Add(time.Second)
	send(a2, batch(now, 5, "checkout", 0, 3))
	if got := a2.hold.events; got != 12 {
		t.Fatalf("%d events held, want 12", got)
	}
	abandon(a2)

	// Restarted again: the first restart's batches are replayed, and this
	// one holds more, which are applied once it restored.
	a3, release := startHolding(t, dir)
	now = now.Add(time.Second)
	send(a3, batch(now, 4, "checkout", 2, 0))
	release()
	if a3.hold.active.Load() {
		t.Fatal("still holding after the restore")
	}
	same(a3, "after a restore that held batches")
	if v, _ := metric(a3, "burnwatch_restore_held_events_total"); v != 4 {
		t.Errorf("burnwatch_restore_held_events_total %v, want 4", v)
	}
	now = now.Add(time.Second)
	send(a3, batch(now, 6, "checkout", 1, 0))
	crash(a3)

	// A replay of it all counts each batch once.
	a4 := startApp(t, storedConfig(dir))
	same(a4, "after a kill -9 and a replay of held batches")
	if len(sent) != 5 {
		t.Fatalf("%d batches", len(sent))
	}
}

// TestHeldBatchEncoding: a held batch reads back as written, and damage is
// an error, not a panic.
func TestHeldBatchEncoding(t *testing.T) {
	now := time.Unix(1_800_000_000, 123)
	evs := append(events(3, "checkout", now, 1, 1), events(2, "search", now.Add(-time.Minute), 0, 0)...)
	evs[4].Duration = 0
	b := appendHeld(nil, now, evs)
	at, got, err := decodeHeld(b)
	if err != nil || !at.Equal(now) || len(got) != len(evs) {
		t.Fatalf("decoded %v %d events %v", at, len(got), err)
	}
	for i := range evs {
		if got[i] != evs[i] {
			t.Fatalf("event %d: %+v, want %+v", i, got[i], evs[i])
		}
	}
	for n := range len(b) {
		if _, _, err := decodeHeld(b[:n]); err == nil {
			t.Fatalf("%d of %d bytes decoded without an error", n, len(b))
		}
	}
	if _, _, err := decodeHeld(append(b, 0)); err == nil {
		t.Fatal("trailing byte decoded without an error")
	}
}

// TestCheckpointDueByWALSize: a checkpoint is written once
// storage.checkpoint_wal_size of WAL was appended since the last, long
// before checkpoint_interval; below the size, none is.
func TestCheckpointDueByWALSize(t *testing.T) {
	cfg := storedConfig(t.TempDir())
	cfg.Storage.CheckpointWALSize = 4 << 10
	a := startApp(t, cfg)
	now := time.Now()
	a.evaluate(now)
	if err := a.observe(now, events(3, "checkout", now, 0, 0)); err != nil {
		t.Fatal(err)
	}
	written := a.persist.walBytes.Load()
	if written == 0 || written >= 4<<10 {
		t.Fatalf("%d bytes of WAL after one small batch", written)
	}
	a.evaluate(now.Add(time.Second))
	if got := a.persist.walBytes.Load(); got < written {
		t.Fatalf("checkpointed at %d bytes of WAL, under the 4 KiB bound", written)
	}
	for i := 0; a.persist.walBytes.Load() < 4<<10; i++ {
		at := now.Add(time.Duration(i) * time.Second)
		if err := a.observe(at, events(50, "checkout", at, 1, 1)); err != nil {
			t.Fatal(err)
		}
	}
	a.evaluate(now.Add(time.Minute))
	if got := a.persist.walBytes.Load(); got != 0 {
		t.Fatalf("%d bytes of WAL since the last checkpoint after an evaluation past the bound, want a checkpoint", got)
	}

	bad := testConfig()
	bad.Storage.Directory = t.TempDir()
	bad.Storage.CheckpointWALSize = -2
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "storage.checkpoint_wal_size") {
		t.Fatalf("checkpoint_wal_size -2: %v, want an error naming the key", err)
	}
}

// TestConcurrentBatchesWhileRestoring: producers on several goroutines send
// before, during and after the restore ends; every event is counted once,
// whether it was held or not.
func TestConcurrentBatchesWhileRestoring(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	a1 := startApp(t, storedConfig(dir))
	if err := a1.observe(now, events(10, "checkout", now, 3, 2)); err != nil {
		t.Fatal(err)
	}
	crash(a1)

	a, release := startHolding(t, dir)
	const producers, batches, per = 4, 50, 5
	sent := make(chan struct{}, producers*batches)
	done := make(chan error, producers)
	for p := range producers {
		go func() {
			for i := range batches {
				at := now.Add(time.Duration(p*batches+i) * time.Millisecond)
				if err := a.observe(at, events(per, "checkout", at, 1, 0)); err != nil {
					done <- err
					return
				}
				sent <- struct{}{}
			}
			done <- nil
		}()
	}
	for range producers * batches / 2 {
		<-sent
	}
	release()
	for range producers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got, want := a.Engine().Stats().Events, uint64(10+producers*batches*per); got != want {
		t.Fatalf("%d events counted, want %d", got, want)
	}
	if v, _ := metric(a, "burnwatch_restore_held_events_total"); v < producers*batches*per/2 {
		t.Fatalf("%v events held, want at least the half sent before the restore began", v)
	}
}
