package alertmanager

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/alerting/notify/notifytest"
)

const am0, am1 = "am-0:9093", "am-1:9093"

// alertNow is notifytest.Alert started at the bubble's now, which is long
// before notifytest.T0: Alertmanager wants endsAt after startsAt.
func alertNow(tier string) alerting.Alert {
	a := notifytest.Alert(tier)
	a.StartsAt, a.LastEvaluated = time.Now(), time.Now()
	return a
}

// resolvedNow is notifytest.Resolved started and resolved at now.
func resolvedNow(tier string) alerting.Alert {
	a := notifytest.Resolved(tier)
	a.StartsAt, a.EndsAt = time.Now(), time.Now()
	return a
}

// TestGolden pushes a firing and a resolved alert and compares what
// Alertmanager receives with testdata/.
func TestGolden(t *testing.T) {
	t0 := notifytest.T0
	tests := []struct {
		golden      string
		externalURL string
		update      func(p *Pusher)
	}{
		{"firing.golden.json", "https://burnwatch.example.com/", func(p *Pusher) {
			p.Update(t0.Add(2*time.Minute), []alerting.Alert{notifytest.Alert("page-fast")}, nil)
		}},
		// Without external_url, generatorURL is the alert's dashboard.
		{"resolved.golden.json", "", func(p *Pusher) {
			p.Update(t0.Add(2*time.Minute), []alerting.Alert{notifytest.Alert("page-fast")}, nil)
			p.Update(t0.Add(10*time.Minute), nil, []alerting.Alert{notifytest.Resolved("page-fast")})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				client := serveBubble(t, map[string]http.Handler{am0: rec})
				p := newPusher(t, Config{URLs: []string{"http://" + am0}, ExternalURL: tt.externalURL}, client, Options{})
				tt.update(p)
				p.Start()
				synctest.Wait()
				if err := p.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				reqs := rec.Requests()
				if len(reqs) != 1 {
					t.Fatalf("got %d requests, want 1", len(reqs))
				}
				if reqs[0].path != "/api/v2/alerts" || reqs[0].header.Get("Content-Type") != "application/json" {
					t.Errorf("POST %s (%s), want /api/v2/alerts as JSON", reqs[0].path, reqs[0].header.Get("Content-Type"))
				}
				checkGolden(t, tt.golden, reqs[0].body)
			})
		})
	}
}

// TestHAOneFailing: of an HA pair, am-0 answers 503, then 429 with
// Retry-After, then recovers. am-1 gets the alert at once, and am-0 once
// it recovers, after its backoff and Retry-After.
func TestHAOneFailing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sick := &recorder{responses: []func(http.ResponseWriter){
			respond(http.StatusServiceUnavailable, nil, "unavailable"),
			respond(http.StatusTooManyRequests, map[string]string{"Retry-After": "5"}, "slow down"),
		}}
		healthy := &recorder{}
		client := serveBubble(t, map[string]http.Handler{am0: sick, am1: healthy})
		var rep attempts
		p := newPusher(t, Config{URLs: []string{"http://" + am0, "http://" + am1 + "/"}}, client, Options{OnAttempt: rep.add})
		p.Start()
		start := time.Now()
		p.Update(start, []alerting.Alert{alertNow("page-fast")}, nil)
		synctest.Wait()
		if got := healthy.Delivered(); len(got) != 1 || !got[0].at.Equal(start) {
			t.Fatalf("healthy Alertmanager got %d payloads, want 1 at once while the other fails", len(got))
		}

		time.Sleep(30 * time.Second)
		reqs := sick.Requests()
		if len(reqs) != 3 {
			t.Fatalf("failing Alertmanager got %d requests, want 3 (503, 429, 200)", len(reqs))
		}
		if gap := reqs[1].at.Sub(reqs[0].at); gap < 500*time.Millisecond || gap > time.Second {
			t.Errorf("retry %v after the 503, want the first backoff step, 0.5s to 1s", gap)
		}
		if gap := reqs[2].at.Sub(reqs[1].at); gap < 5*time.Second || gap > 6*time.Second {
			t.Errorf("retry %v after the 429, want its Retry-After of 5s", gap)
		}
		for name, rec := range map[string]*recorder{am0: sick, am1: healthy} {
			got := rec.Delivered()
			if len(got) != 1 {
				t.Fatalf("%s accepted %d payloads, want 1 (no resend within 1m)", name, len(got))
			}
			if a := find(alerts(t, got[0].body), "page-fast"); a == nil || !a.EndsAt.Equal(start.Add(4*time.Minute).UTC()) {
				t.Errorf("%s got %+v, want page-fast firing until 4 resend intervals on", name, a)
			}
		}

		st := p.Stats()
		if st[0].URL != "http://"+am0 || st[0].Sent != 1 || st[0].Failed != 2 || st[0].Rejected != 0 || !st[0].LastSuccess.Equal(reqs[2].at) {
			t.Errorf("stats of the failing one %+v", st[0])
		}
		if st[1].URL != "http://"+am1+"/" || st[1].Sent != 1 || st[1].Failed != 0 || !st[1].LastSuccess.Equal(start) {
			t.Errorf("stats of the healthy one %+v", st[1])
		}
		got := rep.of("http://" + am0)
		want := []notify.Outcome{notify.OutcomeRetry, notify.OutcomeRetry, notify.OutcomeDelivered}
		if len(got) != len(want) {
			t.Fatalf("reported %d attempts, want %d", len(got), len(want))
		}
		for i, a := range got {
			if a.Outcome != want[i] || a.Alerts != 1 {
				t.Errorf("attempt %d = %+v, want %s of 1 alert", i+1, a, want[i])
			}
		}
		if a := got[1]; a.Err == nil || !strings.Contains(a.Err.Error(), "429") || !a.NextAt.Equal(reqs[2].at) {
			t.Errorf("second attempt %v next %v, want the 429 and the next at %v", a.Err, a.NextAt, reqs[2].at)
		}
	})
}

