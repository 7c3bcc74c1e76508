package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// sink is a real HTTP receiver on a fixed address, as a webhook endpoint or
// PagerDuty's Events API (paths under /v2/enqueue answer 202) sees
// deliveries: it records every request and answers as its current reply
// says. It can go down (nothing listens: connections are refused) and come
// back on the same address.
type sink struct {
	t    *testing.T
	addr string

	// mu guards everything below.
	mu   sync.Mutex
	srv  *http.Server
	gone chan struct{} // closed when srv goes down: hanging answers end
	// reply decides the answer to the n-th request (from 1).
	reply func(n int, r *http.Request) answer
	reqs  []request
	// arrived gets a value per request, without blocking.
	arrived chan struct{}
}

// answer is how the sink answers one request.
type answer struct {
	status int
	header map[string]string
	body   string
	// hang holds the request open without answering until the client
	// gives up or the sink goes down.
	hang bool
}

// request is one request as the sink saw it.
type request struct {
	at     time.Time
	uri    string // path and query
	header http.Header
	body   []byte
	// status is the answer's status; 0 when it hung.
	status int
}

func (r request) delivered() bool { return r.status >= 200 && r.status < 300 }

// accept is the healthy answer: 202 with PagerDuty's body on /v2/enqueue,
// 200 elsewhere.
func accept(_ int, r *http.Request) answer {
	if strings.HasPrefix(r.URL.Path, "/v2/enqueue") {
		return answer{status: http.StatusAccepted, header: map[string]string{"Content-Type": "application/json"},
			body: `{"status":"success","message":"Event processed"}`}
	}
	return answer{status: http.StatusOK}
}

// failWith answers every request with status and a short body.
func failWith(status int, header map[string]string) func(int, *http.Request) answer {
	return func(int, *http.Request) answer {
		return answer{status: status, header: header, body: "sink: failing on purpose"}
	}
}

func hang(int, *http.Request) answer { return answer{hang: true} }

// newSink starts a sink on a free loopback port that accepts everything.
func newSink(t *testing.T) *sink {
	s := newSinkDown(t)
	s.up()
	return s
}

// newSinkDown returns a sink whose address nothing listens on yet.
func newSinkDown(t *testing.T) *sink {
	s := &sink{t: t, addr: freeAddr(t), reply: accept, arrived: make(chan struct{}, 10000)}
	t.Cleanup(s.down)
	return s
}

// url is the sink's URL for path.
func (s *sink) url(path string) string { return "http://" + s.addr + path }

// set changes how the sink answers from the next request on.
func (s *sink) set(reply func(int, *http.Request) answer) {
	s.mu.Lock()
	s.reply = reply
	s.mu.Unlock()
}

// up listens on the sink's address; a no-op while up.
func (s *sink) up() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return
	}
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", s.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the previous listener's socket is being released by the kernel
	}
	if err != nil {
		s.t.Fatalf("sink: listen again on %s: %v", s.addr, err)
	}
	s.srv, s.gone = &http.Server{Handler: s}, make(chan struct{})
	go func() { _ = s.srv.Serve(ln) }()
}

// down closes the listener and every connection: from now on connections
// are refused. A no-op while down.
func (s *sink) down() {
	s.mu.Lock()
	srv, gone := s.srv, s.gone
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		close(gone)
		_ = srv.Close()
	}
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	r.Body = io.NopCloser(bytes.NewReader(body)) // for a reply that quotes it
	s.mu.Lock()
	n := len(s.reqs) + 1
	a := s.reply(n, r)
	gone := s.gone
	s.reqs = append(s.reqs, request{at: time.Now(), uri: r.URL.RequestURI(), header: r.Header.Clone(), body: body, status: a.status})
	if a.hang {
		s.reqs[n-1].status = 0
	}
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	if a.hang {
		select {
		case <-r.Context().Done():
		case <-gone:
		}
		return
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

// requests returns a copy of every request so far.
func (s *sink) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.reqs...)
}

// waitFor waits until pred holds over the requests so far, or the deadline.
func (s *sink) waitFor(deadline time.Time, pred func([]request) bool) bool {
	for {
		if pred(s.requests()) {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		select {
		case <-s.arrived:
		case <-time.After(left):
		}
	}
}

// hookDelivery is one webhook payload the sink accepted.
type hookDelivery struct {
	at      time.Time
	id      string // X-Burnwatch-Delivery
	payload webhookPayload
}

// payloads decodes the webhook payloads the sink accepted (2xx), in
// arrival order.
func (s *sink) payloads() []hookDelivery {
	var out []hookDelivery
	for _, r := range s.requests() {
		if !r.delivered() {
			continue
		}
		var p webhookPayload
		if err := json.Unmarshal(r.body, &p); err != nil {
			s.t.Errorf("sink %s: an accepted body is not webhook JSON: %v", s.addr, err)
			continue
		}
		out = append(out, hookDelivery{at: r.at, id: r.header.Get("X-Burnwatch-Delivery"), payload: p})
	}
	return out
}

// firingSLOs is the set of SLOs some accepted webhook payload reported
// firing.
func (s *sink) firingSLOs() map[string]bool {
	out := map[string]bool{}
	for _, d := range s.payloads() {
		for _, a := range d.payload.Alerts {
			if a.Status == "firing" {
				out[a.Labels["slo"]] = true
			}
		}
	}
	return out
}

// pdEvent is one PagerDuty Events API v2 event the sink accepted.
type pdEvent struct {
	at         time.Time
	RoutingKey string `json:"routing_key"`
	Action     string `json:"event_action"`
	DedupKey   string `json:"dedup_key"`
	Payload    *struct {
		Timestamp     string `json:"timestamp"`
		CustomDetails struct {
			SLO  string `json:"slo"`
			Tier string `json:"tier"`
		} `json:"custom_details"`
	} `json:"payload"`
}

// events decodes the PagerDuty events the sink accepted, in arrival order.
func (s *sink) events() []pdEvent {
	var out []pdEvent
	for _, r := range s.requests() {
		if !r.delivered() {
			continue
		}
		var e pdEvent
		if err := json.Unmarshal(r.body, &e); err != nil {
			s.t.Errorf("sink %s: an accepted body is not a PagerDuty event: %v", s.addr, err)
			continue
		}
		e.at = r.at
		out = append(out, e)
	}
	return out
}

// waitUntil polls cond over a real process until it holds or the deadline
// passes; what says whether it held.
func waitUntil(deadline time.Time, cond func() bool) bool {
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond) // polling a real process, not standing in for a clock
	}
}

// readAll returns the contents of every regular file under dir, keyed by
// path relative to dir; zstd-compressed files (*.zst) are decompressed.
func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil // removed while walking: a compression finishing
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if strings.HasSuffix(path, ".zst") {
			dec, err := zstd.NewReader(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			b, err = io.ReadAll(dec)
			dec.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		}
		out[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// historyRecords are the records (not headers) of every alert history file
// under dir, plain or zstd-compressed, in file then line order.
func historyRecords(t *testing.T, dir string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for name, b := range readAll(t, dir) {
		if !strings.HasPrefix(filepath.Base(name), "alerts") {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("%s: a line that is not JSON: %q", name, sc.Text())
				continue
			}
			if m["type"] != "header" {
				out = append(out, m)
			}
		}
	}
	return out
}
