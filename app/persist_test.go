package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/alerting/history"
)

func storedConfig(dir string) Config {
	cfg := testConfig()
	cfg.Storage.Directory = dir
	cfg.Storage.CheckpointInterval = time.Hour
	return cfg
}

func TestRestartRestoresWindows(t *testing.T) {
	for _, tc := range []struct {
		name       string
		checkpoint bool // a checkpoint between the batches
		clean      bool // a clean shutdown instead of a crash
	}{
		{"wal only, crash", false, false},
		{"checkpoint then wal, crash", true, false},
		{"clean shutdown", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			now := time.Now()
			a1 := startApp(t, storedConfig(dir))
			if err := a1.observe(now, events(10, "checkout", now, 3, 2)); err != nil {
				t.Fatal(err)
			}
			if tc.checkpoint {
				if err := a1.persist.checkpoint(a1.Engine(), a1.alerts.state(true), now); err != nil {
					t.Fatal(err)
				}
			}
			now = now.Add(2 * time.Second)
			if err := a1.observe(now, events(6, "checkout", now, 1, 0)); err != nil {
				t.Fatal(err)
			}
			want := a1.Engine().Evaluate(now)
			if tc.clean {
				if err := a1.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
			} else {
				crash(a1)
			}

			a2 := startApp(t, storedConfig(dir))
			got := a2.Engine().Evaluate(now)
			for i := range want {
				if g, w := got[i].Period, want[i].Period; g.Total != w.Total || g.Bad != w.Bad {
					t.Errorf("%s period after restart %d/%d bad/total, before %d/%d", want[i].SLO.Name, g.Bad, g.Total, w.Bad, w.Total)
				}
				for j := range want[i].Tiers {
					if g, w := got[i].Tiers[j].Short, want[i].Tiers[j].Short; g.Total != w.Total || g.Bad != w.Bad {
						t.Errorf("%s %s short window after restart %d/%d, before %d/%d", want[i].SLO.Name, want[i].Tiers[j].Tier.Name, g.Bad, g.Total, w.Bad, w.Total)
					}
				}
			}
		})
	}
}

// A storage directory that cannot be used (here: a path under a regular
// file) is reported and counted; spans are still counted and alerts still
// evaluated, from memory. Once the path can be used, storage recovers and
// holds everything counted before.
func TestUnusableStorageGoesOnFromMemoryAndRecovers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "data")
	a := startApp(t, storedConfig(dir))
	if a.storageState() != StorageMemoryOnly {
		t.Fatalf("storage state %q under a regular file, want %q", a.storageState(), StorageMemoryOnly)
	}
	if n, _ := metric(a, "burnwatch_storage_errors_total"); n != 1 {
		t.Errorf("burnwatch_storage_errors_total = %v, want 1", n)
	}
	if v, ok := metric(a, "burnwatch_storage_durable"); !ok || v != 0 {
		t.Errorf("burnwatch_storage_durable = %v (present %v), want 0", v, ok)
	}
	now := time.Now()
	warm(a, now)
	if err := a.observe(now, events(10, "checkout", now, 5, 0)); err != nil {
		t.Fatal(err)
	}
	a.evaluate(now)
	if p := a.Engine().Evaluate(now)[0].Period; p.Total != 10 || p.Bad != 5 {
		t.Errorf("period %d/%d bad/total, want 5/10", p.Bad, p.Total)
	}
	if a.alerts.firing() == 0 {
		t.Error("no alert firing at a 50x burn with storage down")
	}

	// The path becomes usable: the next retry opens it and checkpoints.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(file, 0o755); err != nil {
		t.Fatal(err)
	}
	now = now.Add(retryInterval)
	a.evaluate(now)
	if a.storageState() != StorageDurable {
		t.Fatalf("storage state %q after the directory became usable, want %q", a.storageState(), StorageDurable)
	}
	if n, _ := metric(a, "burnwatch_storage_recoveries_total"); n != 1 {
		t.Errorf("burnwatch_storage_recoveries_total = %v, want 1", n)
	}
	crash(a)
	b := startApp(t, storedConfig(dir))
	if p := b.Engine().Evaluate(now)[0].Period; p.Total != 10 || p.Bad != 5 {
		t.Errorf("after recovery and a crash, period %d/%d bad/total, want the 5/10 counted before storage worked", p.Bad, p.Total)
	}
}

