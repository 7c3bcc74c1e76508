package teams

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/alerting/notify/notifytest"
	"github.com/burnwatch/burnwatch/slo"
)

// cardOf decodes body and returns its one card.
func cardOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var msg struct {
		Type        string
		Attachments []struct {
			ContentType string
			ContentURL  any
			Content     map[string]any
		}
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if msg.Type != "message" || len(msg.Attachments) != 1 ||
		msg.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" || msg.Attachments[0].ContentURL != nil {
		t.Fatalf("not a Workflows message with one Adaptive Card: %s", body)
	}
	return msg.Attachments[0].Content
}

// checkCard fails t with the card's cardProblems.
func checkCard(t *testing.T, body []byte) {
	t.Helper()
	for _, p := range cardProblems(cardOf(t, body)) {
		t.Error(p)
	}
}

// cardProblems walks the card generically, every object at any depth, and
// checks each one that has a type against the Adaptive Card schema's
// required properties, so a card Teams would reject fails the tests.
func cardProblems(c map[string]any) []string {
	var out []string
	report := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if elems, ok := c["body"].([]any); !ok || len(elems) == 0 {
		report("card body %v, want elements", c["body"])
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case map[string]any:
			if typ, ok := v["type"]; ok {
				checkElement(report, path, typ, v)
			}
			for k, e := range v {
				walk(path+"."+k, e)
			}
		}
	}
	walk("content", c)
	return out
}

func checkElement(report func(string, ...any), path string, typ any, e map[string]any) {
	nonEmpty := func(key string) {
		if s, ok := e[key].(string); !ok || strings.TrimSpace(s) == "" {
			report("%s: %v's %s is %v, want a non-empty string", path, typ, key, e[key])
		}
	}
	list := func(key string) []any {
		l, ok := e[key].([]any)
		if !ok || len(l) == 0 {
			report("%s: %v's %s is %v, want a non-empty array", path, typ, key, e[key])
		}
		return l
	}
	switch typ {
	case "AdaptiveCard":
		nonEmpty("version")
	case "TextBlock":
		nonEmpty("text")
		if c, ok := e["color"]; ok && c != colorAttention && c != colorWarning && c != colorGood {
			report("%s: color %v is not one of the schema's", path, c)
		}
	case "Container":
		list("items")
	case "FactSet":
		for i, f := range list("facts") {
			fm, _ := f.(map[string]any)
			for _, k := range []string{"title", "value"} {
				if s, ok := fm[k].(string); !ok || s == "" {
					report("%s.facts[%d]: %s is %v, want a string", path, i, k, fm[k])
				}
			}
		}
	case "Action.OpenUrl":
		nonEmpty("url")
		nonEmpty("title")
	default:
		report("%s: element type %v is not one the card uses", path, typ)
	}
}

// TestCardProblems makes sure the schema check catches what it should.
func TestCardProblems(t *testing.T) {
	tests := []struct {
		name, card, want string
	}{
		{"valid", `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"x"}]}`, ""},
		{"no version", `{"type":"AdaptiveCard","body":[{"type":"TextBlock","text":"x"}]}`, "AdaptiveCard's version"},
		{"empty text", `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":" "}]}`, "TextBlock's text"},
		{"bad color", `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"x","color":"red"}]}`, "color red"},
		{"nested", `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"Container","items":[{"type":"FactSet","facts":[{"title":"a"}]}]}]}`, "facts[0]: value"},
		{"empty container", `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"Container","items":[]}]}`, "Container's items"},
		{"action", `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"x"}],"actions":[{"type":"Action.OpenUrl","title":"t"}]}`, "Action.OpenUrl's url"},
		{"unknown", `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"Image","url":"u"}]}`, "element type Image"},
	}
	for _, tt := range tests {
		var c map[string]any
		if err := json.Unmarshal([]byte(tt.card), &c); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(cardProblems(c), "; ")
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: problems %q, want %q", tt.name, got, tt.want)
		}
	}
}

func payload(t *testing.T, cfg Config, n *alerting.Notification, tmpl *notify.Templates) []byte {
	t.Helper()
	nf, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := nf.Payload(notify.NewMessage(n, tmpl))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// texts are the card's alert titles and its closing text, in order.
func texts(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	for _, e := range cardOf(t, body)["body"].([]any)[2:] {
		em := e.(map[string]any)
		if em["type"] == "Container" {
			em = em["items"].([]any)[0].(map[string]any)
		}
		out = append(out, em["text"].(string))
	}
	return out
}

func TestPayloadFitsTeams(t *testing.T) {
	hugeLabels := notifytest.Notification("team-teams")
	hugeLabels.Alerts = hugeLabels.Alerts[1:]
	hugeLabels.Alerts[0].Labels["blob"] = strings.Repeat("<&\"x", 25_000) // 100 KB, escapes included

	manyLinks := notifytest.Huge("team-teams")
	for i := range manyLinks.Alerts {
		manyLinks.Alerts[i].Runbook = fmt.Sprintf("https://runbooks.example.com/%d/%s", i, strings.Repeat("p", 1900))
	}

	huge := notifytest.Huge("team-teams")
	huge.Alerts[39].Severity = slo.Ticket
	huge.Alerts[0].State = alerting.StateResolved

	tests := []struct {
		name     string
		n        *alerting.Notification
		wantMore string // the closing text, "" when every alert fits
	}{
		{"huge", huge, "more alerts"},
		{"100 KB of labels", hugeLabels, ""},
		{"many long runbooks", manyLinks, "more alerts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := payload(t, testConfig("https://h.example.com"), tt.n, nil)
			if len(body) >= MaxBodyBytes {
				t.Errorf("body is %d bytes, want < %d", len(body), MaxBodyBytes)
			}
			checkCard(t, body)
			got := texts(t, body)
			last := got[len(got)-1]
			if tt.wantMore == "" {
				if len(got) != len(tt.n.Alerts) {
					t.Errorf("%d alerts shown, want all %d", len(got), len(tt.n.Alerts))
				}
				return
			}
			left := len(tt.n.Alerts) - (len(got) - 1)
			if want := fmt.Sprintf("…and %d more alerts (", left); !strings.HasPrefix(last, want) {
				t.Errorf("closing text %q after %d alerts, want %q...", last, len(got)-1, want)
			}
			if tt.name == "huge" && !strings.HasSuffix(last, fmt.Sprintf("(%d firing, 1 resolved)", left-1)) {
				t.Errorf("closing text %q, want the resolved alert left out first", last)
			}
			if !strings.HasPrefix(got[0], "Firing: ") {
				t.Errorf("first alert %q, want a firing one", got[0])
			}
			acts := cardOf(t, body)["actions"].([]any)
			if len(acts) > maxActions || acts[len(acts)-1].(map[string]any)["title"] != "Open Burnwatch" {
				t.Errorf("%d actions, want at most %d ending with the Burnwatch page", len(acts), maxActions)
			}
		})
	}
}

