package pagerduty

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// routingKey is a made-up integration key, 32 characters as PagerDuty's
// are. It must never show in errors or formatted output.
const routingKey = "R0UT1NGk3ys3cr3t0123456789abcdef"

// receiver is an httptest PagerDuty: it answers each request with the next
// scripted response (then 202) and keeps the bodies it received.
type receiver struct {
	mu        sync.Mutex
	responses []func(http.ResponseWriter, []byte)
	bodies    [][]byte
	headers   []http.Header
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	var respond func(http.ResponseWriter, []byte)
	if len(r.responses) > 0 {
		respond, r.responses = r.responses[0], r.responses[1:]
	}
	r.bodies = append(r.bodies, body)
	r.headers = append(r.headers, req.Header.Clone())
	r.mu.Unlock()
	if respond == nil {
		respond = status(http.StatusAccepted, nil, `{"status":"success","message":"Event processed"}`)
	}
	respond(w, body)
}

func (r *receiver) Bodies() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

// status answers with code, header and body.
func status(code int, header map[string]string, body string) func(http.ResponseWriter, []byte) {
	return func(w http.ResponseWriter, _ []byte) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// serve starts a receiver answering with responses; it is closed when the
// test ends.
func serve(t *testing.T, responses ...func(http.ResponseWriter, []byte)) (*receiver, *httptest.Server) {
	t.Helper()
	r := &receiver{responses: responses}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

// newNotifier is New with the test routing key, failing the test on error.
func newNotifier(t *testing.T, cfg Config) *Notifier {
	t.Helper()
	if cfg.RoutingKey == "" {
		cfg.RoutingKey = routingKey
	}
	n, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// message wraps alerts in a notification without receiver templates.
func message(alerts ...alerting.Alert) *notify.Message {
	return notify.NewMessage(&alerting.Notification{ID: "n-test", Receiver: "pagerduty", Alerts: alerts}, nil)
}

// checkGolden compares the event bodies with testdata/name as an indented
// JSON array (-update rewrites it).
func checkGolden(t *testing.T, name string, bodies [][]byte) {
	t.Helper()
	events := make([]json.RawMessage, len(bodies))
	for i, b := range bodies {
		events[i] = b
	}
	got, err := json.MarshalIndent(events, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", name)
	if *update {
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
		t.Errorf("events differ from %s (go test -update rewrites it):\n%s", golden, got)
	}
}
