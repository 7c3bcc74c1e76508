package teams

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
)

// fact is one row of a FactSet.
type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// shownLabels are the labels every alert has and the facts already show.
var shownLabels = map[string]bool{
	alerting.LabelAlertName: true, alerting.LabelSLO: true, alerting.LabelFlow: true,
	alerting.LabelTier: true, alerting.LabelSeverity: true,
}

// alertFacts are the numbers behind a, from m's annotations so an SLO's own
// annotation templates apply, each cut to maxFact bytes: objective, tier,
// what the kind measures, budget, events, since when, trace IDs, the SLO's
// other labels and its own annotations.
func alertFacts(m *notify.Message, a *alerting.Alert, ann map[string]string) []fact {
	var fs []fact
	add := func(title, value string, limit int) {
		if value = strings.TrimSpace(value); value != "" {
			fs = append(fs, fact{Title: title, Value: cut(value, limit)})
		}
	}
	add("Objective", ann["objective"]+" ("+ann["period"]+")", maxFact)
	tier := a.Tier
	if a.Severity != "" {
		tier += " · " + string(a.Severity)
	}
	add("Tier", tier, maxFact)
	if d := ann["slo_description"]; d != "" {
		add("SLO", a.SLO+": "+d, maxFact)
	}
	switch a.Kind {
	case alerting.KindBudget:
		add("Budget spent", ann["budget_consumed"]+" (threshold "+ann["budget_threshold"]+")", maxFact)
	case alerting.KindExhaustion:
		add("Burn rate", burn(ann["burn_rate"])+" over "+ann["window"], maxFact)
		add("Alert within", ann["within"], maxFact)
	case alerting.KindNoData:
		silence := ann["silence"]
		if silence == "" {
			silence = "no events yet"
		}
		add("Silent for", silence+" (alert after "+ann["after"]+")", maxFact)
	default:
		add("Burn rate", burn(ann["burn_rate_long"])+" over "+ann["window_long"]+", "+
			burn(ann["burn_rate_short"])+" over "+ann["window_short"]+" (factor "+ann["factor"]+")", maxFact)
	}
	add("Budget left", ann["budget_left"], maxFact)
	add("Exhausted in", ann["time_to_exhaustion"], maxFact)
	add("Good / total", groupDigits(ann["events_good"])+" / "+groupDigits(ann["events_total"]), maxFact)
	if a.State == alerting.StateResolved {
		if !a.EndsAt.IsZero() {
			at := stamp(a.EndsAt)
			// Guarded: a zero or inverted span would be negative, and
			// FormatDuration(math.MinInt64) does not return.
			if a.EndsAt.After(a.StartsAt) && !a.StartsAt.IsZero() {
				at += ", after " + alerting.FormatDuration(a.EndsAt.Sub(a.StartsAt))
			}
			add("Resolved at", at, maxFact)
		}
	} else {
		since := stamp(a.StartsAt)
		if m.At.After(a.StartsAt) && !a.StartsAt.IsZero() {
			since += " (" + alerting.FormatDuration(m.At.Sub(a.StartsAt)) + ")"
		}
		add("Firing since", since, maxFact)
	}
	add("Trace IDs", strings.ReplaceAll(ann["trace_ids"], ",", ", "), maxFact)
	add("Labels", otherLabels(a.Labels), maxLabels)
	for _, k := range ownAnnotations(a, ann) {
		add(k, ann[k], maxFact)
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

// ownAnnotations are the keys of the SLO's own annotations that the card
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

// linkKeys are annotations the card shows as buttons.
var linkKeys = map[string]bool{"runbook_url": true, "dashboard_url": true}

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

// cut returns s made safe to show (valid UTF-8; control characters other
// than newline and tab as spaces; surrounding space trimmed) in at most
// limit bytes, cut at a rune boundary and ended with "…" when it was longer.
// Bytes rather than runes, so that limit bounds the encoded card.
func cut(s string, limit int) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD")))
	if len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	end := limit - len(ellipsis)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return strings.TrimSpace(s[:max(end, 0)]) + ellipsis
}

// oneLine joins the lines of s with spaces, for titles.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