// TestDataDirectoryRemovedIsRecreated removes the data directory under a
// running App: the next evaluation notices, recreates it with a checkpoint
// of everything counted, and a crash after that loses nothing.
func TestDataDirectoryRemovedIsRecreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a := startApp(t, storedConfig(dir))
	now := time.Now()
	if err := a.observe(now, events(10, "checkout", now, 2, 0)); err != nil {
		t.Fatal(err)
	}
	a.evaluate(now)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	// Acknowledged while the directory is gone: into unlinked files.
	now = now.Add(time.Second)
	if err := a.observe(now, events(5, "checkout", now, 1, 0)); err != nil {
		t.Fatal(err)
	}
	a.evaluate(now)
	if _, err := os.Stat(filepath.Join(dir, "checkpoints")); err != nil {
		t.Fatalf("the data directory was not recreated: %v", err)
	}
	if a.storageState() != StorageDurable {
		t.Errorf("storage state %q after recreating the directory, want %q", a.storageState(), StorageDurable)
	}
	if n, _ := metric(a, "burnwatch_storage_recoveries_total"); n != 1 {
		t.Errorf("burnwatch_storage_recoveries_total = %v, want 1", n)
	}
	now = now.Add(time.Second)
	if err := a.observe(now, events(4, "checkout", now, 4, 0)); err != nil {
		t.Fatal(err)
	}
	want := a.Engine().Evaluate(now)[0].Period
	crash(a)
	b := startApp(t, storedConfig(dir))
	if got := b.Engine().Evaluate(now)[0].Period; got.Total != want.Total || got.Bad != want.Bad || got.Total != 19 {
		t.Errorf("after a crash, period %d/%d bad/total, want %d/%d (19 events)", got.Bad, got.Total, want.Bad, want.Total)
	}
}

// TestAcknowledgeDurableRefuses: with storage.acknowledge: durable, batches
// are refused, and not counted, while storage cannot be written.
func TestAcknowledgeDurableRefuses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := storedConfig(filepath.Join(file, "data"))
	cfg.Storage.Acknowledge = AckDurable
	a := startApp(t, cfg)
	now := time.Now()
	if err := a.observe(now, events(10, "checkout", now, 1, 0)); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("observe with storage down = %v, want ErrNotDurable", err)
	}
	if n, _ := metric(a, "burnwatch_events_refused_total"); n != 10 {
		t.Errorf("burnwatch_events_refused_total = %v, want 10", n)
	}
	if p := a.Engine().Evaluate(now)[0].Period; p.Total != 0 {
		t.Errorf("a refused batch was counted: %d events", p.Total)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	a.evaluate(now)
	if err := a.observe(now, events(10, "checkout", now, 1, 0)); err != nil {
		t.Fatalf("observe once storage works = %v", err)
	}
}

// TestRestartDeliversPendingAndJournalsEveryAttempt: notifications pending
// at a crash (their receiver down) are delivered after the restart, and
// every attempt, before and after, is in the alert history (run with -race:
// delivery after a restore starts only once the history is wired).
func TestRestartDeliversPendingAndJournalsEveryAttempt(t *testing.T) {
	var mu sync.Mutex
	up, requests := false, 0
	delivered := map[string]bool{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Alerts []struct{ Fingerprint, Status string }
		}
		_ = json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		defer mu.Unlock()
		requests++
		if !up {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		for _, a := range p.Alerts {
			delivered[a.Fingerprint+"/"+a.Status] = true
		}
	}))
	defer hook.Close()
	dir := t.TempDir()
	cfg := storedConfig(dir)
	cfg.Alerting.Webhooks = []WebhookConfig{{Name: "hook", URL: hook.URL}}

	a := startApp(t, cfg)
	now := time.Now()
	warm(a, now)
	if err := a.observe(now, events(10, "checkout", now, 5, 0)); err != nil {
		t.Fatal(err)
	}
	a.evaluate(now)
	firing := a.alerts.manager.Firing()
	if len(firing) == 0 {
		t.Fatal("nothing fires at a 50x burn")
	}
	// Wait for a failed attempt, then crash with the notifications pending.
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return requests > 0 })
	crash(a)
	pending := a.alerts.state(true).Pending
	if len(pending) == 0 {
		t.Fatal("nothing pending at the crash")
	}

	mu.Lock()
	up = true
	mu.Unlock()
	b := startApp(t, cfg)
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range pending {
			for _, a := range n.Alerts {
				if !delivered[a.Fingerprint+"/"+string(a.State)] {
					return false
				}
			}
		}
		return true
	})
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Every request the receiver saw is an attempt in the history.
	attempts := 0
	f, err := os.Open(filepath.Join(dir, "history", "alerts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		var r history.Record
		if json.Unmarshal(s.Bytes(), &r) == nil && r.Event == "attempt" && r.Outcome != "aborted" {
			attempts++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != requests {
		t.Errorf("the history holds %d attempts, the receiver saw %d requests", attempts, requests)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBudgetHistorySurvivesRestart: the page's burn-down history rides the
// checkpoint.
func TestBudgetHistorySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, storedConfig(dir))
	now := time.Now()
	if err := a.observe(now, events(10, "checkout", now, 3, 0)); err != nil {
		t.Fatal(err)
	}
	a.evaluate(now)
	want := a.budgets().Snapshot()
	if len(want) == 0 || len(want[0].Samples) == 0 {
		t.Fatalf("no budget history after an evaluation: %+v", want)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := startApp(t, storedConfig(dir))
	got := b.budgets().Snapshot()
	if len(got) != len(want) || len(got[0].Samples) != len(want[0].Samples) || got[0].Samples[0].BudgetLeft != want[0].Samples[0].BudgetLeft {
		t.Errorf("budget history after a restart %+v, want %+v", got, want)
	}
}
