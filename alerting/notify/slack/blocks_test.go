package slack

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

// decoded is a posted payload, generically: blocks as maps.
type decoded struct {
	Text        string
	Attachments []struct {
		Color  string
		Blocks []map[string]any
	}
}

// checkBlocks decodes body and fails t with its blockProblems.
func checkBlocks(t *testing.T, body []byte) decoded {
	t.Helper()
	var p decoded
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if strings.TrimSpace(p.Text) == "" || len(p.Attachments) != 1 {
		t.Fatalf("payload has text %q and %d attachments, want text and one", p.Text, len(p.Attachments))
	}
	for _, msg := range blockProblems(p.Attachments[0].Blocks) {
		t.Error(msg)
	}
	return p
}

// blockProblems walks the blocks generically, checking Block Kit's
// documented limits and required fields and MaxBlockText, so a message
// Slack would reject fails the tests.
func blockProblems(blocks []map[string]any) []string {
	var out []string
	report := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if len(blocks) == 0 || len(blocks) > MaxBlocks {
		report("%d blocks, want 1 to %d", len(blocks), MaxBlocks)
	}
	total := 0
	// textObj checks a text object and counts it.
	textObj := func(path string, v any, kind string, limit int) {
		o, _ := v.(map[string]any)
		s, ok := o["text"].(string)
		if !ok || strings.TrimSpace(s) == "" || (kind != "" && o["type"] != kind) ||
			(o["type"] != "plain_text" && o["type"] != "mrkdwn") {
			report("%s: text object %v, want a non-empty %s text", path, v, kind)
			return
		}
		if units(s) > limit {
			report("%s: %d characters, over %d", path, units(s), limit)
		}
		total += units(s)
	}
	list := func(path string, v any, limit int) []any {
		l, _ := v.([]any)
		if len(l) == 0 || len(l) > limit {
			report("%s: %d elements, want 1 to %d", path, len(l), limit)
		}
		return l
	}
	for i, b := range blocks {
		path := fmt.Sprintf("blocks[%d]", i)
		switch b["type"] {
		case "header":
			textObj(path+".text", b["text"], "plain_text", 150)
		case "section":
			if b["text"] == nil && b["fields"] == nil {
				report("%s: section without text or fields", path)
			}
			if b["text"] != nil {
				textObj(path+".text", b["text"], "", 3000)
			}
			if b["fields"] != nil {
				for j, f := range list(path+".fields", b["fields"], 10) {
					textObj(fmt.Sprintf("%s.fields[%d]", path, j), f, "", 2000)
				}
			}
		case "context":
			for j, e := range list(path+".elements", b["elements"], 10) {
				textObj(fmt.Sprintf("%s.elements[%d]", path, j), e, "", 3000)
			}
		case "actions":
			ids := map[string]bool{}
			for j, e := range list(path+".elements", b["elements"], 25) {
				bt, _ := e.(map[string]any)
				ep := fmt.Sprintf("%s.elements[%d]", path, j)
				if bt["type"] != "button" {
					report("%s: %v, want a button", ep, bt["type"])
				}
				textObj(ep+".text", bt["text"], "plain_text", 75)
				if u, _ := bt["url"].(string); u == "" || len(u) > 3000 {
					report("%s: url of %d bytes, want 1 to 3000", ep, len(u))
				}
				if id, _ := bt["action_id"].(string); id == "" || len(id) > 255 || ids[id] {
					report("%s: action_id %q, want a unique one", ep, id)
				} else {
					ids[id] = true
				}
			}
		default:
			report("%s: block type %v is not one the message uses", path, b["type"])
		}
	}
	if total > MaxBlockText {
		report("blocks hold %d characters of text, over %d", total, MaxBlockText)
	}
	return out
}

