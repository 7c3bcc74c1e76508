package teams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/slo"
)

// MaxBodyBytes bounds the encoded body of one POST. Teams drops messages
// over about 28 KB; the card is built to fit whatever the alerts hold.
const MaxBodyBytes = 28_000

// Bounds on single texts, in bytes, so that one alert stays a small share of
// MaxBodyBytes and the first alert always fits.
const (
	maxTitle          = 300
	maxDescription    = 1000
	maxFact           = 300
	maxLabels         = 600
	maxActionTitle    = 60
	maxURL            = 2000 // a cut URL is a broken link: longer ones are left out
	maxActions        = 6
	maxOwnAnnotations = 5
)

// Text colours of the Adaptive Card schema.
const (
	colorAttention = "attention"
	colorWarning   = "warning"
	colorGood      = "good"
)

// message is what a Workflows webhook takes: a Bot Framework message whose
// attachments are cards.
type message struct {
	Type        string       `json:"type"`
	Attachments []attachment `json:"attachments"`
}

type attachment struct {
	ContentType string `json:"contentType"`
	// ContentURL is always null; the card is inline.
	ContentURL *string `json:"contentUrl"`
	Content    card    `json:"content"`
}

type card struct {
	Schema  string   `json:"$schema"`
	Type    string   `json:"type"`
	Version string   `json:"version"`
	MSTeams msteams  `json:"msteams"`
	Body    []any    `json:"body"`
	Actions []action `json:"actions,omitempty"`
}

// msteams widens the card to the channel's width.
type msteams struct {
	Width string `json:"width"`
}

type textBlock struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Size     string `json:"size,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Spacing  string `json:"spacing,omitempty"`
	Wrap     bool   `json:"wrap"`
}

type container struct {
	Type      string `json:"type"`
	Separator bool   `json:"separator,omitempty"`
	Spacing   string `json:"spacing,omitempty"`
	Items     []any  `json:"items"`
}

type factSet struct {
	Type  string `json:"type"`
	Facts []fact `json:"facts"`
}

type action struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Payload is the JSON body Notify posts for m, at most MaxBodyBytes.
func (n *Notifier) Payload(m *notify.Message) ([]byte, error) {
	alerts := notify.Ordered(m.Alerts)
	c := card{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.4",
		MSTeams: msteams{Width: "Full"},
		Body: []any{
			textBlock{Type: "TextBlock", Text: cut(oneLine(title(m, alerts)), maxTitle),
				Size: "large", Weight: "bolder", Color: groupColor(alerts), Wrap: true},
			textBlock{Type: "TextBlock", Text: notify.Counts(alerts) + " · " + stamp(m.At), IsSubtle: true, Spacing: "none", Wrap: true},
		},
	}
	anns := make([]map[string]string, len(alerts))
	items := make([]any, len(alerts))
	for i, a := range alerts {
		anns[i] = m.Annotations(a)
		items[i] = alertContainer(m, a, anns[i])
	}
	c.Actions = n.actions(alerts, anns)
	return fit(c, alerts, items)
}

// fit encodes c with as many of items (one per alert, in order) as fit in
// MaxBodyBytes, and a closing text counting the rest.
func fit(c card, alerts []*alerting.Alert, items []any) ([]byte, error) {
	head := c.Body
	build := func(keep int) ([]byte, error) {
		c.Body = append(append(head[:len(head):len(head)], items[:keep]...), more(alerts[keep:])...)
		return encode(message{Type: "message", Attachments: []attachment{{
			ContentType: "application/vnd.microsoft.card.adaptive", Content: c,
		}}})
	}
	body, err := build(len(items))
	if err != nil || len(body) <= MaxBodyBytes {
		return body, err
	}
	// Too big: add alerts while the sizes say they fit, then make sure.
	base, err := build(0)
	if err != nil {
		return nil, err
	}
	size, keep := len(base), 0
	for ; keep < len(items); keep++ {
		b, err := encode(items[keep])
		if err != nil {
			return nil, err
		}
		if size += len(b) + 1; size > MaxBodyBytes {
			break
		}
	}
	for ; keep >= 0; keep-- {
		if body, err = build(keep); err != nil || len(body) <= MaxBodyBytes {
			return body, err
		}
	}
	return nil, fmt.Errorf("card is %d bytes without alerts, over %d", len(body), MaxBodyBytes)
}

// more is the closing text for the alerts left out, if any.
func more(left []*alerting.Alert) []any {
	if len(left) == 0 {
		return nil
	}
	text := "…and " + strconv.Itoa(len(left)) + " more alert"
	if len(left) > 1 {
		text += "s"
	}
	return []any{textBlock{Type: "TextBlock", Text: text + " (" + notify.Counts(left) + ")", IsSubtle: true, Spacing: "medium", Wrap: true}}
}

func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// Teams needs no HTML escaping, and \u003c would triple the size of
	// every < in a text.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func alertContainer(m *notify.Message, a *alerting.Alert, ann map[string]string) container {
	state := "Firing"
	if a.State == alerting.StateResolved {
		state = "Resolved"
	}
	summary := oneLine(m.Summary(a))
	if summary == "" {
		summary = a.SLO + " " + a.Tier
	}
	items := []any{textBlock{Type: "TextBlock", Text: cut(state+": "+summary, maxTitle),
		Weight: "bolder", Color: alertColor(a), Wrap: true}}
	if d := cut(m.Description(a), maxDescription); d != "" {
		items = append(items, textBlock{Type: "TextBlock", Text: d, Spacing: "small", Wrap: true})
	}
	if fs := alertFacts(m, a, ann); len(fs) > 0 {
		items = append(items, factSet{Type: "FactSet", Facts: fs})
	}
	return container{Type: "Container", Separator: true, Spacing: "medium", Items: items}
}

// actions are buttons for the alerts' runbooks and dashboards, each URL
// once, the first alerts' first, and the Burnwatch page.
func (n *Notifier) actions(alerts []*alerting.Alert, anns []map[string]string) []action {
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
	var out []action
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
			out = append(out, action{Type: "Action.OpenUrl", Title: cut(oneLine(t), maxActionTitle), URL: u})
		}
	}
	if n.cfg.ExternalURL != "" {
		out = append(out, action{Type: "Action.OpenUrl", Title: "Open Burnwatch", URL: n.cfg.ExternalURL})
	}
	return out
}

// title is the card's header, in the words of Alertmanager's default title:
// [FIRING:2] and the group, or the alert's own summary when it is alone.
func title(m *notify.Message, alerts []*alerting.Alert) string {
	status := "[RESOLVED]"
	if f := m.Firing(); f > 0 {
		status = "[FIRING:" + strconv.Itoa(f) + "]"
	}
	if len(alerts) == 1 {
		return status + " " + m.Summary(alerts[0])
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
	return status + " " + strings.Join(vals, " ")
}

// groupColor is attention while a page fires, warning while only tickets
// fire, good when all resolved.
func groupColor(alerts []*alerting.Alert) string {
	c := colorGood
	for _, a := range alerts {
		switch alertColor(a) {
		case colorAttention:
			return colorAttention
		case colorWarning:
			c = colorWarning
		}
	}
	return c
}

func alertColor(a *alerting.Alert) string {
	switch {
	case a.State != alerting.StateFiring:
		return colorGood
	case a.Severity == slo.Page:
		return colorAttention
	}
	return colorWarning
}
