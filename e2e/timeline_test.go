package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
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

// The acceptance tests of routing, grouping, inhibition, silences and
// maintenance windows follow Alertmanager's (test/with_api_v2): the real
// daemon gets spans at fixed moments of a timeline, and each receiver
// expects each notification between two moments and exactly the expected
// ones: one more fails the test.
//
// Each SLO has a flow of its own, so a test breaks and heals SLOs one by
// one. Their tiers share a 1 m long and a 2 s short window (target 99%:
// the page fires above 14.4% errors, the ticket above 2%), so:
//   - a tier may fire 1 s after the daemon first evaluates its SLO (its
//     warm-up, long/60); waitWarm waits for that before a timeline starts;
//   - 20 failing spans fire both tiers at the next evaluation (250 ms), and
//     they keep firing while the flow is quiet (an empty short window is no
//     evidence of recovery);
//   - 100 good spans end the outage: both windows' condition stops holding
//     at the next evaluation, and the tiers resolve after their hold (the
//     short window, 2 s);
//   - 90 good and 10 failing spans burn 10x in the short window: the page
//     stops holding and resolves after its hold, the ticket keeps firing.
const (
	pageTier   = "{name: page, severity: page, long: 1m, short: 2s, factor: 14.4}"
	ticketTier = "{name: ticket, severity: ticket, long: 1m, short: 2s, factor: 2}"
	// tierHold is the tiers' hold: a resolution comes at least this long
	// after the spans that end the outage.
	tierHold = 2 * time.Second
	// notifyWithin bounds how long after its cause a notification may
	// come: an evaluation (250 ms), delivery, and slack for a loaded
	// machine.
	notifyWithin = 1500 * time.Millisecond
)

// acceptanceSLO is an SLO on a flow of the same name, whose spans have the
// http.route "/"+name.
type acceptanceSLO struct {
	name string
	// labels are metadata.labels as a YAML flow mapping ("{team: x}"), or
	// empty.
	labels string
	tiers  []string
}

// acceptanceSpecs writes the spec file of slos.
func acceptanceSpecs(slos ...acceptanceSLO) string {
	var b strings.Builder
	for _, s := range slos {
		meta := "{name: " + s.name + "}"
		if s.labels != "" {
			meta = fmt.Sprintf("{name: %s, labels: %s}", s.name, s.labels)
		}
		fmt.Fprintf(&b, `---
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: %[1]s}
spec:
  match: [{attribute: http.route, equals: /%[1]s}]
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: %[2]s
spec:
  flow: %[1]s
  target: 99
  period: 2h
  alerting: {min_events: 10, tiers: [%[3]s]}
`, s.name, meta, strings.Join(s.tiers, ", "))
	}
	return b.String()
}

// flowSpans makes good successful and bad failing server spans of the flow
// name, ending now.
func flowSpans(name string, good, bad int) []sdktrace.ReadOnlySpan {
	res := resource.NewSchemaless(attribute.String("service.name", "shop"))
	now := time.Now()
	out := make([]sdktrace.ReadOnlySpan, 0, good+bad)
	for i := 0; i < good+bad; i++ {
		var tid trace.TraceID
		var sid trace.SpanID
		for j := range tid {
			tid[j] = byte(rand.Uint32())
		}
		for j := range sid {
			sid[j] = byte(rand.Uint32())
		}
		code, status := 200, sdktrace.Status{Code: codes.Ok}
		if i >= good {
			code, status = 500, sdktrace.Status{Code: codes.Error, Description: "down"}
		}
		out = append(out, tracetest.SpanStub{
			Name:                 "GET /" + name,
			SpanContext:          trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}),
			SpanKind:             trace.SpanKindServer,
			StartTime:            now.Add(-20 * time.Millisecond),
			EndTime:              now,
			Attributes:           []attribute.KeyValue{attribute.String("http.route", "/"+name), attribute.Int("http.response.status_code", code)},
			Status:               status,
			Resource:             res,
			InstrumentationScope: instrumentation.Scope{Name: "acceptance"},
		}.Snapshot())
	}
	return out
}

// outageSpans and recoverySpans are the span batches that fire and resolve an SLO's
// tiers (see pageTier).
func outageSpans(name string) []sdktrace.ReadOnlySpan   { return flowSpans(name, 0, 20) }
func recoverySpans(name string) []sdktrace.ReadOnlySpan { return flowSpans(name, 100, 0) }

