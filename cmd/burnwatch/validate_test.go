package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/collector/otelcol"
)

// runValidate runs burnwatch validate with args; code is the exit status
// main gives its error.
func runValidate(t *testing.T, args ...string) (out string, code int) {
	t.Helper()
	root := &cobra.Command{Use: "burnwatch"}
	cmd := newValidateCommand(root)
	var buf bytes.Buffer
	cmd.SetOut(&buf)
	cmd.SetErr(&buf)
	cmd.SetArgs(args)
	err := cmd.Execute()
	switch {
	case err == nil:
		return buf.String(), 0
	case errors.Is(err, errInvalid):
		return buf.String(), 1
	}
	return buf.String() + "error: " + err.Error() + "\n", 1
}

// TestValidateBadFiles runs validate on each bad file (after flows.yaml,
// which defines the flow checkout) and compares what it prints with
// testdata/validate/NAME.out: every problem once, FILE:LINE[:COLUMN]:
// key.path: message. Each must exit 1.
func TestValidateBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/validate/[0-9]*.yaml")
	if err != nil || len(files) < 30 {
		t.Fatalf("want at least 30 bad files, have %d (%v)", len(files), err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, code := runValidate(t, "testdata/validate/flows.yaml", file)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			seen := map[string]bool{}
			for _, l := range lines {
				if seen[l] {
					t.Errorf("printed twice: %s", l)
				}
				seen[l] = true
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".out"
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", golden, out, want)
			}
		})
	}
}

func TestValidateGood(t *testing.T) {
	out, code := runValidate(t, "testdata/validate/flows.yaml", "../../specs/testdata/import/sloth-*.yaml", "../../specs/testdata/import/openslo-refs.yaml")
	want := "valid: 1 flow, 6 SLOs (testdata/validate/flows.yaml: 1 flow, 0 SLOs; " +
		"../../specs/testdata/import/sloth-getting-started.yaml: 0 flows, 1 SLO; ../../specs/testdata/import/sloth-multi.yaml: 0 flows, 3 SLOs; " +
		"../../specs/testdata/import/openslo-refs.yaml: 0 flows, 2 SLOs)\n"
	if code != 0 || out != want {
		t.Errorf("exit %d, output\n%s\nwant exit 0 and\n%s", code, out, want)
	}
	// Files built into the binary, as the extension's files: take them.
	if out, code := runValidate(t, "builtin:*.yaml"); code != 0 || !strings.HasPrefix(out, "valid: ") || !strings.Contains(out, "(builtin:examples.yaml: ") {
		t.Errorf("builtin: exit %d, output %s", code, out)
	}
}

func TestValidateUsage(t *testing.T) {
	if out, code := runValidate(t); code != 1 || !strings.Contains(out, "give spec files to validate, or --config") {
		t.Errorf("exit %d: %s", code, out)
	}
	if out, code := runValidate(t, "testdata/validate/nothing-*.yaml"); code != 1 || out != "specs: \"testdata/validate/nothing-*.yaml\" matches no files\n1 problem\n" {
		t.Errorf("exit %d: %q", code, out)
	}
	out, code := runValidate(t, "--schema")
	if code != 0 || !strings.Contains(out, `"$schema": "https://json-schema.org/draft/2020-12/schema"`) {
		t.Errorf("--schema: exit %d: %.200s", code, out)
	}
}

// TestValidateReplacesCollectors checks burnwatch has one validate, ours,
// which takes the collector's --config.
func TestValidateReplacesCollectors(t *testing.T) {
	root := otelcol.NewCommand(otelcol.CollectorSettings{Factories: components})
	root.AddCommand(newValidateCommand(root))
	var n int
	for _, c := range root.Commands() {
		if c.Name() == "validate" {
			n++
			if c.Flags().Lookup("config") == nil || c.Flags().Lookup("schema") == nil {
				t.Error("validate lacks --config or --schema")
			}
		}
	}
	if n != 1 {
		t.Errorf("%d validate commands, want 1", n)
	}
}
