package slack

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
)

// fact is one field of an alert's section.
type fact struct{ title, value string }

// shownLabels are the labels every alert has and the fields already show.
var shownLabels = map[string]bool{
	alerting.LabelAlertName: true, alerting.LabelSLO: true, alerting.LabelFlow: true,
	alerting.LabelTier: true, alerting.LabelSeverity: true,
}

// linkKeys are annotations the message shows as buttons.
var linkKeys = map[string]bool{"runbook_url": true, "dashboard_url": true}

// alertFields are the numbers behind a, from m's annotations so an SLO's own
// annotation templates apply: objective, tier, what the kind measures,
// budget, events and since when. At most maxFields.
func alertFields(m *notify.Message, a *alerting.Alert, ann map[string]string) []fact {
	var fs []fact
	add := func(title, value string) {
		if value = strings.TrimSpace(value); value != "" && len(fs) < maxFields {
			fs = append(fs, fact{title, value})
		}
	}
	add("Objective", ann["objective"]+" ("+ann["period"]+")")
	tier := a.Tier
	if a.Severity != "" {
		tier += " · " + string(a.Severity)
	}
	add("Tier", tier)
	switch a.Kind {
	case alerting.KindBudget:
		add("Budget spent", ann["budget_consumed"]+" (threshold "+ann["budget_threshold"]+")")
	case alerting.KindExhaustion:
		add("Burn rate", burn(ann["burn_rate"])+" over "+ann["window"])
		add("Alert within", ann["within"])
	case alerting.KindNoData:
		silence := ann["silence"]
		if silence == "" {
			silence = "no events yet"
		}
		add("Silent for", silence+" (alert after "+ann["after"]+")")
	default:
		add("Burn rate", burn(ann["burn_rate_long"])+" over "+ann["window_long"]+", "+
			burn(ann["burn_rate_short"])+" over "+ann["window_short"]+" (factor "+ann["factor"]+")")
	}
	add("Budget left", ann["budget_left"])
	add("Exhausted in", ann["time_to_exhaustion"])
	add("Good / total", groupDigits(ann["events_good"])+" / "+groupDigits(ann["events_total"]))
	if a.State == alerting.StateResolved {
		if !a.EndsAt.IsZero() {
			at := stamp(a.EndsAt)
			// Guarded: a zero or inverted span would be negative, and
			// FormatDuration(math.MinInt64) does not return.
			if a.EndsAt.After(a.StartsAt) && !a.StartsAt.IsZero() {
				at += ", after " + alerting.FormatDuration(a.EndsAt.Sub(a.StartsAt))
			}
			add("Resolved at", at)
		}
	} else {
		since := stamp(a.StartsAt)
		if m.At.After(a.StartsAt) && !a.StartsAt.IsZero() {
			since += " (" + alerting.FormatDuration(m.At.Sub(a.StartsAt)) + ")"
		}
		add("Firing since", since)
	}
	return fs
}

// alertContext is the small print under an alert, as facts: the SLO's
// description, trace IDs, the SLO's other labels and its own annotations.
func alertContext(a *alerting.Alert, ann map[string]string) []fact {
	var fs []fact
	add := func(title, value string) {
		if value = strings.TrimSpace(value); value != "" {
			fs = append(fs, fact{title, value})
		}
	}
	if d := ann["slo_description"]; d != "" {
		add("SLO", a.SLO+": "+d)
	}
	if ids := ann["trace_ids"]; ids != "" {
		add("Trace IDs", "`"+strings.ReplaceAll(ids, ",", "`, `")+"`")
	}
	add("Labels", otherLabels(a.Labels))
	for _, k := range ownAnnotations(a, ann) {
		add(k, ann[k])
	}
	return fs
}

// otherLabels lists the labels beyond those every alert has, "k=v, ...".
func otherLabels(labels map[string]string) string {
	var parts []string
	for k, v := range labels {
		if !shownLabels[k] {
			parts = append(parts, k+"="+v)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// ownAnnotations are the keys of the SLO's own annotations that the message
// does not show elsewhere, sorted, at most maxOwnAnnotations.
func ownAnnotations(a *alerting.Alert, ann map[string]string) []string {
	var keys []string
	builtin := a.Annotations()
	for k := range a.AnnotationTemplates {
		if _, ok := builtin[k]; !ok && !linkKeys[k] && ann[k] != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys[:min(len(keys), maxOwnAnnotations)]
}

// burn writes a burn rate annotation as the summary does, 20.1x; anything
// else (an annotation template's text) is left as is.
func burn(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + "x"
}

// stamp renders t for people, in UTC.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// groupDigits writes a count with thousands separators: 1,000,000. Anything
// that is not all digits (an annotation template's text) is left as is.
func groupDigits(s string) string {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// units counts s as Slack's limits might: in UTF-16 code units, which is at
// least the number of characters however Slack counts them.
func units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// mrkdwn escapes s for a mrkdwn text (&, < and > as Slack requires) and cuts
// the result to limit units, ending with "…" when it was longer and never
// inside an entity.
func mrkdwn(s string, limit int) string { return fit(clean(s), limit, escape) }

// plain cuts s to limit units for a plain_text object, which takes text as is.
func plain(s string, limit int) string {
	return fit(strings.Join(strings.Fields(clean(s)), " "), limit, nil)
}

func escape(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return string(r)
}

// fit writes the runes of s, through esc when set, in at most limit units;
// when they do not all fit, as many whole pieces (a rune or an entity) as
// leave room for "…", then "…".
func fit(s string, limit int, esc func(rune) string) string {
	var pieces []string
	total := 0
	for _, r := range s {
		p := string(r)
		if esc != nil {
			p = esc(r)
		}
		pieces = append(pieces, p)
		if total += units(p); total > limit {
			break // enough to fill limit; the rest is cut anyway
		}
	}
	if total <= limit {
		return strings.Join(pieces, "")
	}
	var b strings.Builder
	n := 0
	for _, p := range pieces {
		if n+units(p) > limit-1 {
			break
		}
		b.WriteString(p)
		n += units(p)
	}
	return strings.TrimRightFunc(b.String(), unicode.IsSpace) + "…"
}

// clean makes s safe to show: valid UTF-8, control characters other than
// newline and tab as spaces, surrounding space trimmed.
func clean(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD")))
}
