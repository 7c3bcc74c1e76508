package otlpfastreceiver

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension/burnwatchextensiontest"
	"github.com/burnwatch/burnwatch/slo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// specs are the test flows (testdata/specs): every operator.
const specs = "testdata/specs/*.yaml"

// harness is a started fast receiver on a real burnwatch extension, both
// protocols on loopback ports.
type harness struct {
	r    *fastReceiver
	app  *app.App
	host *burnwatchextensiontest.Host
	sink *consumertest.TracesSink

	mu     sync.Mutex
	events []slo.Event // what the receiver handed the App, in order
}

type setup struct {
	cfg  func(*Config)
	ext  func(*burnwatchextension.Config)
	host func(*burnwatchextensiontest.Host)
	next consumer.Traces
}

func start(t testing.TB, s setup) *harness {
	t.Helper()
	host, a := burnwatchextensiontest.Start(t, s.ext, specs)
	if s.host != nil {
		s.host(host)
	}
	cfg := createDefaultConfig().(*Config)
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = "127.0.0.1:0"
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	if s.cfg != nil {
		s.cfg(cfg)
	}
	hs := &harness{app: a, host: host, sink: new(consumertest.TracesSink)}
	next := s.next
	if next == nil {
		next = hs.sink
	}
	rcv, err := NewFactory().CreateTraces(context.Background(), receivertest.NewNopSettings(Type), cfg, next)
	if err != nil {
		t.Fatal(err)
	}
	hs.r = rcv.(*fastReceiver)
	hs.r.observe = func(evs []slo.Event) error {
		hs.mu.Lock()
		hs.events = append(hs.events, evs...)
		hs.mu.Unlock()
		return a.Observe(evs)
	}
	if err := hs.r.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := hs.r.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return hs
}

func (h *harness) grpcAddr() string { return h.r.addrs[0].String() }

func (h *harness) httpURL() string {
	return "http://" + h.r.addrs[1].String() + h.r.cfg.Protocols.HTTP.Get().TracesURLPath
}

// takeEvents returns the events handed to the App so far and forgets them.
func (h *harness) takeEvents() []slo.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	evs := h.events
	h.events = nil
	return evs
}

// flowEvents is the engine's event count of each flow.
func flowEvents(a *app.App) map[string][2]uint64 {
	out := map[string][2]uint64{}
	for _, f := range a.Engine().Flows() {
		out[f.Flow] = [2]uint64{f.Events, f.Errors}
	}
	return out
}

// metric reads one series of the App's /metrics (0 when absent).
func metric(t testing.TB, a *app.App, series string) float64 {
	t.Helper()
	var b bytes.Buffer
	a.WriteMetrics(&b)
	sc := bufio.NewScanner(&b)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return v
		}
	}
	return 0
}

// spanMetrics are the App's classification counters, by series.
func spanMetrics(t testing.TB, a *app.App) map[string]string {
	t.Helper()
	var b bytes.Buffer
	a.WriteMetrics(&b)
	out := map[string]string{}
	for line := range strings.Lines(b.String()) {
		if strings.HasPrefix(line, "burnwatch_spans_") || strings.HasPrefix(line, "burnwatch_flow_events_total") ||
			strings.HasPrefix(line, "burnwatch_flow_errors_total") || strings.HasPrefix(line, "burnwatch_events_") {
			k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
			out[k] = v
		}
	}
	return out
}

// checkout is a request of n checkout entry spans ending now, the first
// errors of them failed, and one span of no flow.
func checkout(n, errors int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "shop")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	for i := range n + 1 {
		s := spans.AppendEmpty()
		s.SetTraceID(pcommon.TraceID{1, byte(i)})
		s.SetSpanID(pcommon.SpanID{2, byte(i)})
		s.SetKind(ptrace.SpanKindServer)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-20 * time.Millisecond)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
		s.Attributes().PutStr("http.route", "/checkout/{id}")
		if i == n {
			s.Attributes().PutStr("http.route", "/cart")
		}
		if i < errors {
			s.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	return td
}

func encode(t testing.TB, td ptrace.Traces, isJSON bool) []byte {
	t.Helper()
	req := ptraceotlp.NewExportRequestFromTraces(td)
	var b []byte
	var err error
	if isJSON {
		b, err = req.MarshalJSON()
	} else {
		b, err = req.MarshalProto()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends body to the receiver's traces path.
func post(t testing.TB, client *http.Client, url, contentType string, body []byte, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// client is an HTTP client whose connections close with the test.
func client(t testing.TB) *http.Client {
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func contentType(isJSON bool) string {
	if isJSON {
		return jsonType
	}
	return protobufType
}

func describe(isJSON bool) string {
	if isJSON {
		return "json"
	}
	return "protobuf"
}

func writeFile(path string) error { return os.WriteFile(path, []byte("x"), 0o644) }

func receiverSettings() receiver.Settings { return receivertest.NewNopSettings(Type) }
