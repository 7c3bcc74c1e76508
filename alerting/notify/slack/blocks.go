package slack

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
)

// MaxBlocks is Block Kit's limit on the blocks of one message.
const MaxBlocks = 50

// MaxBlockText bounds the characters of all block texts together. Slack
// rejects messages well under the documented limits with
// msg_blocks_too_long, at about 11,000-13,000 characters of block text
// (slackapi/bolt-js#2509, #2867); the bound leaves room below that.
const MaxBlockText = 10_000

// Block Kit's limits, and bounds of this package's own (in Slack's
// characters) so that one alert stays a small share of MaxBlockText and the
// first alert always fits.
const (
	maxHeader         = 150  // header text
	maxFields         = 10   // fields of a section
	maxButtonText     = 75   // button text
	maxURL            = 3000 // button url; a cut URL is a broken link: longer ones are left out
	maxActions        = 6    // buttons; Slack allows 25, more would drown the message
	maxFallback       = 1000 // the notification text
	maxSummary        = 300
	maxDescription    = 1000
	maxFact           = 300
	maxLabels         = 600
	maxOwnAnnotations = 5
)

// Attachment colours.
const (
	colorPage     = "#d00000"
	colorTicket   = "#e8a317"
	colorResolved = "#2eb67d"
)

type payload struct {
	// Text is the notification's fallback: push notifications and clients
	// without blocks show it.
	Text        string       `json:"text"`
	Attachments []attachment `json:"attachments"`
}

// attachment carries the blocks so that the message gets a colour bar.
type attachment struct {
	Color  string  `json:"color"`
	Blocks []block `json:"blocks"`
}

type block struct {
	Type     string `json:"type"`
	Text     *text  `json:"text,omitempty"`
	Fields   []text `json:"fields,omitempty"`
	Elements []any  `json:"elements,omitempty"` // text (context) or button (actions)
}

