package e2e

import (
	"fmt"
	"math/rand/v2"
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

// The time-slice SLO of these tests: p99 of checkout at most 300ms on
// 99.5% of its one-minute slices, with the default 30-day tiers.
const sliceSpecs = `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: checkout}
spec:
  match: [{attribute: http.route, equals: /checkout}]
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-p99}
spec:
  flow: checkout
  objective: {type: percentile, percentile: 99, threshold: 300ms, slice: 1m}
  target: 99.5
`

// slicePageTier is a default 30-day page tier as docs/spec.md gives it, with
// its default warm-up (long / 60, at most short), in minutes of slices.
type slicePageTier struct {
	name          string
	long, short   int
	factor        float64
	warmUpMinutes int
}

var slicePageTiers = []slicePageTier{
	{"page-fast", 60, 5, 14.4, 1},
	{"page-slow", 360, 30, 6, 6},
}

// firstPage is the end of the first slice (in minutes since the daemon
// started) at which a page tier's condition holds by the SLO's own
// arithmetic, given each minute's verdict: a window of w minutes holds the
// last w judged slices; a tier holds when both its windows' bad shares
// exceed factor × 0.5% and it has warmed up. -1 if none holds.
func firstPage(bad []bool) (minute int, tier string) {
	for end := 1; end <= len(bad); end++ {
		for _, pt := range slicePageTiers {
			if end < pt.warmUpMinutes {
				continue
			}
			share := func(w int) float64 {
				from := max(0, end-w)
				n := 0
				for _, b := range bad[from:end] {
					if b {
						n++
					}
				}
				return float64(n) / float64(end-from)
			}
			limit := pt.factor * 0.005
			if share(pt.long) > limit && share(pt.short) > limit {
				return end, pt.name
			}
		}
	}
	return -1, ""
}

// sliceRun feeds a daemon on a fast clock spans minute by minute, slow in
// the minutes plan marks bad, and returns the clock and the webhook.
type sliceRun struct {
	t     *testing.T
	t0    time.Time // the plan's minute 0
	clock *fastClock
	d     *daemon
	hook  *webhook
	exp   *exporter
	rng   *rand.Rand
}

// speed is how many times faster than the wall clock the daemon's clock
// runs: a minute-long slice takes a quarter of a second.
const speed = 240

func startSliceRun(t *testing.T) *sliceRun {
	// The plan starts on a whole minute, so slices are its minutes. The
	// daemon's clock starts five minutes earlier, so that the daemon
	// listens before minute 0 (a second of wall time is four minutes
	// here); the empty slices it judges meanwhile count as good, and the
	// plans below hold whether there are none of them or a dozen.
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	hook := newWebhook(t)
	clock := newFastClock(t0.Add(-5*time.Minute), speed)
	d := startDaemonWith(t, &daemonConfig{specs: sliceSpecs, webhook: hook.URL, clock: clock, evaluation: "10s"})
	if now := clock.now(); !now.Before(t0) {
		t.Fatalf("the daemon took until %s of its clock to listen, after the plan's start %s", now.Format(time.TimeOnly), t0.Format(time.TimeOnly))
	}
	return &sliceRun{t: t, t0: t0, clock: clock, d: d, hook: hook, exp: newExporter(t, d.grpc), rng: rand.New(rand.NewPCG(7, 11))}
}

// play sends two requests a second of clock time, in batches every five
// seconds as the clock passes them, for minutes [from, to) of bad.
func (r *sliceRun) play(bad []bool, from, to int) {
	r.t.Helper()
	origin := r.t0
	res := resource.NewSchemaless(attribute.String("service.name", "shop"))
	const step = 5 * time.Second
	for at := origin.Add(time.Duration(from) * time.Minute).Add(step); !at.After(origin.Add(time.Duration(to) * time.Minute)); at = at.Add(step) {
		r.clock.until(at)
		minute := int(at.Add(-time.Nanosecond).Sub(origin) / time.Minute)
		spans := make([]sdktrace.ReadOnlySpan, 0, 10)
		for i := range 10 {
			end := at.Add(-time.Duration(i+1) * step / 10)
			d := time.Duration(40+r.rng.IntN(100)) * time.Millisecond
			if bad[minute] {
				d = 500 * time.Millisecond
			}
			var tid trace.TraceID
			var sid trace.SpanID
			for j := range tid {
				tid[j] = byte(r.rng.Uint32())
			}
			sid[0], sid[1] = byte(minute), byte(i+1)
			spans = append(spans, tracetest.SpanStub{
				Name:                 "POST /checkout",
				SpanContext:          trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}),
				SpanKind:             trace.SpanKindServer,
				StartTime:            end.Add(-d),
				EndTime:              end,
				Attributes:           []attribute.KeyValue{attribute.String("http.route", "/checkout"), attribute.Int("http.response.status_code", 200)},
				Status:               sdktrace.Status{Code: codes.Ok},
				Resource:             res,
				InstrumentationScope: instrumentation.Scope{Name: "timeslice"},
			}.Snapshot())
		}
		r.exp.send(r.t, spans)
	}
}

