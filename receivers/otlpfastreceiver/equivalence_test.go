package otlpfastreceiver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/connectors/sloconnector"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension/burnwatchextensiontest"
	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/processors/flowprocessor"
	"github.com/burnwatch/burnwatch/receivers/otlpfastreceiver/internal/otlpwiretest"
	"github.com/burnwatch/burnwatch/slo"
)

// upstreamPath is the real upstream path: the otlp receiver (OTLP/HTTP),
// the flow processor and the slo connector on their own burnwatch
// extension, with a sink after the processor to read the annotated spans.
type upstreamPath struct {
	app  *app.App
	url  string
	sink *consumertest.TracesSink
}

func startUpstream(t *testing.T, trust bool) *upstreamPath {
	t.Helper()
	host, a := burnwatchextensiontest.Start(t, nil, specs)
	ctx := context.Background()
	u := &upstreamPath{app: a, sink: new(consumertest.TracesSink)}

	conn, err := sloconnector.NewFactory().CreateTracesToMetrics(ctx, connectortest.NewNopSettings(sloconnector.Type),
		sloconnector.NewFactory().CreateDefaultConfig(), consumertest.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	both, err := consumer.NewTraces(func(ctx context.Context, td ptrace.Traces) error {
		if err := u.sink.ConsumeTraces(ctx, td); err != nil {
			return err
		}
		return conn.ConsumeTraces(ctx, td)
	})
	if err != nil {
		t.Fatal(err)
	}
	pcfg := flowprocessor.NewFactory().CreateDefaultConfig().(*flowprocessor.Config)
	pcfg.TrustAnnotations = trust
	proc, err := flowprocessor.NewFactory().CreateTraces(ctx, processortest.NewNopSettings(flowprocessor.Type), pcfg, both)
	if err != nil {
		t.Fatal(err)
	}
	rcfg := otlpreceiver.NewFactory().CreateDefaultConfig().(*otlpreceiver.Config)
	rcfg.Protocols.GRPC = configoptional.None[configgrpc.ServerConfig]()
	addr := freeAddr(t)
	rcfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = addr
	rcv, err := otlpreceiver.NewFactory().CreateTraces(ctx, receivertest.NewNopSettings(component.MustNewType("otlp")), rcfg, proc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []component.Component{conn, proc, rcv} {
		if err := c.Start(ctx, host); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, c := range []component.Component{rcv, proc, conn} {
			if err := c.Shutdown(ctx); err != nil {
				t.Errorf("shut down the upstream path: %v", err)
			}
		}
	})
	u.url = "http://" + addr + "/v1/traces"
	return u
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// take returns the events of the spans the upstream path classified since
// the last take, made as the slo connector makes them.
func (u *upstreamPath) take() []slo.Event {
	var evs []slo.Event
	for _, td := range u.sink.AllTraces() {
		rss := td.ResourceSpans()
		for i := 0; i < rss.Len(); i++ {
			sss := rss.At(i).ScopeSpans()
			for j := 0; j < sss.Len(); j++ {
				spans := sss.At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					span := spans.At(k)
					fv, ok := span.Attributes().Get(flows.FlowAttribute)
					if !ok || fv.Type() != pcommon.ValueTypeStr || fv.Str() == "" {
						continue
					}
					ev := slo.Event{Flow: fv.Str(), End: int64(span.EndTimestamp()), TraceID: span.TraceID(), SpanID: span.SpanID()}
					if end, start := span.EndTimestamp(), span.StartTimestamp(); end > start {
						ev.Duration = time.Duration(end - start)
					}
					if errv, ok := span.Attributes().Get(flows.ErrorAttribute); ok {
						ev.Error = errv.Bool()
					}
					evs = append(evs, ev)
				}
			}
		}
	}
	u.sink.Reset()
	return evs
}

// request is one request for both paths.
type request struct {
	name   string
	data   []byte
	isJSON bool
}

// TestEquivalenceWithUpstream: for generated requests (every value type,
// empty and huge fields, annotations, events and links), the same
// scrambled (unknown fields and groups, reordered and split messages,
// repeated attributes, padded varints; JSON renamed, reordered, numbers as
// strings, enums as names), and the decoder's fuzz corpus, the fast
// receiver hands the App exactly the events the otlp receiver + flow
// processor + slo connector make, and both Apps end with the same
// classification and engine counts. Spans that end before they start are
// the documented exception: the fast receiver rejects them, so the upstream
// path is sent the request without them; requests pdata refuses (ids of the
// wrong length) go to a third receiver, which must reject them or the bad
// spans alone.
func TestEquivalenceWithUpstream(t *testing.T) {
	reqs := generated(t, 150)
	reqs = append(reqs, corpus(t)...)
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprintf("trust_annotations=%t", trust), func(t *testing.T) {
			up := startUpstream(t, trust)
			fast := start(t, setup{cfg: func(c *Config) { c.TrustAnnotations = trust }})
			scratch := start(t, setup{cfg: func(c *Config) { c.TrustAnnotations = trust }})
			c := client(t)
			conn := dial(t, fast.grpcAddr())
			compared, events, refused, skipped, refs := 0, 0, 0, 0, 0
			for i, r := range reqs {
				req := ptraceotlp.NewExportRequest()
				var perr error
				if r.isJSON {
					perr = req.UnmarshalJSON(r.data)
				} else {
					perr = req.UnmarshalProto(r.data)
				}
				if perr != nil {
					refused++
					resp, body := post(t, c, scratch.httpURL(), contentType(r.isJSON), r.data)
					switch {
					case resp.StatusCode == http.StatusOK && !bytes.Contains(body, []byte("wrong length")):
						t.Errorf("%s: pdata refuses it (%v), the fast receiver takes it whole: %q", r.name, perr, body)
					case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest:
						t.Errorf("%s: the fast receiver answers %s %q, want 400", r.name, resp.Status, body)
					}
					// 400, or 500 for a JSON error message that is not UTF-8
					// (the "random bytes answered with 500").
					if resp, _ := post(t, c, up.url, contentType(r.isJSON), r.data); resp.StatusCode != http.StatusBadRequest {
						t.Logf("%s: the otlp receiver answers %s", r.name, resp.Status)
					}
					scratch.takeEvents()
					continue
				}
				td := req.Traces()
				if repeatedAnnotation(td) || (r.isJSON && jsonDepth(r.data) >= 100) {
					skipped++ // TestSpoofedRepeats; the nesting limit of JSON (otlpwire's TestHandMade)
					continue
				}
				backwards := removeBackwards(td)
				toUpstream := r.data
				if backwards > 0 {
					toUpstream = encode(t, td, r.isJSON)
				}
				if resp, body := post(t, c, up.url, contentType(r.isJSON), toUpstream); resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: the otlp receiver answers %s %q", r.name, resp.Status, body)
				}
				var rejected int64
				if !r.isJSON && i%2 == 0 {
					b, err := exportRaw(conn, r.data)
					if err != nil {
						t.Fatalf("%s over gRPC: %v", r.name, err)
					}
					er := ptraceotlp.NewExportResponse()
					if err := er.UnmarshalProto(b); err != nil {
						t.Fatal(err)
					}
					rejected = er.PartialSuccess().RejectedSpans()
				} else {
					resp, body := post(t, c, fast.httpURL(), contentType(r.isJSON), r.data)
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("%s: the fast receiver answers %s %q", r.name, resp.Status, body)
					}
					if r.isJSON {
						rejected = jsonRejected(t, body)
					} else {
						er := ptraceotlp.NewExportResponse()
						if err := er.UnmarshalProto(body); err != nil {
							t.Fatal(err)
						}
						rejected = er.PartialSuccess().RejectedSpans()
					}
				}
				if rejected != int64(backwards) {
					t.Errorf("%s: %d spans rejected, want the %d that end before they start", r.name, rejected, backwards)
				}
				want, got := up.take(), fast.takeEvents()
				refs += takeRefs(t, fast.app, got)
				if len(want) == 0 {
					want = nil
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: the fast receiver's events differ from the upstream path's:\nfast:     %+v\nupstream: %+v", r.name, got, want)
				}
				compared++
				events += len(got)
			}
			w, g := spanMetrics(t, up.app), spanMetrics(t, fast.app)
			delete(w, "burnwatch_spans_bad_annotation_total") // the slo connector's own
			if !reflect.DeepEqual(g, w) {
				t.Errorf("counts differ:\nfast:     %v\nupstream: %v", g, w)
			}
			t.Logf("%d requests compared (%d events, %d with a Ref), %d refused by pdata, %d skipped (repeated annotations, deep JSON)", compared, events, refs, refused, skipped)
			if compared < len(reqs)/2 || events < 300 {
				t.Errorf("compared %d requests and %d events of %d: the test is not testing", compared, events, len(reqs))
			}
			if refs < events/4 {
				t.Errorf("%d of %d events have a Ref: the engine hashes the names of the others", refs, events)
			}
		})
	}
}

