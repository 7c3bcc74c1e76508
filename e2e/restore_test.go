package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// fillerSpecs are n flows (/f/0 ...) with an availability SLO each: state
// that takes the daemon a while to restore.
func fillerSpecs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `---
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: f%d}
spec:
  match: [{attribute: http.route, equals: /f/%d}]
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: f%d-availability}
spec: {flow: f%d, target: 99, period: 2h}
`, i, i, i, i)
	}
	return b.String()
}

// fillerBatch makes one span of each of n filler flows, one in 50 failing.
func fillerBatch(rng *rand.Rand, n int) []sdktrace.ReadOnlySpan {
	res := resource.NewSchemaless(attribute.String("service.name", "filler"))
	now := time.Now()
	out := make([]sdktrace.ReadOnlySpan, 0, n)
	for i := range n {
		var tid trace.TraceID
		var sid trace.SpanID
		for j := range tid {
			tid[j] = byte(rng.Uint32())
		}
		for j := range sid {
			sid[j] = byte(rng.Uint32())
		}
		status := sdktrace.Status{Code: codes.Ok}
		if rng.IntN(50) == 0 {
			status = sdktrace.Status{Code: codes.Error}
		}
		d := time.Duration(1+rng.IntN(200)) * time.Millisecond
		out = append(out, tracetest.SpanStub{
			Name:                 "GET",
			SpanContext:          trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}),
			SpanKind:             trace.SpanKindServer,
			StartTime:            now.Add(-d),
			EndTime:              now,
			Attributes:           []attribute.KeyValue{attribute.String("http.route", fmt.Sprintf("/f/%d", i))},
			Status:               status,
			Resource:             res,
			InstrumentationScope: instrumentation.Scope{Name: "filler"},
		}.Snapshot())
	}
	return out
}

// waitReady polls the daemon's /-/ready until it answers 200: its state is
// restored.
func waitReady(t *testing.T, d *daemon) time.Duration {
	t.Helper()
	began := time.Now()
	for deadline := began.Add(30 * time.Second); time.Now().Before(deadline); {
		resp, err := http.Get("http://" + d.metrics + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(began)
			}
		}
		time.Sleep(20 * time.Millisecond) // polling a real process
	}
	t.Fatalf("not ready after 30 s:\n%s", d.stderr)
	return 0
}

var restoredLine = regexp.MustCompile(`state restored.*"took": ([0-9.e-]+),.*"held_events": (\d+)`)

// TestKill9WhileRestoring kills a daemon with 1,000 flows of state and a
// WAL of their deltas (no checkpoint) again and again, some times while it
// is still restoring, while spans keep coming: they are accepted during the
// restore (held, and counted once it restored), and in the end its windows
// equal those of a reference daemon fed the same spans, which never
// stopped: nothing acknowledged is lost, nothing counted twice (beyond the
// spans a sender resent after a kill took the answer, at least once). Not
// more flows: /metrics, where the windows are read, writes at most 100,000
// series.
func TestKill9WhileRestoring(t *testing.T) {
	if testing.Short() {
		t.Skip("real load and restarts of a daemon with 1,000 flows")
	}
	extra := "    allowed_lateness: 10m\n"
	ref := startDaemonWith(t, &daemonConfig{specs: crashSpecs, webhook: newWebhook(t).URL, extra: extra})
	cfg := &daemonConfig{specs: crashSpecs + fillerSpecs(1000), webhook: newWebhook(t).URL, dataDir: t.TempDir(), checkpoint: "1h", extra: extra}
	d := startDaemonWith(t, cfg)
	waitReady(t, d)
	toRef, toD := newExporter(t, ref.grpc), newExporter(t, d.grpc)

	// State to restore: the filler flows' deltas fill the WAL.
	frng := rand.New(rand.NewPCG(3, 5))
	for range 300 {
		toD.send(t, fillerBatch(frng, 1000))
	}

	stopSending := make(chan struct{})
	senderDone := make(chan int)
	go func() {
		sent := 0
		defer func() { senderDone <- sent }()
		srng := rand.New(rand.NewPCG(19, 23))
		for {
			select {
			case <-stopSending:
				return
			default:
			}
			spans := batch(srng, 20, false)
			if err := toRef.trySend(spans); err != nil {
				t.Error(err)
				return
			}
			if err := toD.trySend(spans); err != nil {
				t.Error(err)
				return
			}
			sent += len(spans)
			time.Sleep(10 * time.Millisecond) // pacing a real load
		}
	}()

	// A sender whose connection broke waits a second or so before it
	// connects again (gRPC's backoff); a new one sends at once, while the
	// daemon restores.
	rng := rand.New(rand.NewPCG(29, 31))
	refNow := newExporter(t, ref.grpc)
	resent := 0
	sendNow := func() {
		spans := batch(rng, 50, false)
		exp := newExporter(t, d.grpc)
		exp.send(t, spans)
		refNow.send(t, spans)
		resent += exp.retried
	}
	time.Sleep(500 * time.Millisecond)
	held, restoring := 0, 0
	for round := range 8 {
		d.kill()
		d = startDaemonWith(t, cfg)
		sendNow()
		if round%2 == 0 {
			// Killed again soon after it listens: while it restores,
			// with spans held or not.
			time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
			if !strings.Contains(d.stderr.String(), "state restored") {
				restoring++
			}
			continue
		}
		waitReady(t, d)
		m := restoredLine.FindStringSubmatch(d.stderr.String())
		if m == nil {
			t.Fatalf("no state restored line:\n%s", d.stderr)
		}
		var n int
		fmt.Sscan(m[2], &n)
		held += n
		t.Logf("round %d: restored in %s s, %d events held meanwhile", round, m[1], n)
		time.Sleep(time.Duration(200+rng.IntN(300)) * time.Millisecond)
	}
	close(stopSending)
	sent := <-senderDone
	waitReady(t, d)
	time.Sleep(1500 * time.Millisecond) // two evaluation intervals of real daemons
	resent += toD.retried
	t.Logf("%d spans sent, %d kills during a restore, %d events held while restoring, %d spans resent", sent+8*50, restoring, held, resent)
	if held == 0 {
		t.Error("no span came in while a restore was under way: the test did not test that")
	}
	if restoring == 0 {
		t.Error("no kill came during a restore")
	}
	want, got := windowCounts(t, ref.metrics), windowCounts(t, d.metrics)
	compared := 0
	for key, w := range want {
		if !(strings.Contains(key, "/4m/") || strings.Contains(key, "/12m/") || strings.Contains(key, "/2h/")) {
			continue
		}
		compared++
		if g, ok := got[key]; !ok || g < w || g > w+uint64(resent) {
			t.Errorf("window %s: restarted daemon has %d, reference %d (resent spans: %d)", key, g, w, resent)
		}
	}
	if compared < 9 {
		t.Fatalf("compared %d windows, want the 4m, 12m and 2h windows of 3 SLOs and both outcomes", compared)
	}
}