// pages returns the clock time of each page notification so far, by tier.
func (r *sliceRun) pages() map[string][]time.Time {
	out := map[string][]time.Time{}
	for _, a := range r.hook.alerts() {
		if a.labels["severity"] == "page" && a.status == "firing" {
			// The webhook stamped the wall time; map it onto the clock.
			at := r.clock.origin.Add(time.Duration(float64(a.at.Sub(r.clock.start)) * r.clock.speed))
			out[a.tier] = append(out[a.tier], at)
		}
	}
	return out
}

// expectPage checks that the first page, of any page tier, arrived within
// one slice after the end of minute want (and not before it); tier is the
// one the arithmetic names, for the messages.
func (r *sliceRun) expectPage(want int, tier string) {
	r.t.Helper()
	from := r.t0.Add(time.Duration(want) * time.Minute)
	to := from.Add(time.Minute)
	r.clock.until(to)
	// The page is sent within the slice; wait a little longer on the wall
	// clock only to tell "late" from "never" in the message.
	r.hook.waitFor(time.Now().Add(2*time.Second), func([]alertEvent) bool { return len(r.pages()) > 0 })
	var first time.Time
	for _, ats := range r.pages() {
		if first.IsZero() || ats[0].Before(first) {
			first = ats[0]
		}
	}
	r.t.Logf("first page at %s; the %s condition holds from %s (end of minute %d)", first.Format(time.TimeOnly), tier, from.Format(time.TimeOnly), want)
	switch {
	case first.IsZero():
		r.t.Fatalf("no page; the %s condition holds at the end of minute %d (clock %s)", tier, want, from.Format(time.TimeOnly))
	case first.Before(from):
		r.t.Errorf("paged at %s, before the condition holds at %s (end of minute %d)", first.Format(time.TimeOnly), from.Format(time.TimeOnly), want)
	case first.After(to):
		r.t.Errorf("paged at %s, more than a slice after the condition holds at %s (end of minute %d)", first.Format(time.TimeOnly), from.Format(time.TimeOnly), want)
	}
}

// A daemon started three minutes before a sustained breach pages within a
// slice of the moment its page tier's condition first holds: on a window
// this young that is the end of the first bad minute (1 of 4 slices), not
// after some count of bad slices.
func TestTimeSliceYoungWindowPagesAtFirstBadMinute(t *testing.T) {
	t.Parallel()
	r := startSliceRun(t)
	bad := make([]bool, 8)
	for m := 3; m < len(bad); m++ {
		bad[m] = true
	}
	want, tier := firstPage(bad)
	if want != 4 || tier != "page-fast" {
		t.Fatalf("the arithmetic says minute %d by %s; the plan meant the end of minute 4 by page-fast", want, tier)
	}
	r.play(bad, 0, want)
	r.expectPage(want, tier)
}

// With 40 minutes of slices held, one bad minute among good ones does not
// page (1 of 41 is under page-slow's 3%, and page-fast needs more than 4
// of an hour); a sustained breach later pages within a slice of the end of
// the minute at which the arithmetic says a page tier holds.
func TestTimeSliceSingleBadMinuteDoesNotPage(t *testing.T) {
	t.Parallel()
	r := startSliceRun(t)
	bad := make([]bool, 62)
	bad[40] = true
	quietUntil := 52
	for m := quietUntil; m < len(bad); m++ {
		bad[m] = true
	}
	if m, tier := firstPage(bad[:quietUntil]); m != -1 {
		t.Fatalf("the plan is wrong: %s holds at minute %d before the breach", tier, m)
	}
	want, tier := firstPage(bad)
	r.play(bad, 0, quietUntil)
	// Every slice up to the breach has been judged by now: nothing paged.
	r.clock.until(r.t0.Add(time.Duration(quietUntil)*time.Minute + 30*time.Second))
	if p := r.pages(); len(p) > 0 {
		t.Fatalf("paged on a single bad minute among good ones: %v", fmt.Sprint(p))
	}
	r.play(bad, quietUntil, want)
	r.expectPage(want, tier)
}