// TestResend: without changes the set is sent every resend interval, with
// the numbers of the last evaluation; an annotation change waits for it, a
// label change does not.
func TestResend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		client := serveBubble(t, map[string]http.Handler{am0: rec})
		p := newPusher(t, Config{URLs: []string{"http://" + am0}}, client, Options{})
		p.Start()
		t0 := time.Now()
		a := alertNow("page-fast")
		p.Update(t0, []alerting.Alert{a}, nil)

		time.Sleep(10 * time.Second)
		a.Long.Burn = 42
		p.Update(time.Now(), []alerting.Alert{a}, nil)
		synctest.Wait()
		if n := len(rec.Requests()); n != 1 {
			t.Fatalf("%d requests after fresh numbers, want 1: annotations wait for the resend", n)
		}

		time.Sleep(3*time.Minute + 20*time.Second) // t0 + 3m30s
		reqs := rec.Requests()
		if len(reqs) != 4 {
			t.Fatalf("got %d requests by 3m30s, want 4 (0, 1m, 2m, 3m)", len(reqs))
		}
		for i, r := range reqs {
			if at := r.at.Sub(t0); at != time.Duration(i)*time.Minute {
				t.Errorf("request %d at %v, want %v", i+1, at, time.Duration(i)*time.Minute)
			}
		}
		resent := find(alerts(t, reqs[1].body), "page-fast")
		if resent == nil || !strings.Contains(resent.Annotations["burn_rate_long"], "42") || !resent.EndsAt.Equal(t0.Add(10*time.Second+4*time.Minute).UTC()) {
			t.Errorf("resend carries %+v, want the numbers of the evaluation at 10s and endsAt 4m after it", resent)
		}

		// A new label set is a new alert: it goes out at once, the old one
		// resolved.
		relabelled := a.Clone()
		relabelled.Labels["team"] = "checkout"
		now := time.Now()
		p.Update(now, []alerting.Alert{relabelled}, nil)
		synctest.Wait()
		reqs = rec.Requests()
		if len(reqs) != 5 || !reqs[4].at.Equal(now) {
			t.Fatalf("got %d requests, want the label change pushed at once", len(reqs))
		}
		var oldOne, newOne *postableAlert
		for _, pa := range alerts(t, reqs[4].body) {
			switch pa.Labels["team"] {
			case "payments":
				oldOne = &pa
			case "checkout":
				newOne = &pa
			}
		}
		if oldOne == nil || !oldOne.EndsAt.Equal(now.UTC()) || newOne == nil || !newOne.EndsAt.After(now) {
			t.Errorf("old label set %+v, new %+v: want the old resolved now and the new firing", oldOne, newOne)
		}
	})
}

