package promrules

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/burnwatch/burnwatch/specs"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenCases are spec sets and the rule file each generates,
// testdata/NAME.rules.yaml, with the notes in testdata/NAME.notes.
var goldenCases = []struct {
	name  string
	files []string
}{
	{"spans", []string{"testdata/spans.yaml"}},
	{"sloth", []string{"../specs/testdata/import/sloth-multi.yaml", "../specs/testdata/import/sloth-getting-started.yaml"}},
	{"openslo", []string{"../specs/testdata/import/openslo-ratio.yaml", "../specs/testdata/import/openslo-refs.yaml", "testdata/openslo-counter.yaml"}},
	{"promql", []string{"testdata/promql.yaml"}},
	{"grouped", []string{"testdata/grouped.yaml"}},
	{"promql-grouped", []string{"testdata/promql-grouped.yaml"}},
	{"examples", []string{"builtin:examples.yaml"}},
}

// generate loads files and generates their rule file and notes.
func generate(t *testing.T, files ...string) ([]byte, string) {
	t.Helper()
	set, err := specs.Load(files...)
	if err != nil {
		t.Fatal(err)
	}
	f, notes, err := Generate(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Marshal(files)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, n := range notes {
		b.WriteString(n.String() + "\n")
	}
	return out, b.String()
}

// TestGolden compares the generated rules and notes with the golden files;
// go test -update rewrites them.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			out, notes := generate(t, c.files...)
			golden(t, filepath.Join("testdata", c.name+".rules.yaml"), string(out))
			golden(t, filepath.Join("testdata", c.name+".notes"), notes)
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestLiteral checks spec text reaches Prometheus, which expands templates
// in labels and annotations, as it is: text holding "{{" is a template
// printing it.
func TestLiteral(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://runbooks.example/checkout", "https://runbooks.example/checkout"},
		{"a {{ b }}", `{{ "a {{ b }}" }}`},
		{`say "{{x}}" \ now`, `{{ "say \"{{x}}\" \\ now" }}`},
	} {
		if got := literal(tc.in); got != tc.want {
			t.Errorf("literal(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