func TestPayloadOrderColorsAndLinks(t *testing.T) {
	ticket := notifytest.Alert("ticket-fast")
	ticket.Runbook = "https://runbooks.example.com/ticket"
	n := notifytest.Notification("team-teams")
	n.Alerts = []alerting.Alert{notifytest.Resolved("page-fast"), ticket, notifytest.Alert("page-slow")}
	body := payload(t, testConfig("https://h.example.com"), n, nil)
	checkCard(t, body)

	c := cardOf(t, body)
	elems := c["body"].([]any)
	colors := []any{elems[0].(map[string]any)["color"]}
	for _, e := range elems[2:] {
		colors = append(colors, e.(map[string]any)["items"].([]any)[0].(map[string]any)["color"])
	}
	want := []any{colorAttention, colorAttention, colorWarning, colorGood} // header, page, ticket, resolved
	if fmt.Sprint(colors) != fmt.Sprint(want) {
		t.Errorf("colors %v, want %v (firing pages, tickets, then resolved)", colors, want)
	}

	var titles []string
	for _, a := range c["actions"].([]any) {
		titles = append(titles, a.(map[string]any)["title"].(string))
	}
	wantTitles := "[Runbook: checkout-availability Dashboard Runbook: checkout-availability/ticket-fast Open Burnwatch]"
	if fmt.Sprint(titles) != wantTitles {
		t.Errorf("actions %v, want %s (each URL once)", titles, wantTitles)
	}

	// Only a ticket fires: warning.
	n.Alerts = []alerting.Alert{notifytest.Resolved("page-fast"), notifytest.Alert("ticket-fast")}
	header := cardOf(t, payload(t, testConfig("https://h.example.com"), n, nil))["body"].([]any)[0].(map[string]any)
	if header["color"] != colorWarning || header["text"] != "[FIRING:1] checkout-availability" {
		t.Errorf("header %v, want warning [FIRING:1] checkout-availability", header)
	}
}

func TestPayloadUsesTemplates(t *testing.T) {
	tmpl, err := notify.ParseTemplates("custom {{.Tier}}", "why: {{explain .}}")
	if err != nil {
		t.Fatal(err)
	}
	n := notifytest.Notification("team-teams")
	n.Alerts = n.Alerts[1:]
	n.Alerts[0].AnnotationTemplates = map[string]string{"team_channel": "#{{index .Labels \"team\"}}"}
	body := string(payload(t, testConfig("https://h.example.com"), n, tmpl))
	for _, want := range []string{`"[FIRING:1] custom page-slow"`, `"Firing: custom page-slow"`, `"why: checkout-availability burns`,
		`{"title":"team_channel","value":"#payments"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("payload lacks %s:\n%s", want, body)
		}
	}
}

func TestPayloadConditionKinds(t *testing.T) {
	n := notifytest.Notification("team-teams")
	budget, exh, nodata := notifytest.Alert("budget-50"), notifytest.Alert("exhaustion-1d"), notifytest.Alert("no-data")
	budget.Kind, budget.Consumed, budget.ConsumedThreshold = alerting.KindBudget, 0.523, 0.5
	exh.Kind, exh.Within = alerting.KindExhaustion, 24*time.Hour
	nodata.Kind, nodata.Silence, nodata.After = alerting.KindNoData, 12*time.Minute, 10*time.Minute
	n.Alerts = []alerting.Alert{budget, exh, nodata}
	body := string(payload(t, testConfig("https://h.example.com"), n, nil))
	for _, want := range []string{
		`{"title":"Budget spent","value":"52.3% (threshold 50%)"}`,
		`{"title":"Alert within","value":"1d"}`,
		`{"title":"Silent for","value":"12m (alert after 10m)"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("payload lacks %s", want)
		}
	}
	checkCard(t, []byte(body))
}

func TestCut(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"  spaced\n", 10, "spaced"},
		{"a\x00b\x1bc", 10, "a b c"},
		{"abcdefghijkl", 10, "abcdefg…"},
		{"ééééé", 8, "éé…"}, // never half a rune
		{"\xff\xfe", 10, "\uFFFD"},
	}
	for _, tt := range tests {
		if got := cut(tt.in, tt.limit); got != tt.want || len(got) > tt.limit {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}