// TestResolvedTTL: a resolved alert is pushed at once, then with every
// resend until resolved_ttl after it resolved; then it is dropped.
func TestResolvedTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		client := serveBubble(t, map[string]http.Handler{am0: rec})
		p := newPusher(t, Config{URLs: []string{"http://" + am0}, ResolvedTTL: 5 * time.Minute}, client, Options{})
		p.Start()
		t0 := time.Now()
		p.Update(t0, []alerting.Alert{alertNow("page-fast"), alertNow("page-slow")}, nil)
		time.Sleep(30 * time.Second)
		fast := resolvedNow("page-fast")
		fast.StartsAt, fast.EndsAt = t0, time.Now()
		// page-slow is missing from firing without a resolution: it is
		// taken as resolved now.
		p.Update(time.Now(), nil, []alerting.Alert{fast})
		time.Sleep(10 * time.Minute)

		reqs := rec.Requests()
		var at []time.Duration
		for _, r := range reqs {
			at = append(at, r.at.Sub(t0))
		}
		want := []time.Duration{0, 30 * time.Second, 90 * time.Second, 150 * time.Second, 210 * time.Second, 270 * time.Second, 330 * time.Second}
		if len(at) != len(want) {
			t.Fatalf("requests at %v, want %v: resolved alerts resent until 5m after 30s, then nothing", at, want)
		}
		for i := range want {
			if at[i] != want[i] {
				t.Fatalf("requests at %v, want %v", at, want)
			}
		}
		for _, r := range reqs[1:] {
			payload := alerts(t, r.body)
			for _, tier := range []string{"page-fast", "page-slow"} {
				a := find(payload, tier)
				if a == nil || !a.EndsAt.Equal(t0.Add(30*time.Second).UTC()) {
					t.Fatalf("request at %v has %s %+v, want it resolved at 30s", r.at.Sub(t0), tier, a)
				}
			}
			if a := find(payload, "page-fast"); !strings.Contains(a.Annotations["description"], "no longer burns") {
				t.Errorf("resolved alert's description %q, want the resolved text", a.Annotations["description"])
			}
		}
		if _, n, _, _ := p.snapshot(time.Now()); n != 0 {
			t.Errorf("%d alerts left after the TTL, want none", n)
		}
	})
}

// TestRejected: a 400 is reported and not retried; the next resend goes
// out as usual.
func TestRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{responses: []func(http.ResponseWriter){respond(http.StatusBadRequest, nil, `"start time must be before end time"`)}}
		client := serveBubble(t, map[string]http.Handler{am0: rec})
		var rep attempts
		p := newPusher(t, Config{URLs: []string{"http://" + am0}}, client, Options{OnAttempt: rep.add})
		p.Start()
		t0 := time.Now()
		p.Update(t0, []alerting.Alert{alertNow("page-fast")}, nil)
		time.Sleep(90 * time.Second)
		reqs := rec.Requests()
		if len(reqs) != 2 || reqs[1].at.Sub(t0) != time.Minute || reqs[1].status != http.StatusOK {
			t.Fatalf("got %d requests, want the rejected one and the resend a minute later", len(reqs))
		}
		got := rep.of("http://" + am0)
		if got[0].Outcome != notify.OutcomeFailed || got[0].Err == nil || !strings.Contains(got[0].Err.Error(), "400") {
			t.Errorf("first attempt %+v, want failed with the 400", got[0])
		}
		if st := p.Stats()[0]; st.Sent != 1 || st.Failed != 1 || st.Rejected != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestCloseSendsLastChange: a resolution just before Close still goes out.
func TestCloseSendsLastChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		client := serveBubble(t, map[string]http.Handler{am0: rec})
		p := newPusher(t, Config{URLs: []string{"http://" + am0}}, client, Options{})
		p.Start()
		p.Update(time.Now(), []alerting.Alert{alertNow("page-fast")}, nil)
		synctest.Wait()
		p.Update(time.Now(), nil, nil)
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatalf("second Close = %v", err)
		}
		reqs := rec.Requests()
		if len(reqs) != 2 {
			t.Fatalf("got %d requests, want the resolution sent on Close", len(reqs))
		}
		if a := find(alerts(t, reqs[1].body), "page-fast"); a == nil || a.EndsAt.After(time.Now()) {
			t.Errorf("last payload %+v, want page-fast resolved", a)
		}
		p.Update(time.Now(), []alerting.Alert{alertNow("page-fast")}, nil) // after Close: kept, not sent
		p.Start()
		synctest.Wait()
		if n := len(rec.Requests()); n != 2 {
			t.Errorf("%d requests after Close, want none more", n-2)
		}
	})
}

// TestCloseBounded: Close returns when its context is done, cancelling a
// request to an Alertmanager that does not answer.
func TestCloseBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body) // then the server notices the client leave
			<-r.Context().Done()
		})
		client := serveBubble(t, map[string]http.Handler{am0: hang})
		var rep attempts
		p := newPusher(t, Config{URLs: []string{"http://" + am0}}, client, Options{OnAttempt: rep.add})
		p.Start()
		p.Update(time.Now(), []alerting.Alert{alertNow("page-fast")}, nil)
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		err := p.Close(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 2*time.Second {
			t.Errorf("Close = %v after %v, want the deadline after 2s", err, time.Since(start))
		}
		if got := rep.of("http://" + am0); len(got) != 1 || got[0].Outcome != notify.OutcomeAborted {
			t.Errorf("attempts %+v, want one aborted", got)
		}
	})
}

func TestCloseWithoutStart(t *testing.T) {
	p, err := New(Config{URLs: []string{"http://" + am0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Update(time.Now(), []alerting.Alert{alertNow("page-fast")}, nil)
	for range 2 {
		if err := p.Close(context.Background()); err != nil {
			t.Fatalf("Close = %v", err)
		}
	}
}
