package slo

import (
	"strings"
	"testing"
)

// TestValidateLabels checks the engine's own guard on the labels and
// annotations alerts get from a spec: Prometheus label names everywhere,
// and alert labels off the names Burnwatch sets itself.
func TestValidateLabels(t *testing.T) {
	base := func() Spec {
		return Spec{
			Name: "s", Flow: "f", Objective: Availability, Target: 0.99, Period: DefaultPeriod,
			// Flow and SLO labels may use reserved names: alerts override them.
			Labels:           map[string]string{"team": "a", "severity": "spoofed"},
			FlowLabels:       map[string]string{"team": "b", "tier": "spoofed"},
			Criticality:      "critical",
			AlertLabels:      map[string]string{"channel": "c", "_x9": "d"},
			AlertAnnotations: map[string]string{"summary": "{{ .SLO }}", "runbook_url": "u"},
		}
	}
	good := base()
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	tests := []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"label", func(s *Spec) { s.Labels["team-name"] = "x" }, `label "team-name" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)`},
		{"flow label", func(s *Spec) { s.FlowLabels["9"] = "x" }, `flow label "9" is not a label name`},
		{"alert label", func(s *Spec) { s.AlertLabels["a.b"] = "x" }, `alert label "a.b" is not a label name`},
		{"reserved alert label", func(s *Spec) { s.AlertLabels["criticality"] = "x" }, `alert label "criticality" is reserved: every alert gets it from Burnwatch`},
		{"annotation", func(s *Spec) { s.AlertAnnotations["runbook-url"] = "x" }, `alert annotation "runbook-url" is not a label name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.edit(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
	for _, name := range []string{"alertname", "slo", "flow", "tier", "severity", "criticality"} {
		if !ReservedLabel(name) {
			t.Errorf("%s is not reserved", name)
		}
	}
	if ReservedLabel("team") {
		t.Errorf("team is reserved")
	}
	r := ReservedLabels()
	r[0] = "changed"
	if !ReservedLabel("alertname") {
		t.Errorf("ReservedLabels shares its slice")
	}
}