// TestBlockProblems makes sure the limit check catches what it should.
func TestBlockProblems(t *testing.T) {
	field := `{"type":"mrkdwn","text":"f"}`
	button := func(id string) string {
		return `{"type":"button","text":{"type":"plain_text","text":"b"},"url":"https://x","action_id":"` + id + `"}`
	}
	tests := []struct {
		name, blocks, want string
	}{
		{"valid", `[{"type":"header","text":{"type":"plain_text","text":"h"}}]`, ""},
		{"header too long", `[{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("h", 151) + `"}}]`, "151 characters, over 150"},
		{"header mrkdwn", `[{"type":"header","text":{"type":"mrkdwn","text":"h"}}]`, "want a non-empty plain_text text"},
		{"eleven fields", `[{"type":"section","fields":[` + strings.Repeat(field+",", 10) + field + `]}]`, "11 elements, want 1 to 10"},
		{"empty context", `[{"type":"context","elements":[]}]`, "0 elements"},
		{"duplicate action_id", `[{"type":"actions","elements":[` + button("a") + "," + button("a") + `]}]`, `action_id "a"`},
		{"unknown", `[{"type":"divider"}]`, "block type divider"},
		{"too much text", `[` + strings.Repeat(`{"type":"section","text":{"type":"mrkdwn","text":"`+strings.Repeat("x", 2900)+`"}},`, 3) +
			`{"type":"section","text":{"type":"mrkdwn","text":"` + strings.Repeat("x", 2900) + `"}}]`, "11600 characters of text"},
	}
	for _, tt := range tests {
		var blocks []map[string]any
		if err := json.Unmarshal([]byte(tt.blocks), &blocks); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := strings.Join(blockProblems(blocks), "; ")
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: problems %q, want %q", tt.name, got, tt.want)
		}
	}
}

func payloadOf(t *testing.T, n *alerting.Notification, tmpl *notify.Templates) []byte {
	t.Helper()
	nf, err := New(testConfig("https://hooks.slack.com"), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := nf.Payload(notify.NewMessage(n, tmpl))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// sections are the alerts' section texts, and the last context's text.
func sections(p decoded) (secs []string, last string) {
	for _, b := range p.Attachments[0].Blocks {
		switch b["type"] {
		case "section":
			secs = append(secs, b["text"].(map[string]any)["text"].(string))
		case "context":
			last = b["elements"].([]any)[0].(map[string]any)["text"].(string)
		}
	}
	return secs, last
}

func TestPayloadFitsSlack(t *testing.T) {
	hugeLabels := notifytest.Notification("team-slack")
	hugeLabels.Alerts = hugeLabels.Alerts[1:]
	hugeLabels.Alerts[0].Labels["blob"] = strings.Repeat("<&>x", 25_000) // 100 KB, 200 KB escaped

	huge := notifytest.Huge("team-slack")
	huge.Alerts[0].State = alerting.StateResolved // and no EndsAt

	// Small alerts: the block limit binds before the text one.
	many := notifytest.Notification("team-slack")
	many.Alerts = nil
	for i := range 60 {
		a := notifytest.Alert("page-slow")
		a.Tier, a.Labels, a.TraceIDs, a.Description = fmt.Sprintf("t%d", i), nil, nil, ""
		many.Alerts = append(many.Alerts, a)
	}

	tests := []struct {
		name    string
		n       *alerting.Notification
		allFit  bool
		resolve int // resolved alerts left out
	}{
		{"huge", huge, false, 1},
		{"100 KB of labels", hugeLabels, true, 0},
		{"60 small alerts", many, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := checkBlocks(t, payloadOf(t, tt.n, nil))
			secs, last := sections(p)
			if tt.allFit {
				if len(secs) != len(tt.n.Alerts) {
					t.Errorf("%d alerts shown, want all %d", len(secs), len(tt.n.Alerts))
				}
				return
			}
			left := len(tt.n.Alerts) - len(secs)
			want := fmt.Sprintf("…and %d more alerts (%d firing", left, left-tt.resolve)
			if tt.resolve > 0 {
				want += fmt.Sprintf(", %d resolved", tt.resolve)
			}
			if last != want+")" {
				t.Errorf("closing context %q after %d alerts, want %q", last, len(secs), want+")")
			}
			if !strings.HasPrefix(secs[0], ":red_circle:") {
				t.Errorf("first alert %q, want a firing page", secs[0])
			}
			blocks := p.Attachments[0].Blocks
			if b := blocks[len(blocks)-1]; b["type"] != "actions" {
				t.Errorf("last block %v, want the buttons", b["type"])
			}
		})
	}
}

func TestPayloadEscapesMrkdwn(t *testing.T) {
	n := notifytest.Notification("team-slack")
	n.Alerts = n.Alerts[1:]
	n.Alerts[0].Labels["note"] = "<!channel> & <https://evil.example.com|click>"
	tmpl, err := notify.ParseTemplates("", "{{.SLO}} <!here> & co")
	if err != nil {
		t.Fatal(err)
	}
	body := string(payloadOf(t, n, tmpl))
	for _, bad := range []string{"<!channel>", "<!here>", "<https://evil"} {
		if strings.Contains(body, bad) {
			t.Errorf("payload keeps %q unescaped", bad)
		}
	}
	for _, want := range []string{"checkout-availability &lt;!here&gt; &amp; co", "note=&lt;!channel&gt; &amp; &lt;https://evil.example.com|click&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("payload lacks %q", want)
		}
	}
}

