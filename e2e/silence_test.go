package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// silenceSetup starts a daemon with the SLOs names (a page tier each)
// routed to one webhook, grouped by SLO, warmed up.
func silenceSetup(t *testing.T, names ...string) (*daemon, *exporter, *sink) {
	hook := newSink(t)
	alerting := hookReceivers(map[string]*sink{"hook": hook}) + `      route: {receiver: hook, group_by: [slo]}
` + quickDelivery
	var slos []acceptanceSLO
	for _, n := range names {
		slos = append(slos, acceptanceSLO{name: n, tiers: []string{pageTier}})
	}
	d := startDaemonWith(t, &daemonConfig{specs: acceptanceSpecs(slos...), alerting: alerting})
	exp := newExporter(t, d.grpc)
	waitWarm(t, d, len(names))
	return d, exp, hook
}

// TestSilenceThroughAPI silences cart over the daemon's
// Alertmanager-compatible API (POST /api/v2/silences) before an outage of
// cart, pay and stock, and expires it (DELETE /api/v2/silence/{id}) while
// they still fire; stock's silence ends on its own.
//
//	before  silence slo="cart" for an hour, slo="stock" until 3s
//	0s      cart, pay and stock fail: pay is sent; cart and stock are held
//	        back (the alerts API shows cart suppressed by its silence)
//	2s      cart's silence is expired: cart is sent at the next evaluation
//	3s      stock's silence ends: stock is sent at the next evaluation
func TestSilenceThroughAPI(t *testing.T) {
	t.Parallel()
	d, exp, hook := silenceSetup(t, "cart", "pay", "stock")
	base := "http://" + d.metrics

	id := postSilence(t, base, "cart", time.Now().Add(time.Hour))
	stockID := postSilence(t, base, "stock", time.Now().Add(3*time.Second))
	if state := silenceState(t, base, id); state != "active" {
		t.Fatalf("silence %s is %q right after it was created, want active", id, state)
	}

	tl := startTimeline(t)
	stockEnds := silenceEnd(t, base, stockID).Sub(tl.zero)
	r := tl.receiver("hook", hook)
	exp.send(t, append(append(outageSpans("cart"), outageSpans("pay")...), outageSpans("stock")...))
	r.expect(0, notifyWithin, "firing", `{}:{slo="pay"}`, "pay/page/firing")
	r.expect(stockEnds, stockEnds+notifyWithin, "firing", `{}:{slo="stock"}`, "stock/page/firing")

	// All fire; the API says who holds cart back.
	var cart amAlert
	if !waitUntil(time.Now().Add(notifyWithin), func() bool {
		var ok bool
		cart, ok = findAlert(amAlerts(t, base, ""), "cart", "page")
		return ok
	}) {
		t.Fatalf("cart's page is not in /api/v2/alerts: %+v", amAlerts(t, base, ""))
	}
	if cart.Status.State != "suppressed" || len(cart.Status.SilencedBy) != 1 || cart.Status.SilencedBy[0] != id {
		t.Errorf("cart's page: %+v, want suppressed, silenced by %s", cart.Status, id)
	}
	if as := amAlerts(t, base, "silenced=false&filter="+url.QueryEscape(`slo="cart"`)); len(as) != 0 {
		t.Errorf("silenced=false still lists cart: %+v", as)
	}

	tl.at(2 * time.Second)
	req, _ := http.NewRequest(http.MethodDelete, base+"/api/v2/silence/"+id, nil)
	expired := tl.now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE /api/v2/silence/%s: %s", id, resp.Status)
	}
	r.expect(expired, expired+notifyWithin, "firing", `{}:{slo="cart"}`, "cart/page/firing")
	if state := silenceState(t, base, id); state != "expired" {
		t.Errorf("silence %s is %q after DELETE, want expired", id, state)
	}

	tl.finish(time.Second)
}

// silenceEnd is the endsAt GET /api/v2/silence/{id} gives.
func silenceEnd(t *testing.T, base, id string) time.Time {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/silence/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		EndsAt time.Time `json:"endsAt"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || s.EndsAt.IsZero() {
		t.Fatalf("GET /api/v2/silence/%s: %s, %v", id, resp.Status, err)
	}
	return s.EndsAt
}

// silenceState is the state GET /api/v2/silence/{id} gives.
func silenceState(t *testing.T, base, id string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/silence/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		ID     string `json:"id"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || s.ID != id {
		t.Fatalf("GET /api/v2/silence/%s: %s, %v, id %q", id, resp.Status, err, s.ID)
	}
	return s.Status.State
}

