package alertmanager

import (
	"cmp"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
)

// postableAlert is one alert of Alertmanager's API v2 (postableAlert in
// api/v2/openapi.yaml): labels identify it, startsAt and endsAt say when it
// fires, and an endsAt in the past resolves it.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// entry is one alert of the pusher's set.
type entry struct {
	alert alerting.Alert
	// validUntil is the endsAt of a firing alert, set at each evaluation
	// (see Pusher.Update); a resolved alert's is its EndsAt.
	validUntil time.Time
}

// resolved reports whether e is a resolved alert.
func (e *entry) resolved() bool { return e.alert.State == alerting.StateResolved }

// postable renders e for Alertmanager, with annotations from m.
func (e *entry) postable(m *notify.Message, generatorURL string) postableAlert {
	a := &e.alert
	pa := postableAlert{
		Labels:       labels(a),
		Annotations:  annotations(m.Annotations(a)),
		StartsAt:     a.StartsAt.UTC(),
		EndsAt:       e.validUntil.UTC(),
		GeneratorURL: generatorURL,
	}
	if pa.GeneratorURL == "" && absoluteURL(a.Dashboard) {
		pa.GeneratorURL = a.Dashboard
	}
	// Alertmanager rejects an alert that ends before it starts.
	if !pa.StartsAt.IsZero() && pa.EndsAt.Before(pa.StartsAt) {
		pa.EndsAt = pa.StartsAt
	}
	return pa
}

// labels are a's labels, with the ones Burnwatch always sets filled in
// should a's lack them: Alertmanager wants at least one, and routes rely
// on alertname.
func labels(a *alerting.Alert) map[string]string {
	l := maps.Clone(a.Labels)
	if l == nil {
		l = make(map[string]string, 5)
	}
	for k, v := range map[string]string{
		alerting.LabelAlertName: a.Kind.AlertName(),
		alerting.LabelSLO:       a.SLO,
		alerting.LabelFlow:      a.Flow,
		alerting.LabelTier:      a.Tier,
		alerting.LabelSeverity:  string(a.Severity),
	} {
		if _, ok := l[k]; !ok && v != "" {
			l[k] = v
		}
	}
	return l
}

// annotations returns ann with each name made a valid label name, which
// Alertmanager requires of annotation names too: it rejects an alert with
// any other, and a page should not be lost to an SLO's annotation named
// "on-call". Characters other than letters, digits and '_' become '_'; a
// name taken already keeps its value.
func annotations(ann map[string]string) map[string]string {
	var bad []string
	for k := range ann {
		if !validName(k) {
			bad = append(bad, k)
		}
	}
	slices.Sort(bad) // which of two clashing names wins does not vary
	for _, k := range bad {
		v := ann[k]
		delete(ann, k)
		name := []byte(k)
		for i := range name {
			if !nameByte(name[i], i) {
				name[i] = '_'
			}
		}
		if _, taken := ann[string(name)]; !taken && len(name) > 0 {
			ann[string(name)] = v
		}
	}
	return ann
}

// validName reports whether s is a Prometheus label name, which
// Alertmanager requires (0.25, and later ones in their default legacy
// validation mode).
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i], i) {
			return false
		}
	}
	return s != ""
}

// nameByte reports whether c may be byte i of a label name.
func nameByte(c byte, i int) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9'
}

func absoluteURL(s string) bool {
	if s == "" {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.IsAbs() && u.Host != ""
}

// sortEntries orders alerts by SLO and tier, then fingerprint, for a stable
// payload.
func sortEntries(es []*entry) {
	slices.SortFunc(es, func(x, y *entry) int {
		return cmp.Or(strings.Compare(x.alert.SLO, y.alert.SLO), strings.Compare(x.alert.Tier, y.alert.Tier),
			strings.Compare(x.alert.Fingerprint, y.alert.Fingerprint))
	})
}