type text struct {
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

type button struct {
	Type     string `json:"type"`
	Text     text   `json:"text"`
	URL      string `json:"url"`
	ActionID string `json:"action_id"`
}

// Payload is the JSON body Notify posts for m, within Block Kit's limits.
func (n *Notifier) Payload(m *notify.Message) ([]byte, error) {
	alerts := notify.Ordered(m.Alerts)
	anns := make([]map[string]string, len(alerts))
	per := make([][]block, len(alerts))
	for i, a := range alerts {
		anns[i] = m.Annotations(a)
		per[i] = alertBlocks(m, a, anns[i])
	}
	header := block{Type: "header", Text: &text{Type: "plain_text", Text: plain(title(m, alerts), maxHeader)}}
	var actions []block
	if bs := n.buttons(alerts, anns); len(bs) > 0 {
		actions = []block{{Type: "actions", Elements: bs}}
	}
	p := payload{
		Text:        mrkdwn(fallback(m, alerts), maxFallback),
		Attachments: []attachment{{Color: groupColor(alerts), Blocks: fitBlocks(header, per, alerts, actions)}},
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// Entities are escaped already; \u003c would only grow the body.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// fitBlocks lays out the header, as many alerts' blocks as fit in MaxBlocks
// and MaxBlockText, a context counting the alerts left out, and actions.
func fitBlocks(header block, per [][]block, alerts []*alerting.Alert, actions []block) []block {
	count, size := 1+len(actions), blockText(header)
	for _, b := range actions {
		size += blockText(b)
	}
	keep := 0
	for ; keep < len(per); keep++ {
		c, s := count+len(per[keep]), size
		for _, b := range per[keep] {
			s += blockText(b)
		}
		// Unless this is the last alert, leave room for the closing context.
		withMore, sizeMore := c, s
		if keep < len(per)-1 {
			withMore, sizeMore = c+1, s+blockText(more(alerts[keep+1:]))
		}
		if withMore > MaxBlocks || sizeMore > MaxBlockText {
			break
		}
		count, size = c, s
	}
	out := []block{header}
	for _, bs := range per[:keep] {
		out = append(out, bs...)
	}
	if keep < len(per) {
		out = append(out, more(alerts[keep:]))
	}
	return append(out, actions...)
}

// blockText counts the characters of a block's texts, as MaxBlockText does.
func blockText(b block) int {
	n := 0
	if b.Text != nil {
		n += units(b.Text.Text)
	}
	for _, f := range b.Fields {
		n += units(f.Text)
	}
	for _, e := range b.Elements {
		switch e := e.(type) {
		case text:
			n += units(e.Text)
		case button:
			n += units(e.Text.Text)
		}
	}
	return n
}

// more is the closing context for the alerts left out.
func more(left []*alerting.Alert) block {
	s := "…and " + strconv.Itoa(len(left)) + " more alert"
	if len(left) != 1 {
		s += "s"
	}
	return block{Type: "context", Elements: []any{text{Type: "mrkdwn", Text: s + " (" + notify.Counts(left) + ")"}}}
}

// alertBlocks are a section with a's summary, description and fields, and a
// context with its small print when it has any.
func alertBlocks(m *notify.Message, a *alerting.Alert, ann map[string]string) []block {
	summary := strings.Join(strings.Fields(m.Summary(a)), " ")
	if summary == "" {
		summary = a.SLO + " " + a.Tier
	}
	body := emoji(a) + " *" + mrkdwn(summary, maxSummary) + "*"
	if d := mrkdwn(m.Description(a), maxDescription); d != "" {
		body += "\n" + d
	}
	sec := block{Type: "section", Text: &text{Type: "mrkdwn", Text: body}}
	for _, f := range alertFields(m, a, ann) {
		sec.Fields = append(sec.Fields, text{Type: "mrkdwn", Text: "*" + f.title + "*\n" + mrkdwn(f.value, maxFact)})
	}
	out := []block{sec}
	var small []any
	for _, f := range alertContext(a, ann) {
		limit := maxFact
		if f.title == "Labels" {
			limit = maxLabels
		}
		small = append(small, text{Type: "mrkdwn", Text: "*" + mrkdwn(f.title, maxFact) + ":* " + mrkdwn(f.value, limit)})
	}
	if len(small) > 0 {
		out = append(out, block{Type: "context", Elements: small})
	}
	return out
}

// buttons link the alerts' runbooks and dashboards, each URL once, the
// first alerts' first, and the Burnwatch page.
func (n *Notifier) buttons(alerts []*alerting.Alert, anns []map[string]string) []any {
	kinds := []struct{ key, title string }{{"runbook_url", "Runbook"}, {"dashboard_url", "Dashboard"}}
	distinct := map[string]map[string]bool{}
	for _, k := range kinds {
		distinct[k.key] = map[string]bool{}
		for _, ann := range anns {
			if notify.Linkable(ann[k.key], maxURL) {
				distinct[k.key][ann[k.key]] = true
			}
		}
	}
	room := maxActions
	if n.cfg.ExternalURL != "" {
		room--
	}
	var out []any
	add := func(title, u string) {
		out = append(out, button{Type: "button", Text: text{Type: "plain_text", Text: plain(title, maxButtonText)},
			URL: u, ActionID: "link-" + strconv.Itoa(len(out))})
	}
	seen, titles := map[string]bool{}, map[string]bool{}
	for i, a := range alerts {
		for _, k := range kinds {
			u := anns[i][k.key]
			if len(out) == room || !notify.Linkable(u, maxURL) || seen[u] {
				continue
			}
			seen[u] = true
			t := k.title
			if len(distinct[k.key]) > 1 {
				// Several runbooks: say whose.
				if t = k.title + ": " + a.SLO; titles[t] {
					t = k.title + ": " + a.SLO + "/" + a.Tier
				}
			}
			titles[t] = true
			add(t, u)
		}
	}
	if n.cfg.ExternalURL != "" {
		add("Open Burnwatch", n.cfg.ExternalURL)
	}
	return out
}

func emoji(a *alerting.Alert) string {
	return [...]string{":red_circle:", ":large_orange_circle:", ":large_green_circle:"}[notify.Rank(a)]
}

// groupColor is red while a page fires, amber while only tickets fire,
// green when all resolved.
func groupColor(alerts []*alerting.Alert) string {
	best := 2
	for _, a := range alerts {
		best = min(best, notify.Rank(a))
	}
	return [...]string{colorPage, colorTicket, colorResolved}[best]
}

// title is the header, in the words of Alertmanager's default title:
// [FIRING:2] and the group, or the alert's own summary when it is alone.
func title(m *notify.Message, alerts []*alerting.Alert) string {
	if len(alerts) == 1 {
		return status(m) + " " + m.Summary(alerts[0])
	}
	keys := make([]string, 0, len(m.GroupLabels))
	for k := range m.GroupLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var vals []string
	for _, k := range keys {
		vals = append(vals, m.GroupLabels[k])
	}
	if len(vals) == 0 {
		vals = append(vals, notify.SLONames(alerts))
	}
	return status(m) + " " + strings.Join(vals, " ")
}

// status is [FIRING:n] or [RESOLVED].
func status(m *notify.Message) string {
	if f := m.Firing(); f > 0 {
		return "[FIRING:" + strconv.Itoa(f) + "]"
	}
	return "[RESOLVED]"
}

// fallback is the notification text: the status and the summary of the
// alert that matters most, counting the others.
func fallback(m *notify.Message, alerts []*alerting.Alert) string {
	s := status(m) + " " + m.Summary(alerts[0])
	if len(alerts) > 1 {
		s += " and " + strconv.Itoa(len(alerts)-1) + " more"
	}
	return strings.Join(strings.Fields(s), " ")
}
