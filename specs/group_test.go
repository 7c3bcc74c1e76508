package specs

import (
	"slices"
	"strings"
	"testing"
)

// TestParseGroupBy: group_by takes a key or a list of keys, max_groups a
// cap; each mistake gets its own message.
func TestParseGroupBy(t *testing.T) {
	const head = "apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: api}\nspec:\n  match: [{attribute: service.name, equals: shop}]\n"
	for _, tc := range []struct {
		name, doc string
		keys      []string
		max       int
	}{
		{"one key", head + "  group_by: http.route\n", []string{"http.route"}, 0},
		{"keys and cap", head + "  group_by: [http.route, http.request.method]\n  max_groups: 20\n", []string{"http.route", "http.request.method"}, 20},
	} {
		set, err := Parse("x.yaml", []byte(tc.doc))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if f := set.Flows[0]; !slices.Equal(f.GroupBy, tc.keys) || f.MaxGroups != tc.max {
			t.Errorf("%s: group_by %q max %d, want %q %d", tc.name, f.GroupBy, f.MaxGroups, tc.keys, tc.max)
		}
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"empty list", head + "  group_by: []\n", "x.yaml:6: spec.group_by: is empty (want a key, e.g. group_by: http.route, or a list of keys)"},
		{"twice", head + "  group_by: [a, a]\n", "x.yaml:6: spec.group_by[1]: a is given twice"},
		{"own annotation", head + "  group_by: burnwatch.flow\n", "x.yaml:6: spec.group_by: burnwatch.flow is Burnwatch's own annotation, not something to group by"},
		{"cap without keys", head + "  max_groups: 5\n", "x.yaml:6: spec.max_groups: without group_by there are no groups to cap"},
		{"cap zero", head + "  group_by: a\n  max_groups: 0\n", "x.yaml:7: spec.max_groups: 0 is not in 1..10000"},
		{"cap not a number", head + "  group_by: a\n  max_groups: many\n", `x.yaml:7: spec.max_groups: "many" is not a whole number >= 0`},
		{"typo", head + "  groupby: a\n", "x.yaml:6: spec.groupby: unknown key; did you mean group_by?"},
	} {
		_, err := Parse("x.yaml", []byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error\n%v\nwant it to contain\n%s", tc.name, err, tc.want)
		}
	}
}
