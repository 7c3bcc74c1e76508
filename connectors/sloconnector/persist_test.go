package sloconnector

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
)

// newStoredHost builds a started connector on dir with a fixed clock.
func newStoredHost(t *testing.T, dir string, now *time.Time) (*tracesConnector, *host) {
	t.Helper()
	cfg := createDefaultConfig()
	cfg.Files = []string{"testdata/specs.yaml"}
	cfg.EvaluationInterval = time.Hour
	cfg.Alerting.Console = false
	cfg.Storage.Directory = dir
	cfg.Storage.CheckpointInterval = time.Hour
	conn, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(Type), cfg, new(consumertest.MetricsSink))
	if err != nil {
		t.Fatal(err)
	}
	tc := conn.(*tracesConnector)
	tc.shared.host.now = func() time.Time { return *now }
	if err := conn.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	return tc, tc.shared.host
}

// abandon drops a host as a kill -9 would: no checkpoint, no close. Only the
// goroutines and file locks a dead process would lose are released.
func abandon(tc *tracesConnector) {
	h := tc.shared.host
	h.cancel()
	<-h.done
	_ = h.alerts.dispatcher.Close(context.Background())
	if h.persist != nil {
		_ = h.persist.wal.Close()
		_ = h.persist.history.Close()
	}
	release(tc.id, tc.shared)
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
			now := t0
			c1, h1 := newStoredHost(t, dir, &now)
			if err := c1.ConsumeTraces(context.Background(), annotated(10, "checkout", now, 3, 2)); err != nil {
				t.Fatal(err)
			}
			if tc.checkpoint {
				h1.persist.checkpoint(h1.engine, h1.alerts, now)
			}
			now = now.Add(2 * time.Second)
			if err := c1.ConsumeTraces(context.Background(), annotated(6, "checkout", now, 1, 0)); err != nil {
				t.Fatal(err)
			}
			want := h1.engine.Evaluate(now)
			if tc.clean {
				if err := c1.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
			} else {
				abandon(c1)
			}

			c2, h2 := newStoredHost(t, dir, &now)
			defer func() { _ = c2.Shutdown(context.Background()) }()
			got := h2.engine.Evaluate(now)
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
// evaluated, from memory.
func TestUnusableStorageGoesOnFromMemory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	now := t0
	c, h := newStoredHost(t, filepath.Join(file, "data"), &now)
	defer func() { _ = c.Shutdown(context.Background()) }()
	if h.persist != nil {
		t.Fatal("storage opened under a regular file")
	}
	if n := h.self.GetOrCreateCounter("burnwatch_storage_errors_total").Get(); n != 1 {
		t.Errorf("burnwatch_storage_errors_total = %d, want 1", n)
	}
	if err := c.ConsumeTraces(context.Background(), annotated(10, "checkout", now, 5, 0)); err != nil {
		t.Fatal(err)
	}
	h.evaluate(context.Background())
	if p := h.engine.Evaluate(now)[0].Period; p.Total != 10 || p.Bad != 5 {
		t.Errorf("period %d/%d bad/total, want 5/10", p.Bad, p.Total)
	}
	if h.alerts.firing() == 0 {
		t.Error("no alert firing at a 50x burn with storage down")
	}
}
