package otlpfastreceiver

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/encoding/gzip" // the gzip compressor for the client
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
	"github.com/burnwatch/burnwatch/receivers/otlpfastreceiver/internal/otlpwiretest"
)

// invalidSpans appends to an encoded checkout request a scope with a span
// that ends before it starts and one with a 3-byte trace id.
func invalidSpans(t *testing.T, isJSON bool) []byte {
	t.Helper()
	if isJSON {
		return []byte(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},"scopeSpans":[{"spans":[` +
			`{"kind":2,"startTimeUnixNano":"2000","endTimeUnixNano":"1000","attributes":[{"key":"http.route","value":{"stringValue":"/checkout"}}]},` +
			`{"traceId":"abcdef","kind":2,"attributes":[{"key":"http.route","value":{"stringValue":"/checkout"}}]},` +
			`{"kind":2,"attributes":[{"key":"http.route","value":{"stringValue":"/checkout"}}]}]}]}]}`)
	}
	w, v := otlpwiretest.Field, otlpwiretest.Varint
	route := w(nil, 9, w(w(nil, 1, []byte("http.route")), 2, w(nil, 1, []byte("/checkout"))))
	backwards := append(v(otlpwiretest.Fixed64(otlpwiretest.Fixed64(nil, 7, 2000), 8, 1000), 6, 2), route...)
	shortID := append(v(w(nil, 1, []byte{1, 2, 3}), 6, 2), route...)
	good := append(v(nil, 6, 2), route...)
	scope := w(w(w(nil, 2, backwards), 2, shortID), 2, good)
	res := w(nil, 1, w(nil, 1, w(w(nil, 1, []byte("service.name")), 2, w(nil, 1, []byte("shop")))))
	return w(nil, 1, append(res, w(nil, 2, scope)...))
}

func TestHTTP(t *testing.T) {
	for _, isJSON := range []bool{false, true} {
		t.Run(describe(isJSON), func(t *testing.T) {
			h := start(t, setup{})
			c := client(t)
			ct := contentType(isJSON)

			resp, body := post(t, c, h.httpURL(), ct, encode(t, checkout(3, 1), isJSON))
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ct {
				t.Fatalf("accepted: %s %s %q", resp.Status, resp.Header.Get("Content-Type"), body)
			}
			if want := map[bool]string{false: "", true: "{}"}[isJSON]; string(body) != want {
				t.Errorf("accepted: body %q, want %q", body, want)
			}
			if got := flowEvents(h.app)["checkout"]; got != [2]uint64{3, 1} {
				t.Errorf("checkout events, errors = %v, want 3, 1", got)
			}
			if got := metric(t, h.app, `burnwatch_spans_received_total`); got != 4 {
				t.Errorf("spans received = %v, want 4", got)
			}

			// Invalid spans are rejected alone, with partial success.
			resp, body = post(t, c, h.httpURL(), ct, invalidSpans(t, isJSON))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("partial: %s %q", resp.Status, body)
			}
			er := ptraceotlp.NewExportResponse()
			if isJSON {
				err := er.UnmarshalJSON(body)
				if err != nil {
					t.Fatal(err)
				}
			} else if err := er.UnmarshalProto(body); err != nil {
				t.Fatal(err)
			}
			ps := er.PartialSuccess()
			if ps.RejectedSpans() != 2 || !strings.Contains(ps.ErrorMessage(), "1 end before they start") || !strings.Contains(ps.ErrorMessage(), "wrong length") {
				t.Errorf("partial success = %d %q", ps.RejectedSpans(), ps.ErrorMessage())
			}
			if got := flowEvents(h.app)["checkout"]; got != [2]uint64{4, 1} {
				t.Errorf("after the partial request, checkout = %v, want the valid span counted", got)
			}
			for reason, want := range map[string]float64{"end_before_start": 1, "invalid_id": 1} {
				if got := metric(t, h.app, `burnwatch_receiver_spans_rejected_total{reason="`+reason+`"}`); got != want {
					t.Errorf("rejected %s = %v, want %v", reason, got, want)
				}
			}

			// Undecodable: 400 with a status in the request's encoding,
			// never 500 (which clients retry), and counted.
			garbage := []byte{0x0a, 0x05, 0x0a}
			if isJSON {
				garbage = []byte("\xff\xfe{not json \xc3")
			}
			resp, body = post(t, c, h.httpURL(), ct, garbage)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("malformed: %s %q", resp.Status, body)
			}
			if st := decodeStatus(t, body, isJSON); st.GetCode() != int32(codes.InvalidArgument) || st.GetMessage() == "" {
				t.Errorf("malformed: status %v", st)
			}

			for _, c := range []struct {
				series string
				want   float64
			}{
				{`burnwatch_receiver_requests_total{transport="http",outcome="accepted"}`, 1},
				{`burnwatch_receiver_requests_total{transport="http",outcome="partial"}`, 1},
				{`burnwatch_receiver_requests_total{transport="http",outcome="malformed"}`, 1},
			} {
				if got := metric(t, h.app, c.series); got != c.want {
					t.Errorf("%s = %v, want %v", c.series, got, c.want)
				}
			}
		})
	}
}

func decodeStatus(t *testing.T, body []byte, isJSON bool) *spb.Status {
	t.Helper()
	st := &spb.Status{}
	var err error
	if isJSON {
		err = protojson.Unmarshal(body, st)
	} else {
		err = proto.Unmarshal(body, st)
	}
	if err != nil {
		t.Fatalf("status body %q: %v", body, err)
	}
	return st
}

// TestHTTPRefuses: what OTLP/HTTP says about methods, media types and
// sizes.
func TestHTTPRefuses(t *testing.T) {
	h := start(t, setup{cfg: func(c *Config) {
		c.Protocols.HTTP.Get().ServerConfig.MaxRequestBodySize = 4096
	}})
	c := client(t)
	req, _ := http.NewRequest(http.MethodGet, h.httpURL(), nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %s", resp.Status)
	}
	if resp, body := post(t, c, h.httpURL(), "text/plain", []byte("x")); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %s %q", resp.Status, body)
	}

	big := encode(t, checkout(100, 0), false) // more than 4 KiB
	if resp, body := post(t, c, h.httpURL(), protobufType, big); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("over max_request_body_size: %s %q", resp.Status, body)
	}
	// Small on the wire, too large once inflated.
	if resp, body := post(t, c, h.httpURL(), protobufType, gzipped(big), "Content-Encoding", "gzip"); resp.StatusCode != http.StatusRequestEntityTooLarge || len(gzipped(big)) > 4096 {
		t.Errorf("inflating past max_request_body_size: %s %q", resp.Status, body)
	}
	if resp, body := post(t, c, h.httpURL(), jsonType, []byte("{}"), "Content-Encoding", "br"); resp.StatusCode != http.StatusBadRequest ||
		decodeStatus(t, body, true).GetCode() != int32(codes.InvalidArgument) {
		t.Errorf("unknown Content-Encoding: %s %q", resp.Status, body)
	}
	if got := metric(t, h.app, `burnwatch_receiver_requests_total{transport="http",outcome="too_large"}`); got != 2 {
		t.Errorf("too_large = %v, want 2", got)
	}
	if got := metric(t, h.app, `burnwatch_receiver_requests_total{transport="http",outcome="unsupported"}`); got != 2 {
		t.Errorf("unsupported = %v, want 2", got)
	}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// TestHTTPCompression: every Content-Encoding the collector's HTTP server
// takes by default.
func TestHTTPCompression(t *testing.T) {
	h := start(t, setup{})
	c := client(t)
	body := encode(t, checkout(2, 0), false)
	zstdEnc, _ := zstd.NewWriter(nil)
	defer zstdEnc.Close()
	var framed, zl bytes.Buffer
	sw := snappy.NewBufferedWriter(&framed)
	_, _ = sw.Write(body)
	_ = sw.Close()
	zw := zlib.NewWriter(&zl)
	_, _ = zw.Write(body)
	_ = zw.Close()
	for _, enc := range []struct {
		name string
		body []byte
	}{
		{"", body},
		{"gzip", gzipped(body)},
		{"zstd", zstdEnc.EncodeAll(body, nil)},
		{"snappy", snappy.Encode(nil, body)},
		{"x-snappy-framed", framed.Bytes()},
		{"deflate", zl.Bytes()},
	} {
		resp, b := post(t, c, h.httpURL(), protobufType, enc.body, "Content-Encoding", enc.name)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("Content-Encoding %q: %s %q", enc.name, resp.Status, b)
		}
	}
	if got := flowEvents(h.app)["checkout"][0]; got != 12 {
		t.Errorf("checkout events = %d, want 12", got)
	}
}

// rawCodec sends bytes as they are, to send what no client would.
type rawClientCodec struct{}

func (rawClientCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawClientCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawClientCodec) Name() string { return "proto" }

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func exportRaw(conn *grpc.ClientConn, req []byte, opts ...grpc.CallOption) ([]byte, error) {
	var resp []byte
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := conn.Invoke(ctx, exportMethod, &req, &resp, append(opts, grpc.ForceCodec(rawClientCodec{}))...)
	return resp, err
}

func TestGRPC(t *testing.T) {
	h := start(t, setup{cfg: func(c *Config) {
		c.Protocols.GRPC.Get().MaxRecvMsgSizeMiB = 1
	}})
	conn := dial(t, h.grpcAddr())
	client := ptraceotlp.NewGRPCClient(conn)
	for _, comp := range []string{"", "gzip", "zstd", "snappy"} {
		var opts []grpc.CallOption
		if comp != "" {
			opts = append(opts, grpc.UseCompressor(comp))
		}
		resp, err := client.Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(checkout(2, 1)), opts...)
		if err != nil {
			t.Fatalf("compression %q: %v", comp, err)
		}
		if resp.PartialSuccess().RejectedSpans() != 0 {
			t.Errorf("compression %q: partial success %v", comp, resp.PartialSuccess().ErrorMessage())
		}
	}
	if got := flowEvents(h.app)["checkout"]; got != [2]uint64{8, 4} {
		t.Errorf("checkout = %v, want 8 events, 4 errors", got)
	}

	b, err := exportRaw(conn, invalidSpans(t, false))
	if err != nil {
		t.Fatal(err)
	}
	er := ptraceotlp.NewExportResponse()
	if err := er.UnmarshalProto(b); err != nil || er.PartialSuccess().RejectedSpans() != 2 {
		t.Errorf("partial: %v, %d rejected %q", err, er.PartialSuccess().RejectedSpans(), er.PartialSuccess().ErrorMessage())
	}

	_, err = exportRaw(conn, []byte{0x0a, 0x05, 0x0a})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("malformed: %v, want InvalidArgument", err)
	}
	_, err = exportRaw(conn, make([]byte, 2<<20))
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("over max_recv_msg_size_mib: %v, want ResourceExhausted", err)
	}
	for outcome, want := range map[string]float64{"accepted": 4, "partial": 1, "malformed": 1} {
		if got := metric(t, h.app, `burnwatch_receiver_requests_total{transport="grpc",outcome="`+outcome+`"}`); got != want {
			t.Errorf("grpc %s = %v, want %v", outcome, got, want)
		}
	}
}

// TestBackPressure: while the App refuses batches (storage not durable
// under acknowledge: durable), senders are told to retry later, and
// nothing is counted.
func TestBackPressure(t *testing.T) {
	blocked := filepath.Join(t.TempDir(), "file")
	if err := writeFile(blocked); err != nil {
		t.Fatal(err)
	}
	h := start(t, setup{ext: func(c *burnwatchextension.Config) {
		c.Storage.Directory = filepath.Join(blocked, "data")
		c.Storage.Acknowledge = app.AckDurable
	}})
	for _, isJSON := range []bool{false, true} {
		resp, body := post(t, client(t), h.httpURL(), contentType(isJSON), encode(t, checkout(2, 0), isJSON))
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" {
			t.Errorf("%s: %s, Retry-After %q", describe(isJSON), resp.Status, resp.Header.Get("Retry-After"))
		}
		st := decodeStatus(t, body, isJSON)
		if st.GetCode() != int32(codes.Unavailable) || len(st.GetDetails()) != 1 {
			t.Errorf("%s: status %v", describe(isJSON), st)
		}
	}
	_, err := exportRaw(dial(t, h.grpcAddr()), encode(t, checkout(2, 0), false))
	st := status.Convert(err)
	if st.Code() != codes.Unavailable {
		t.Fatalf("grpc: %v, want Unavailable", err)
	}
	var delay time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			delay = ri.GetRetryDelay().AsDuration()
		}
	}
	if delay != retryAfter {
		t.Errorf("grpc: retry delay %v, want %v", delay, retryAfter)
	}
	if got := metric(t, h.app, `burnwatch_spans_received_total`); got != 0 {
		t.Errorf("spans received = %v, want none counted", got)
	}
	if got := metric(t, h.app, `burnwatch_receiver_requests_total{transport="http",outcome="refused"}`); got != 2 {
		t.Errorf("http refused = %v, want 2", got)
	}
}

// TestForward: with forward: true the request goes on unchanged, as
// pdata; the pipeline's errors go back to the sender as the otlp receiver
// sends them.
func TestForward(t *testing.T) {
	sink := new(consumertest.TracesSink)
	h := start(t, setup{cfg: func(c *Config) { c.Forward = true }, next: sink})
	body := encode(t, checkout(3, 0), false)
	if resp, b := post(t, client(t), h.httpURL(), protobufType, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %q", resp.Status, b)
	}
	if len(sink.AllTraces()) != 1 {
		t.Fatalf("forwarded %d requests, want 1", len(sink.AllTraces()))
	}
	if got := encode(t, sink.AllTraces()[0], false); !bytes.Equal(got, body) {
		t.Errorf("forwarded traces differ from the request")
	}
	if got := flowEvents(h.app)["checkout"][0]; got != 3 {
		t.Errorf("checkout = %d, want 3: forwarding counts too", got)
	}
	// pdata cannot hold a 3-byte trace id: a request that cannot be
	// shipped is refused whole.
	if resp, b := post(t, client(t), h.httpURL(), protobufType, invalidSpans(t, false)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unshippable: %s %q", resp.Status, b)
	}

	for _, c := range []struct {
		err  error
		want int
	}{
		{errors.New("backend down"), http.StatusServiceUnavailable},
		{consumererror.NewPermanent(errors.New("rejected")), http.StatusInternalServerError},
	} {
		h := start(t, setup{cfg: func(cfg *Config) { cfg.Forward = true }, next: consumertest.NewErr(c.err)})
		if resp, b := post(t, client(t), h.httpURL(), protobufType, body); resp.StatusCode != c.want {
			t.Errorf("next fails with %v: %s %q, want %d", c.err, resp.Status, b, c.want)
		}
		if got := flowEvents(h.app)["checkout"][0]; got != 0 {
			t.Errorf("next fails with %v: %d events counted, want none (the sender retries)", c.err, got)
		}
	}
}

// TestNoForward: off, nothing goes down the pipeline.
func TestNoForward(t *testing.T) {
	h := start(t, setup{})
	post(t, client(t), h.httpURL(), protobufType, encode(t, checkout(1, 0), false))
	if n := len(h.sink.AllTraces()); n != 0 {
		t.Errorf("%d requests forwarded, want none", n)
	}
}