// generated are random requests, plain and scrambled, in both encodings.
func generated(t *testing.T, n int) []request {
	rng := rand.New(rand.NewPCG(11, 12))
	var out []request
	for i := range n {
		pb, js := otlpwiretest.Request(rng, otlpwiretest.Options{Backwards: i%3 == 0, Annotations: i%2 == 0, Huge: i%25 == 0})
		out = append(out,
			request{fmt.Sprintf("generated %d", i), pb, false},
			request{fmt.Sprintf("generated %d json", i), js, true},
			request{fmt.Sprintf("scrambled %d", i), otlpwiretest.Scramble(rng, pb, otlpwiretest.ScrambleOptions{BadIDs: i%4 == 0}), false},
			request{fmt.Sprintf("scrambled %d json", i), otlpwiretest.ScrambleJSON(rng, js), true})
	}
	return out
}

// corpus is the decoder's fuzz corpus.
func corpus(t *testing.T) []request {
	t.Helper()
	dir := filepath.Join("internal", "otlpwire", "testdata", "fuzz", "FuzzDecode")
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []request
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		r := request{name: "corpus " + f.Name()}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "[]byte("):
				s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(line, "[]byte("), ")"))
				if err != nil {
					t.Fatalf("%s: %v", f.Name(), err)
				}
				r.data = []byte(s)
			case line == "bool(true)":
				r.isJSON = true
			}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		t.Fatal("no fuzz corpus")
	}
	return out
}

