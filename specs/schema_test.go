package specs

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

var allowedRE = regexp.MustCompile(`\(allowed: ([^)]*)\)`)

// TestSchemaKeys keeps the schema in step with the parser: at each
// mapping, the keys the parser allows (read from its message about an
// unknown key) are the schema's properties.
func TestSchemaKeys(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(Schema(), &root); err != nil {
		t.Fatal(err)
	}
	const (
		flow = "apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: f}\nspec:\n  match: [{attribute: a, equals: b}]\n"
		slo  = "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s}\nspec:\n  flow: f\n  target: 99\n"
		mslo = "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s}\nspec:\n  target: 99\n"
	)
	for _, tc := range []struct{ schema, doc string }{
		{"", flow + "zzz: 1\n"},
		{"/properties/metadata", "apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: f, zzz: 1}\nspec: {match: [{attribute: a, equals: b}]}\n"},
		{"/$defs/flowSpec", flow + "  zzz: 1\n"},
		{"/$defs/flowSpec/properties/errors", flow + "  errors: {zzz: 1}\n"},
		{"/$defs/rule", flow + "  errors: {rules: [{attribute: a, equals: b, zzz: 1}]}\n"},
		{"/$defs/sloSpec", slo + "  zzz: 1\n"},
		{"/$defs/objective", slo + "  objective: {zzz: 1}\n"},
		{"/$defs/alerting", slo + "  alerting: {zzz: 1}\n"},
		{"/$defs/tier", slo + "  alerting: {tiers: [{zzz: 1}]}\n"},
		{"/$defs/alerting/properties/budget/items", slo + "  alerting: {budget: [{zzz: 1}]}\n"},
		{"/$defs/alerting/properties/exhaustion/items", slo + "  alerting: {exhaustion: [{zzz: 1}]}\n"},
		{"/$defs/alerting/properties/no_data", slo + "  alerting: {no_data: {zzz: 1}}\n"},
		{"/$defs/indicator", mslo + "  indicator: {zzz: 1}\n"},
		{"/$defs/indicator/properties/metric", mslo + "  indicator: {metric: {zzz: 1}}\n"},
		{"/$defs/metricSource", mslo + "  indicator: {metric: {good: {zzz: 1}}}\n"},
		{"/$defs/indicator/properties/latency", mslo + "  indicator: {latency: {zzz: 1}}\n"},
		{"/$defs/indicator/properties/promql", mslo + "  indicator: {promql: {zzz: 1}}\n"},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.doc))
			m := allowedRE.FindStringSubmatch(errString(err))
			if m == nil {
				t.Fatalf("no allowed keys in %v", err)
			}
			parser := strings.Split(m[1], ", ")
			node := lookup(t, root, tc.schema)
			props, _ := node["properties"].(map[string]any)
			var keys []string
			for k := range props {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			slices.Sort(parser)
			if !slices.Equal(keys, parser) {
				t.Errorf("schema %s has %v; the parser allows %v", tc.schema, keys, parser)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// lookup follows a JSON pointer into the schema, and a $ref at its end.
func lookup(t *testing.T, root map[string]any, ptr string) map[string]any {
	t.Helper()
	node := root
	for _, step := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if step == "" {
			continue
		}
		next, ok := node[step].(map[string]any)
		if !ok {
			t.Fatalf("schema has no %s", ptr)
		}
		node = next
	}
	if ref, ok := node["$ref"].(string); ok {
		return lookup(t, root, strings.TrimPrefix(ref, "#"))
	}
	return node
}

// TestSchemaAcceptsExamples checks every document of the example and good
// test files against the schema, and that it refuses a wrong one.
func TestSchemaAcceptsExamples(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("burnwatch.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("burnwatch.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/good/*.yaml")
	files = append(files, "examples/examples.yaml", "testdata/schema/metric-slos.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range yamlDocs(t, data) {
			if err := sch.Validate(d); err != nil {
				t.Errorf("%s document %d: %v", file, i+1, err)
			}
		}
	}
	for _, bad := range []string{
		"apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s}\nspec: {flow: f, target: 99, trgt: 1}\n",
		"apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s}\nspec: {flow: f, target: 99, period: 1.5h}\n",
		"apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s}\nspec: {target: 99}\n",
		"apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: f}\nspec: {match: [{attribute: a}]}\n",
	} {
		if err := sch.Validate(yamlDocs(t, []byte(bad))[0]); err == nil {
			t.Errorf("schema accepts\n%s", bad)
		}
	}
}

// yamlDocs decodes each YAML document into the values JSON decoding gives.
func yamlDocs(t *testing.T, data []byte) []any {
	t.Helper()
	var out []any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if v == nil {
			continue
		}
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, inst)
	}
}
