package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/alerting"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is an httptest Alertmanager: it answers each request with the
// next scripted response (then 200) and keeps what it received. It uses a
// mutex rather than channels so it can serve a synctest bubble.
type recorder struct {
	mu        sync.Mutex
	responses []func(http.ResponseWriter)
	requests  []recorded
}

type recorded struct {
	path   string
	header http.Header
	body   []byte
	status int
	at     time.Time
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	status := http.StatusOK
	if len(r.responses) > 0 {
		var respond func(http.ResponseWriter)
		respond, r.responses = r.responses[0], r.responses[1:]
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		respond(sw)
		status = sw.status
	}
	r.requests = append(r.requests, recorded{path: req.URL.Path, header: req.Header.Clone(), body: body, status: status, at: time.Now()})
}

func (r *recorder) Requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.requests...)
}

// Delivered are the requests answered 200.
func (r *recorder) Delivered() []recorded {
	var out []recorded
	for _, req := range r.Requests() {
		if req.status == http.StatusOK {
			out = append(out, req)
		}
	}
	return out
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// respond answers with code, header and body.
func respond(code int, header map[string]string, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// alerts decodes a payload.
func alerts(t *testing.T, body []byte) []postableAlert {
	t.Helper()
	var out []postableAlert
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("payload %s: %v", body, err)
	}
	return out
}

// pipeNet is an in-memory network for a synctest bubble, one listener per
// host: goroutines blocked on a loopback socket are not durably blocked, so
// the bubble's clock would never advance; net.Pipe blocks on channels,
// which are. (As in package webhook's outbox test, with hosts.)
type pipeNet struct {
	listeners map[string]*pipeListener
}

type pipeListener struct {
	addr  string
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr(l.addr) }

type pipeAddr string

func (pipeAddr) Network() string  { return "pipe" }
func (a pipeAddr) String() string { return string(a) }

func (n *pipeNet) DialContext(ctx context.Context, _, addr string) (net.Conn, error) {
	l, ok := n.listeners[addr]
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: "pipe", Err: &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}}
	}
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// serveBubble starts an httptest server per host ("am-0:9093") on a pipe
// network inside the calling synctest bubble, and returns the recorders and
// a client for the network. Everything is closed when the test ends.
func serveBubble(t *testing.T, hosts map[string]http.Handler) *http.Client {
	t.Helper()
	n := &pipeNet{listeners: map[string]*pipeListener{}}
	for host, h := range hosts {
		l := &pipeListener{addr: host, conns: make(chan net.Conn), done: make(chan struct{})}
		n.listeners[host] = l
		srv := httptest.NewUnstartedServer(h)
		srv.Listener.Close() // the real socket it opened; the pipe replaces it
		srv.Listener = l
		srv.Start()
		t.Cleanup(srv.Close)
	}
	tr := &http.Transport{DialContext: n.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// newPusher is NewWithOptions failing the test on error; the pusher is
// closed when the test ends.
func newPusher(t *testing.T, cfg Config, client *http.Client, opts Options) *Pusher {
	t.Helper()
	p, err := NewWithOptions(cfg, client, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// attempts collects what OnAttempt reports.
type attempts struct {
	mu  sync.Mutex
	all []Attempt
}

func (a *attempts) add(at Attempt) {
	a.mu.Lock()
	a.all = append(a.all, at)
	a.mu.Unlock()
}

func (a *attempts) of(url string) []Attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Attempt
	for _, at := range a.all {
		if at.URL == url {
			out = append(out, at)
		}
	}
	return out
}

// find returns the alert of payload with tier, or nil.
func find(payload []postableAlert, tier string) *postableAlert {
	for i := range payload {
		if payload[i].Labels[alerting.LabelTier] == tier {
			return &payload[i]
		}
	}
	return nil
}

// checkGolden compares body, indented, with testdata/name (-update
// rewrites it).
func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	got := buf.Bytes()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("payload differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}