// repeatedAnnotation reports a span with burnwatch.flow or burnwatch.error
// more than once.
func repeatedAnnotation(td ptrace.Traces) bool {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		for j := 0; j < rss.At(i).ScopeSpans().Len(); j++ {
			spans := rss.At(i).ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				seen := map[string]int{}
				for key := range spans.At(k).Attributes().All() {
					seen[key]++
				}
				if seen[flows.FlowAttribute] > 1 || seen[flows.ErrorAttribute] > 1 {
					return true
				}
			}
		}
	}
	return false
}

// removeBackwards removes the spans that end before they start and
// returns how many.
func removeBackwards(td ptrace.Traces) int {
	n := 0
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		for j := 0; j < rss.At(i).ScopeSpans().Len(); j++ {
			rss.At(i).ScopeSpans().At(j).Spans().RemoveIf(func(s ptrace.Span) bool {
				if s.EndTimestamp() < s.StartTimestamp() {
					n++
					return true
				}
				return false
			})
		}
	}
	return n
}

func jsonRejected(t *testing.T, body []byte) int64 {
	t.Helper()
	er := ptraceotlp.NewExportResponse()
	if err := er.UnmarshalJSON(body); err != nil {
		t.Fatalf("response %q: %v", body, err)
	}
	return er.PartialSuccess().RejectedSpans()
}

// TestSpoofedRepeats: a span no flow takes that carries burnwatch.flow
// twice counts nothing on the fast path. (The flow processor removes only
// the first; the slo connector then counts the second: the test logs
// whether the upstream path still does.)
func TestSpoofedRepeats(t *testing.T) {
	w := otlpwiretest.Field
	kv := func(k, v string) []byte { return w(nil, 9, w(w(nil, 1, []byte(k)), 2, w(nil, 1, []byte(v)))) }
	span := append(otlpwiretest.Varint(nil, 6, 2), kv(flows.FlowAttribute, "")...)
	span = append(span, kv(flows.FlowAttribute, "checkout")...)
	body := w(nil, 1, w(nil, 2, w(nil, 2, span)))

	up := startUpstream(t, false)
	fast := start(t, setup{})
	c := client(t)
	post(t, c, up.url, protobufType, body)
	post(t, c, fast.httpURL(), protobufType, body)
	if got := flowEvents(fast.app)["checkout"][0]; got != 0 {
		t.Errorf("the fast receiver counted %d spoofed checkouts", got)
	}
	if got := flowEvents(up.app)["checkout"][0]; got != 0 {
		t.Errorf("the upstream path counted %d spoofed checkouts: the flow processor must remove every burnwatch.flow", got)
	}
}

// jsonDepth is how deeply data's arrays and objects nest, strings aside.
func jsonDepth(data []byte) int {
	depth, most, inString, escaped := 0, 0, false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			most = max(most, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return most
}

// takeRefs checks that each event's Ref, when set, names its flow in the
// App's classifier, and clears it: the upstream path reads annotations and
// sets none, and a Ref is only a hint (slo.Event). It returns how many
// events had one.
func takeRefs(t *testing.T, a *app.App, evs []slo.Event) int {
	t.Helper()
	n := 0
	for i := range evs {
		if r := evs[i].Ref; r != 0 {
			if name := a.Flows().Name(int(r - 1)); name != evs[i].Flow {
				t.Fatalf("event of flow %q has the Ref of flow %q", evs[i].Flow, name)
			}
			evs[i].Ref = 0
			n++
		}
	}
	return n
}
