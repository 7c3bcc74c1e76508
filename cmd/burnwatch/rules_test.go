package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runRules runs burnwatch rules with args; code is the exit status main
// gives its error.
func runRules(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := newRulesCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	switch {
	case err == nil:
		return out.String(), errOut.String(), 0
	case errors.Is(err, errInvalid), errors.Is(err, errNoRules):
		return out.String(), errOut.String(), 1
	}
	return out.String(), errOut.String() + "error: " + err.Error() + "\n", 1
}

// TestRulesWritesTheGolden checks the command writes what package
// promrules's golden file holds, to stdout and with -o, and prints the
// notes on stderr.
func TestRulesWritesTheGolden(t *testing.T) {
	spec := "../../promrules/testdata/spans.yaml"
	golden, err := os.ReadFile("../../promrules/testdata/spans.rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The golden file names its spec file as promrules's test does.
	want := strings.Replace(string(golden), "testdata/spans.yaml", spec, 1)
	out, errOut, code := runRules(t, spec)
	if code != 0 || out != want {
		t.Errorf("exit %d, stdout differs from the golden file:\n%s", code, out)
	}
	if !strings.Contains(errOut, `slo "checkout-p99-minutes": no rules: a time-slice SLO`) ||
		!strings.Contains(errOut, `slo "checkout-availability": annotation summary left out`) {
		t.Errorf("stderr lacks the notes:\n%s", errOut)
	}

	path := filepath.Join(t.TempDir(), "burnwatch.rules.yaml")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runRules(t, "-o", path, spec)
	got, err := os.ReadFile(path)
	if code != 0 || out != "" || err != nil || string(got) != want {
		t.Errorf("-o: exit %d, stdout %q, file %v:\n%s", code, out, err, got)
	}
	if !strings.Contains(errOut, "wrote 2 rule groups to "+path) {
		t.Errorf("-o: stderr %s", errOut)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("-o: %v %v, want mode 0644", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("-o left %d files, want the rules alone", len(entries))
	}

	out, _, _ = runRules(t, "--no-keep-firing-for", spec)
	if strings.Contains(out, "keep_firing_for") || !strings.Contains(out, "alert: SLOBurnRate") {
		t.Errorf("--no-keep-firing-for still writes keep_firing_for:\n%.300s", out)
	}
}

// TestRulesBrokenFiles checks broken spec files give validate's messages
// and exit 1, with nothing on stdout.
func TestRulesBrokenFiles(t *testing.T) {
	for _, file := range []string{"05-target", "14-promql-histogram-quantile", "06-unknown-flow-with-field-error"} {
		t.Run(file, func(t *testing.T) {
			want, err := os.ReadFile("testdata/validate/" + file + ".out")
			if err != nil {
				t.Fatal(err)
			}
			out, errOut, code := runRules(t, "testdata/validate/flows.yaml", "testdata/validate/"+file+".yaml")
			if code != 1 || out != "" || errOut != string(want) {
				t.Errorf("exit %d, stdout %q, stderr\n%s\nwant exit 1 and\n%s", code, out, errOut, want)
			}
		})
	}
}

// TestRulesNothingToWrite checks a set whose SLOs all lack rules exits 1.
func TestRulesNothingToWrite(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "slices.yaml")
	data := `apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: checkout}
spec:
  match: [{attribute: http.route, equals: /checkout}]
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-p99}
spec:
  flow: checkout
  objective: {type: percentile, percentile: 99, threshold: 500ms, slice: 1m}
  target: 99
`
	if err := os.WriteFile(spec, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runRules(t, spec)
	if code != 1 || out != "" || !strings.HasSuffix(errOut, "no SLO of these files gets Prometheus rules\n") {
		t.Errorf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	if _, _, code := runRules(t); code != 1 {
		t.Errorf("no files: exit %d, want 1", code)
	}
}