// amtool runs the real amtool against base and returns its standard
// output.
func amtool(t *testing.T, bin, base string, args ...string) string {
	t.Helper()
	stdout, stderr, err := runAmtool(bin, base, args...)
	if err != nil {
		t.Fatalf("amtool %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// runAmtool runs the real amtool against base.
func runAmtool(bin, base string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(bin, append([]string{"--alertmanager.url=" + base}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// amtoolAlerts decodes amtool alert query -o json.
func amtoolAlerts(t *testing.T, out string) []amAlert {
	t.Helper()
	var as []amAlert
	if err := json.Unmarshal([]byte(out), &as); err != nil {
		t.Fatalf("amtool alert query -o json: %v\n%s", err, out)
	}
	return as
}

// TestSilenceWithAmtool does what TestSilenceThroughAPI does with the real
// amtool (Debian's prometheus-alertmanager): silence add, silence query,
// alert query (active, then silenced) and silence expire.
//
//	before  amtool silence add slo=cart; amtool silence query lists it
//	0s      cart and pay fail: pay is sent; amtool alert query lists pay as
//	        active and cart only among the silenced
//	2s      amtool silence expire: cart is sent at the next evaluation, and
//	        the silence is listed only with --expired
func TestSilenceWithAmtool(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("amtool")
	if err != nil {
		t.Skip("no amtool on PATH: apt-get install prometheus-alertmanager (Debian's package has amtool)")
	}
	d, exp, hook := silenceSetup(t, "cart", "pay")
	base := "http://" + d.metrics

	id := strings.TrimSpace(amtool(t, bin, base, "silence", "add", "slo=cart", "--author=e2e", "--comment=deploy of cart", "--duration=1h"))
	if !regexp.MustCompile(`^[0-9a-zA-Z-]+$`).MatchString(id) {
		t.Fatalf("amtool silence add printed %q, want the silence ID", id)
	}
	if got := strings.Fields(amtool(t, bin, base, "silence", "query", "-q")); len(got) != 1 || got[0] != id {
		t.Fatalf("amtool silence query -q: %q, want [%s]", got, id)
	}
	var listed []struct {
		ID       string `json:"id"`
		Matchers []struct {
			Name, Value string
			IsRegex     bool
		} `json:"matchers"`
		Comment string `json:"comment"`
		Status  struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(amtool(t, bin, base, "silence", "query", "-o", "json", "slo=cart")), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].ID != id || listed[0].Status.State != "active" || len(listed[0].Matchers) != 1 ||
		listed[0].Matchers[0].Name != "slo" || listed[0].Matchers[0].Value != "cart" || listed[0].Comment != "deploy of cart" {
		t.Errorf("amtool silence query -o json slo=cart: %+v, want the active silence %s on slo=cart", listed, id)
	}

	tl := startTimeline(t)
	r := tl.receiver("hook", hook)
	exp.send(t, append(outageSpans("cart"), outageSpans("pay")...))
	r.expect(0, notifyWithin, "firing", `{}:{slo="pay"}`, "pay/page/firing")

	// amtool lists the active alerts by default: pay, once it fires; cart
	// only when asked for silenced ones.
	var active []amAlert
	if !waitUntil(time.Now().Add(notifyWithin), func() bool {
		active = amtoolAlerts(t, amtool(t, bin, base, "alert", "query", "-o", "json"))
		return len(active) > 0
	}) {
		t.Fatal("amtool alert query listed no alert once pay fired")
	}
	if len(active) != 1 || active[0].Labels["slo"] != "pay" || active[0].Labels["alertname"] != "SLOBurnRate" ||
		len(active[0].Receivers) != 1 || active[0].Receivers[0].Name != "hook" {
		t.Errorf("amtool alert query: %+v, want pay's page alone, routed to hook", active)
	}
	silenced := amtoolAlerts(t, amtool(t, bin, base, "alert", "query", "--silenced", "-o", "json", "slo=cart"))
	if len(silenced) != 1 || silenced[0].Labels["tier"] != "page" || silenced[0].Status.State != "suppressed" ||
		len(silenced[0].Status.SilencedBy) != 1 || silenced[0].Status.SilencedBy[0] != id {
		t.Errorf("amtool alert query --silenced slo=cart: %+v, want cart's page silenced by %s", silenced, id)
	}
	if out := amtool(t, bin, base, "alert", "query"); !strings.Contains(out, "SLOBurnRate") || strings.Count(out, "\n") != 2 {
		t.Errorf("amtool alert query (simple output): want a header and pay's alert, got\n%s", out)
	}

	tl.at(2 * time.Second)
	expired := tl.now()
	amtool(t, bin, base, "silence", "expire", id)
	r.expect(expired, expired+notifyWithin, "firing", `{}:{slo="cart"}`, "cart/page/firing")
	if got := strings.Fields(amtool(t, bin, base, "silence", "query", "-q")); len(got) != 0 {
		t.Errorf("amtool silence query -q after expire: %q, want none", got)
	}
	if got := strings.Fields(amtool(t, bin, base, "silence", "query", "-q", "--expired")); len(got) != 1 || got[0] != id {
		t.Errorf("amtool silence query -q --expired: %q, want [%s]", got, id)
	}

	tl.finish(time.Second)
}

// postSilence creates a silence of slo=name from now to ends through the
// API and returns its ID.
func postSilence(t *testing.T, base, name string, ends time.Time) string {
	t.Helper()
	now := time.Now()
	body, _ := json.Marshal(map[string]any{
		"matchers": []map[string]any{{"name": "slo", "value": name, "isRegex": false, "isEqual": true}},
		"startsAt": now, "endsAt": ends, "createdBy": "e2e", "comment": "deploy of " + name,
	})
	resp, err := http.Post(base+"/api/v2/silences", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var created struct {
		SilenceID string `json:"silenceID"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&created); resp.StatusCode != http.StatusOK || err != nil || created.SilenceID == "" {
		t.Fatalf("POST /api/v2/silences: %s, %v, id %q", resp.Status, err, created.SilenceID)
	}
	return created.SilenceID
}

// TestSilenceSurvivesKill9: a silence is written ahead before the API
// answers, so a daemon killed with SIGKILL right after keeps it: after the
// restart it is listed active and still holds cart back.
//
//	before  silence slo="cart"; kill -9; restart on the same data directory
//	0s      cart and pay fail: only pay is sent
func TestSilenceSurvivesKill9(t *testing.T) {
	t.Parallel()
	hook := newSink(t)
	cfg := &daemonConfig{
		specs:    acceptanceSpecs(acceptanceSLO{name: "cart", tiers: []string{pageTier}}, acceptanceSLO{name: "pay", tiers: []string{pageTier}}),
		alerting: hookReceivers(map[string]*sink{"hook": hook}) + "      route: {receiver: hook, group_by: [slo]}\n" + quickDelivery,
		dataDir:  t.TempDir(),
	}
	d := startDaemonWith(t, cfg)
	id := postSilence(t, "http://"+d.metrics, "cart", time.Now().Add(time.Hour))
	d.kill()
	d = startDaemonWith(t, cfg)
	base := "http://" + d.metrics
	if state := silenceState(t, base, id); state != "active" {
		t.Fatalf("silence %s is %q after kill -9 and restart, want active", id, state)
	}
	exp := newExporter(t, d.grpc)
	waitWarm(t, d, 2)

	tl := startTimeline(t)
	r := tl.receiver("hook", hook)
	exp.send(t, append(outageSpans("cart"), outageSpans("pay")...))
	r.expect(0, notifyWithin, "firing", `{}:{slo="pay"}`, "pay/page/firing")
	tl.finish(time.Second)
}

// TestAmtoolWithBearerToken: with api.bearer_token set, amtool's silence
// writes need the token (amtool's --http.config.file with authorization
// credentials); without it, or with another, they are refused and nothing
// is silenced. Reads stay open.
func TestAmtoolWithBearerToken(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("amtool")
	if err != nil {
		t.Skip("no amtool on PATH: apt-get install prometheus-alertmanager (Debian's package has amtool)")
	}
	const token = "e2e-api-token-0123456789"
	d := startDaemonWith(t, &daemonConfig{specs: acceptanceSpecs(acceptanceSLO{name: "cart", tiers: []string{pageTier}}),
		extra: "    api: {bearer_token: " + token + "}\n"})
	base := "http://" + d.metrics
	dir := t.TempDir()
	httpConfig := func(name, credentials string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("authorization: {type: Bearer, credentials: "+credentials+"}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return "--http.config.file=" + path
	}
	good, wrong := httpConfig("good.yml", token), httpConfig("wrong.yml", "not-the-token")

	for _, args := range [][]string{nil, {wrong}} {
		out, errOut, err := runAmtool(bin, base, append(args, "silence", "add", "slo=cart", "--author=e2e", "--comment=no token")...)
		if err == nil {
			t.Errorf("amtool %v silence add without the token succeeded: %s", args, out)
		} else if !strings.Contains(errOut, "401") && !strings.Contains(strings.ToLower(errOut), "unauthorized") {
			t.Errorf("amtool %v silence add without the token: %v, stderr %q; want a 401", args, err, errOut)
		}
	}
	if got := strings.Fields(amtool(t, bin, base, "silence", "query", "-q")); len(got) != 0 {
		t.Fatalf("refused writes left silences: %q", got)
	}
	id := strings.TrimSpace(amtool(t, bin, base, good, "silence", "add", "slo=cart", "--author=e2e", "--comment=with the token"))
	if got := strings.Fields(amtool(t, bin, base, "silence", "query", "-q")); len(got) != 1 || got[0] != id {
		t.Fatalf("amtool silence query -q: %q, want [%s]", got, id)
	}
	if _, errOut, err := runAmtool(bin, base, "silence", "expire", id); err == nil {
		t.Errorf("amtool silence expire without the token succeeded")
	} else if state := silenceState(t, base, id); state != "active" {
		t.Errorf("a refused expire left silence %s %q (stderr %q)", id, state, errOut)
	}
	amtool(t, bin, base, good, "silence", "expire", id)
	if state := silenceState(t, base, id); state != "expired" {
		t.Errorf("silence %s is %q after amtool silence expire with the token, want expired", id, state)
	}
}
