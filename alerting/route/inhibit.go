package route

import (
	"errors"
	"fmt"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// InhibitRule mutes the alerts TargetMatchers select while an alert that
// SourceMatchers select fires with the same values of the Equal labels,
// Alertmanager's inhibit rule. An alert never inhibits itself.
type InhibitRule struct {
	SourceMatchers []string `mapstructure:"source_matchers"`
	TargetMatchers []string `mapstructure:"target_matchers"`
	Equal          []string `mapstructure:"equal"`
}

// DefaultInhibitRules: a firing page tier mutes the ticket tiers of the same
// SLO, so one incident pages once and opens no ticket beside the page.
func DefaultInhibitRules() []InhibitRule {
	return []InhibitRule{{
		SourceMatchers: []string{alerting.LabelSeverity + `="page"`},
		TargetMatchers: []string{alerting.LabelSeverity + `="ticket"`},
		Equal:          []string{alerting.LabelSLO},
	}}
}

type inhibitor struct {
	source, target alerting.Matchers
	equal          []string
}

func (r InhibitRule) compile() (inhibitor, error) {
	var in inhibitor
	var errs []error
	var err error
	if in.source, err = alerting.ParseMatchers(r.SourceMatchers); err != nil {
		errs = append(errs, fmt.Errorf("source_matchers%w", err))
	}
	if in.target, err = alerting.ParseMatchers(r.TargetMatchers); err != nil {
		errs = append(errs, fmt.Errorf("target_matchers%w", err))
	}
	if len(r.SourceMatchers) == 0 || len(r.TargetMatchers) == 0 {
		errs = append(errs, errors.New("source_matchers, target_matchers: both are required"))
	}
	in.equal = r.Equal
	return in, errors.Join(errs...)
}

// inhibitedBy returns the fingerprint of a firing alert that inhibits a, or
// "".
func (in inhibitor) inhibitedBy(a alerting.Alert, firing []alerting.Alert) string {
	if !in.target.Matches(a.Labels) {
		return ""
	}
	for i := range firing {
		s := &firing[i]
		if s.Fingerprint == a.Fingerprint || !in.source.Matches(s.Labels) {
			continue
		}
		same := true
		for _, l := range in.equal {
			if s.Labels[l] != a.Labels[l] {
				same = false
				break
			}
		}
		if same {
			return s.Fingerprint
		}
	}
	return ""
}

// muted says whether a firing alert is held back now: silenced, or
// inhibited by one of firing.
func (r *Router) muted(a alerting.Alert, firing []alerting.Alert, now time.Time) bool {
	if r.silences != nil && r.silences.Silenced(a.Labels, now) {
		return true
	}
	for _, in := range r.inhibit {
		if in.inhibitedBy(a, firing) != "" {
			return true
		}
	}
	return false
}

// InhibitedBy returns the fingerprints of the firing alerts that inhibit a,
// for the alerts API.
func (r *Router) InhibitedBy(a alerting.Alert, firing []alerting.Alert) []string {
	var out []string
	for _, in := range r.inhibit {
		if fp := in.inhibitedBy(a, firing); fp != "" {
			out = append(out, fp)
		}
	}
	return out
}

// Receivers returns the receivers an alert with labels is routed to.
func (r *Router) Receivers(labels map[string]string) []string {
	var out []string
	for _, n := range r.root.match(labels) {
		out = append(out, n.receiver)
	}
	return out
}
