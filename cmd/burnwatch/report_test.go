package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/alerting/history"
)

// The history and specs of alerting/history's golden test; the numbers are
// worked out in alerting/history/report_test.go.
const (
	testHistory = "../../alerting/history/testdata/alerts.jsonl"
	testSpecs   = "../../alerting/history/testdata/specs.yaml"
)

func runReport(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newReportCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestReportDataDir reads the history where the daemon writes it, under
// BURNWATCH_DATA_DIR, without --history.
func TestReportDataDir(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(testHistory)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "history"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "history", "alerts.jsonl"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BURNWATCH_DATA_DIR", dir)
	out, err := runReport(t, "--since", "7d", "--until", "2026-03-09T00:00:00Z", "--tz", "Europe/Berlin",
		"--specs", testSpecs, "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var r history.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := history.Total{Alerts: 5, Episodes: 11, Open: 1, Firing: history.Seconds(41740 * time.Second), Flaps: 2, OffHoursPages: 2, ShortEpisodes: 1}
	if r.Total != want || len(r.NeverFired) != 5 {
		t.Errorf("total %+v, never fired %v; want %+v, 5 never fired", r.Total, r.NeverFired, want)
	}
	if len(r.Input.Files) != 1 || r.Input.Files[0] != filepath.Join(dir, "history", "alerts.jsonl") {
		t.Errorf("files %v, want the one under BURNWATCH_DATA_DIR", r.Input.Files)
	}
}

func TestReportTable(t *testing.T) {
	out, err := runReport(t, "--history", testHistory, "--since", "7d", "--until", "2026-03-09T00:00:00Z", "--tz", "Europe/Berlin")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"checkout-availability  page-fast    page      5           3h 40m        30m     1      2                    1\n",
		"Never fired: not checked (give the spec files with --specs).\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestReportErrors(t *testing.T) {
	none := filepath.Join(t.TempDir(), "alerts*")
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"--history", testHistory, "-o", "yaml"}, `--output "yaml": want table or json`},
		{[]string{"--history", testHistory, "--since", "yesterday"}, `--since "yesterday"`},
		{[]string{"--history", testHistory, "--tz", "Berlin"}, `--tz "Berlin"`},
		{[]string{"--history", none}, `--history: "` + none + `" matches no file`},
		{[]string{"--history", testHistory, "--specs", "missing.yaml"}, `--specs: specs: "missing.yaml" matches no files`},
		{[]string{"--history", testHistory, "extra"}, `unknown command "extra"`},
	}
	for _, tt := range tests {
		out, err := runReport(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("report %v: error %v, want %q\n%s", tt.args, err, tt.err, out)
		}
	}
}
