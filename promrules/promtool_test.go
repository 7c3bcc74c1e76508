package promrules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// promtool finds promtool (Debian's prometheus package; make test-deps
// installs it). Without it the test skips, except in CI (CI set), where a
// skipped check would pass unseen.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("promtool not found in CI: make test-deps installs it (apt-get install prometheus)")
	}
	t.Skip("promtool not found (apt-get install prometheus, or make test-deps)")
	return ""
}

func runPromtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPromtoolCheckRules runs promtool check rules on the rules of every
// golden case, freshly generated: the files load in a Prometheus ruler.
func TestPromtoolCheckRules(t *testing.T) {
	promtool(t)
	dir := t.TempDir()
	var files []string
	for _, c := range goldenCases {
		out, _ := generate(t, c.files...)
		name := c.name + ".rules.yaml"
		if err := os.WriteFile(filepath.Join(dir, name), out, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	out := runPromtool(t, dir, append([]string{"check", "rules"}, files...)...)
	if n := strings.Count(out, "SUCCESS"); n != len(files) {
		t.Errorf("%d of %d files pass:\n%s", n, len(files), out)
	}
}

// TestPromtoolUnitTests runs promtool's unit tests on the rules generated
// from their spec files:
//   - outage: the page alert fires on a synthetic outage when the windows'
//     arithmetic says, not a minute before, and resolves after its hold;
//   - grouped: of a grouped flow's SLO copies, only the failing group's
//     pages, labelled as the daemon labels that group's alert;
//   - promql-grouped: the same for a PromQL indicator summed by two
//     labels, on the team's own series, one of the groups without a label.
func TestPromtoolUnitTests(t *testing.T) {
	promtool(t)
	for _, name := range []string{"outage", "grouped", "promql-grouped"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			out, _ := generate(t, "testdata/"+name+".yaml")
			if err := os.WriteFile(filepath.Join(dir, name+".rules.yaml"), out, 0o644); err != nil {
				t.Fatal(err)
			}
			test, err := os.ReadFile("testdata/" + name + "_test.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+"_test.yaml"), test, 0o644); err != nil {
				t.Fatal(err)
			}
			if out := runPromtool(t, dir, "test", "rules", name+"_test.yaml"); !strings.Contains(out, "SUCCESS") {
				t.Errorf("promtool test rules:\n%s", out)
			}
		})
	}
}
