package importrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// TestTreeKeepsTheRules runs go list over the module and fails on any
// dependency a rule forbids.
func TestTreeKeepsTheRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", "./...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	// Every rule's folder exists, so a rule cannot go quiet by a rename.
	for _, r := range Rules {
		found := false
		for _, p := range pkgs {
			found = found || under(p.ImportPath, Module+"/"+r.From)
		}
		if !found {
			t.Errorf("rule for %s/ matches no package", r.From)
		}
	}
	if v := Violations(pkgs, Rules); len(v) > 0 {
		t.Errorf("import rules broken:\n%s", strings.Join(v, "\n"))
	}
}

// TestViolations breaks each rule on purpose with fake edges.
func TestViolations(t *testing.T) {
	pkgs := []Package{
		{ImportPath: Module + "/slo", Deps: []string{"fmt", collector + "/pdata/ptrace"}},
		{ImportPath: Module + "/slo/sketch", Deps: []string{"math"}},
		{ImportPath: Module + "/storage/wal", Deps: []string{Module + "/slo", Module + "/storage/internal/durable"}},
		{ImportPath: Module + "/alerting/notify/webhook", Deps: []string{Module + "/storage/journal"}},
		{ImportPath: Module + "/app", Deps: []string{collector + "/component"}},
		// Allowed: adapters import the collector and the core.
		{ImportPath: Module + "/processors/flowprocessor", Deps: []string{collector + "/processor", Module + "/app"}},
		// Not under a rule's folder just because the name starts alike.
		{ImportPath: Module + "/slowthing", Deps: []string{collector + "/component"}},
		{ImportPath: Module + "/storagebench", Deps: []string{Module + "/slo"}},
	}
	want := []string{
		Module + "/alerting/notify/webhook imports " + Module + "/storage/journal: alerting is pure and knows nothing of storage",
		Module + "/app imports " + collector + "/component: the daemon core is embeddable without the collector",
		Module + "/slo imports " + collector + "/pdata/ptrace: the engine is pure",
		Module + "/storage/wal imports " + Module + "/slo: storage is bytes only",
	}
	if got := Violations(pkgs, Rules); !reflect.DeepEqual(got, want) {
		t.Errorf("Violations:\n got %q\nwant %q", got, want)
	}
}