// waitWarm polls the daemon's status API until every tier of its SLOs has
// warmed up (the engine counts a tier's warm-up from its first evaluation
// of the SLO), so that a timeline that starts after it sees a tier fire at
// the first evaluation that counts its spans.
func waitWarm(t *testing.T, d *daemon, slos int) {
	t.Helper()
	var last string
	ok := waitUntil(time.Now().Add(10*time.Second), func() bool {
		resp, err := http.Get("http://" + d.metrics + "/api/v1/slos")
		if err != nil {
			last = err.Error()
			return false
		}
		defer resp.Body.Close()
		var list struct {
			SLOs []struct {
				Name  string `json:"name"`
				Tiers []struct {
					Name  string `json:"name"`
					State string `json:"state"`
				} `json:"tiers"`
			} `json:"slos"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			last = err.Error()
			return false
		}
		last = fmt.Sprintf("%+v", list.SLOs)
		if len(list.SLOs) != slos {
			return false
		}
		for _, s := range list.SLOs {
			for _, tier := range s.Tiers {
				if tier.State == "warming_up" {
					return false
				}
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("the daemon's %d SLOs did not warm up within 10 s; last status: %s", slos, last)
	}
}

// timeline is a test's schedule on the wall clock, which the real daemon
// runs on: zero is when it starts, at waits for a moment of it, and each
// receiver expects notifications within windows of it.
type timeline struct {
	t         *testing.T
	zero      time.Time
	receivers []*expectations
}

// expectations are what one receiver (a sink) must get, and nothing else.
type expectations struct {
	name string
	sink *sink
	want []expected
}

// expected is one notification a receiver must get between from and to
// after the timeline's zero.
type expected struct {
	from, to time.Duration
	note
}

// note is what a notification says, as tests compare it: its status, its
// group key ("" in an expectation: any) and the set of its alerts as
// slo/tier/status.
type note struct {
	status, groupKey string
	alerts           []string
}

func (n note) String() string {
	return fmt.Sprintf("%s %s [%s]", n.status, n.groupKey, strings.Join(n.alerts, " "))
}

func noteOf(p webhookPayload) note {
	n := note{status: p.Status, groupKey: p.GroupKey}
	for _, a := range p.Alerts {
		n.alerts = append(n.alerts, a.Labels["slo"]+"/"+a.Labels["tier"]+"/"+a.Status)
	}
	slices.Sort(n.alerts)
	return n
}

// matches says whether got is the notification e expects.
func (e expected) matches(got note, at time.Duration) bool {
	return at >= e.from && at <= e.to && got.status == e.status &&
		(e.groupKey == "" || got.groupKey == e.groupKey) && slices.Equal(got.alerts, e.alerts)
}

// startTimeline makes the timeline's zero now.
func startTimeline(t *testing.T) *timeline { return &timeline{t: t, zero: time.Now()} }

// now is how far the timeline has got.
func (tl *timeline) now() time.Duration { return time.Since(tl.zero) }

// at waits until the timeline reaches d: the next step of the schedule.
// The daemon has no clock a test could move; its evaluations, windows and
// holds pass on the wall clock, so the schedule does too.
func (tl *timeline) at(d time.Duration) {
	if left := time.Until(tl.zero.Add(d)); left > 0 {
		time.Sleep(left) // the schedule's next moment on the daemon's own (wall) clock
	}
}

// receiver registers a receiver whose notifications the timeline checks.
func (tl *timeline) receiver(name string, s *sink) *expectations {
	r := &expectations{name: name, sink: s}
	tl.receivers = append(tl.receivers, r)
	return r
}

// expect adds a notification the receiver must get between from and to:
// with status, group key (empty: any) and exactly these alerts, each
// "slo/tier/status".
func (r *expectations) expect(from, to time.Duration, status, groupKey string, alerts ...string) {
	a := slices.Clone(alerts)
	slices.Sort(a)
	r.want = append(r.want, expected{from: from, to: to, note: note{status: status, groupKey: groupKey, alerts: a}})
}

// got is a receiver's notifications so far, with their moment on the
// timeline.
func (tl *timeline) got(r *expectations) ([]note, []time.Duration) {
	var notes []note
	var ats []time.Duration
	for _, d := range r.sink.payloads() {
		notes = append(notes, noteOf(d.payload))
		ats = append(ats, d.at.Sub(tl.zero))
	}
	return notes, ats
}

// assign matches expectations to notifications one to one, as many as
// possible (augmenting paths: a notification that fits two expectations
// goes where it leaves the others matched). It returns, per expectation,
// the index of its notification or -1.
func assign(want []expected, notes []note, ats []time.Duration) []int {
	byNote := make([]int, len(notes))
	for i := range byNote {
		byNote[i] = -1
	}
	var try func(w int, seen []bool) bool
	try = func(w int, seen []bool) bool {
		for n := range notes {
			if seen[n] || !want[w].matches(notes[n], ats[n]) {
				continue
			}
			seen[n] = true
			if byNote[n] < 0 || try(byNote[n], seen) {
				byNote[n] = w
				return true
			}
		}
		return false
	}
	for w := range want {
		try(w, make([]bool, len(notes)))
	}
	byWant := make([]int, len(want))
	for i := range byWant {
		byWant[i] = -1
	}
	for n, w := range byNote {
		if w >= 0 {
			byWant[w] = n
		}
	}
	return byWant
}

// done says whether every receiver got every expected notification.
func (tl *timeline) done() bool {
	for _, r := range tl.receivers {
		notes, ats := tl.got(r)
		if slices.Contains(assign(r.want, notes, ats), -1) {
			return false
		}
	}
	return true
}

// finish waits until every expected notification came or the last window
// closed, listens quiet longer (at least until the last window opened) for
// notifications that must not come, and then fails the test for each
// expected notification that did not come within its window and for each
// notification nobody expected.
func (tl *timeline) finish(quiet time.Duration) {
	tl.t.Helper()
	var last, lastFrom time.Duration
	for _, r := range tl.receivers {
		for _, w := range r.want {
			last, lastFrom = max(last, w.to), max(lastFrom, w.from)
		}
	}
	waitUntil(tl.zero.Add(last), tl.done)
	tl.at(max(tl.now()+quiet, lastFrom+quiet))
	for _, r := range tl.receivers {
		notes, ats := tl.got(r)
		byWant := assign(r.want, notes, ats)
		used := make([]bool, len(notes))
		failed := false
		for w, n := range byWant {
			if n < 0 {
				failed = true
				tl.t.Errorf("receiver %s: missing %v between %v and %v", r.name, r.want[w].note,
					r.want[w].from.Round(time.Millisecond), r.want[w].to.Round(time.Millisecond))
				continue
			}
			used[n] = true
		}
		for n, u := range used {
			if !u {
				failed = true
				tl.t.Errorf("receiver %s: unexpected %v at %v", r.name, notes[n], ats[n].Round(time.Millisecond))
			}
		}
		if failed || testing.Verbose() {
			for n := range notes {
				tl.t.Logf("receiver %s got at %v: %v", r.name, ats[n].Round(time.Millisecond), notes[n])
			}
		}
	}
}

// amAlert is an alert as /api/v2/alerts gives it (Burnwatch's or a real
// Alertmanager's).
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Fingerprint string            `json:"fingerprint"`
	Receivers   []struct {
		Name string `json:"name"`
	} `json:"receivers"`
	Status struct {
		State       string   `json:"state"`
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// amAlerts gets base's /api/v2/alerts, with query (e.g. "filter=...").
func amAlerts(t *testing.T, base, query string) []amAlert {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/api/v2/alerts: %s", base, resp.Status)
	}
	var out []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET %s/api/v2/alerts: %v", base, err)
	}
	return out
}

// findAlert returns the alert of slo and tier in as.
func findAlert(as []amAlert, slo, tier string) (amAlert, bool) {
	for _, a := range as {
		if a.Labels["slo"] == slo && a.Labels["tier"] == tier {
			return a, true
		}
	}
	return amAlert{}, false
}

// hookReceivers writes alerting receivers: one webhook per name, to its
// sink.
func hookReceivers(sinks map[string]*sink) string {
	var b strings.Builder
	b.WriteString("      receivers:\n")
	for _, name := range slices.Sorted(maps.Keys(sinks)) {
		fmt.Fprintf(&b, "        - {name: %s, webhook: {url: %q}}\n", name, sinks[name].url("/hook"))
	}
	return b.String()
}
