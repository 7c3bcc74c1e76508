package notify

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/slo"
)

// What the chat notifiers (Slack, Teams) present alike.

// Rank orders alerts for a person: firing pages first, then firing tickets,
// then what resolved.
func Rank(a *alerting.Alert) int {
	switch {
	case a.State != alerting.StateFiring:
		return 2
	case a.Severity == slo.Page:
		return 0
	}
	return 1
}

// Ordered returns pointers to alerts in Rank order, stable within a rank.
func Ordered(alerts []alerting.Alert) []*alerting.Alert {
	out := make([]*alerting.Alert, len(alerts))
	for i := range alerts {
		out[i] = &alerts[i]
	}
	sort.SliceStable(out, func(i, j int) bool { return Rank(out[i]) < Rank(out[j]) })
	return out
}

// SLONames names the alerts' SLO, or counts them when there are several.
func SLONames(alerts []*alerting.Alert) string {
	names := map[string]bool{}
	for _, a := range alerts {
		names[a.SLO] = true
	}
	if len(names) == 1 {
		return alerts[0].SLO
	}
	return strconv.Itoa(len(names)) + " SLOs"
}

// Counts says how many alerts fire and how many resolved: "2 firing, 1
// resolved".
func Counts(alerts []*alerting.Alert) string {
	firing := 0
	for _, a := range alerts {
		if a.State == alerting.StateFiring {
			firing++
		}
	}
	var parts []string
	if firing > 0 {
		parts = append(parts, strconv.Itoa(firing)+" firing")
	}
	if resolved := len(alerts) - firing; resolved > 0 {
		parts = append(parts, strconv.Itoa(resolved)+" resolved")
	}
	return strings.Join(parts, ", ")
}

// Linkable says raw can be a button's link: an absolute http or https URL
// of at most max bytes.
func Linkable(raw string, max int) bool {
	if raw == "" || len(raw) > max {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
