package specs

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/burnwatch/burnwatch/slo"
)

// TestImportGolden maps OpenSLO and Sloth files onto Burnwatch SLOs and
// compares a stable rendering of them with testdata/import/NAME.golden
// (go test -update rewrites).
func TestImportGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/import/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			set, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			got := renderSLOs(set)
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("mapping differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// renderSLOs writes a Set's SLOs as stable text for golden files.
func renderSLOs(set *Set) string {
	var b strings.Builder
	kv := func(m map[string]string) string {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	for _, s := range set.SLOs {
		fmt.Fprintf(&b, "slo: %s\n", s.Name)
		fmt.Fprintf(&b, "  flow: %s\n", s.Flow)
		if s.Description != "" {
			fmt.Fprintf(&b, "  description: %s\n", s.Description)
		}
		fmt.Fprintf(&b, "  objective: %s, target: %v, criticality: %s\n", s.Objective, s.Target, s.Criticality)
		period := FormatDuration(s.Period)
		if c := s.Calendar; c != nil {
			period = fmt.Sprintf("calendar %v in %s", map[slo.CalendarUnit]string{slo.Month: "month", slo.Week: "week"}[c.Unit], c.Location)
			if c.Unit == slo.Week {
				period += ", starting " + c.WeekStart.String()
			}
		}
		fmt.Fprintf(&b, "  period: %s\n", period)
		fmt.Fprintf(&b, "  labels: %s\n", kv(s.Labels))
		fmt.Fprintf(&b, "  alert labels: %s\n", kv(s.AlertLabels))
		fmt.Fprintf(&b, "  alert annotations: %s\n", kv(s.AlertAnnotations))
		fmt.Fprintf(&b, "  tiers:\n")
		for _, t := range s.Tiers {
			fmt.Fprintf(&b, "    - %s %s long %s short %s factor %v\n", t.Name, t.Severity, FormatDuration(t.Long), FormatDuration(t.Short), t.Factor)
		}
		if s.NoData > 0 {
			fmt.Fprintf(&b, "  no data: after %s, %s\n", FormatDuration(s.NoData), s.NoDataSeverity)
		}
		fmt.Fprintf(&b, "  indicator:\n")
		for _, line := range strings.Split(strings.TrimSpace(set.Indicators[s.Name].String()), "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
	}
	return b.String()
}