func TestPayloadColorsOrderAndButtons(t *testing.T) {
	ticket := notifytest.Alert("ticket-fast")
	ticket.Runbook = "https://runbooks.example.com/ticket"
	n := notifytest.Notification("team-slack")
	n.Alerts = []alerting.Alert{notifytest.Resolved("page-fast"), ticket, notifytest.Alert("page-slow")}
	p := checkBlocks(t, payloadOf(t, n, nil))
	secs, _ := sections(p)
	var emojis []string
	for _, s := range secs {
		emojis = append(emojis, strings.Fields(s)[0])
	}
	if got := strings.Join(emojis, " "); got != ":red_circle: :large_orange_circle: :large_green_circle:" || p.Attachments[0].Color != colorPage {
		t.Errorf("alerts %s, color %s: want firing pages, tickets, then resolved, in red", got, p.Attachments[0].Color)
	}
	blocks := p.Attachments[0].Blocks
	var titles []string
	for _, e := range blocks[len(blocks)-1]["elements"].([]any) {
		titles = append(titles, e.(map[string]any)["text"].(map[string]any)["text"].(string))
	}
	if got := fmt.Sprint(titles); got != "[Runbook: checkout-availability Dashboard Runbook: checkout-availability/ticket-fast Open Burnwatch]" {
		t.Errorf("buttons %s, want each URL once and the Burnwatch page", got)
	}

	n.Alerts = []alerting.Alert{notifytest.Resolved("page-fast"), notifytest.Alert("ticket-fast")}
	if p := checkBlocks(t, payloadOf(t, n, nil)); p.Attachments[0].Color != colorTicket ||
		p.Text != "[FIRING:1] checkout-availability: error budget burn 20.1x over 1d, above 3x (ticket-fast) and 1 more" {
		t.Errorf("ticket firing: color %s text %q, want %s and the ticket's summary", p.Attachments[0].Color, p.Text, colorTicket)
	}
}

func TestPayloadConditionKinds(t *testing.T) {
	n := notifytest.Notification("team-slack")
	budget, exh, nodata := notifytest.Alert("budget-50"), notifytest.Alert("exhaustion-1d"), notifytest.Alert("no-data")
	budget.Kind, budget.Consumed, budget.ConsumedThreshold, budget.Severity = alerting.KindBudget, 0.523, 0.5, slo.Ticket
	exh.Kind, exh.Within = alerting.KindExhaustion, 24*time.Hour
	nodata.Kind, nodata.Silence, nodata.After = alerting.KindNoData, 12*time.Minute, 10*time.Minute
	n.Alerts = []alerting.Alert{budget, exh, nodata}
	body := payloadOf(t, n, nil)
	checkBlocks(t, body)
	for _, want := range []string{`*Budget spent*\n52.3% (threshold 50%)`, `*Alert within*\n1d`, `*Silent for*\n12m (alert after 10m)`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("payload lacks %s", want)
		}
	}
}

func TestTextLimits(t *testing.T) {
	tests := []struct {
		name  string
		got   string
		want  string
		limit int
	}{
		{"short", mrkdwn("a < b", 10), "a &lt; b", 10},
		{"entity kept whole", mrkdwn("ab&cd", 6), "ab…", 6},
		{"cut", mrkdwn("abcdefghij", 5), "abcd…", 5},
		{"control characters", mrkdwn("a\x00b\x1bc\n", 10), "a b c", 10},
		{"plain is not escaped", plain("a < b\n c", 10), "a < b c", 10},
		{"emoji count twice", plain("😀😀😀", 5), "😀😀…", 5},
	}
	for _, tt := range tests {
		if tt.got != tt.want || units(tt.got) > tt.limit {
			t.Errorf("%s: got %q, want %q within %d", tt.name, tt.got, tt.want, tt.limit)
		}
	}
}
