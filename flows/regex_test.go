package flows

import "testing"

// TestMatcherShortcuts checks each shortcut is taken where expected and
// answers exactly as the anchored regex does.
func TestMatcherShortcuts(t *testing.T) {
	exprs := []struct {
		expr string
		kind matchKind
	}{
		{"GET", matchEqual},
		{`/a\.b`, matchEqual},
		{"/checkout.*", matchPrefix},
		{".*/pay", matchSuffix},
		{".*pay.*", matchContains},
		{".*", matchAny},
		{"(?s:.*)", matchAny},
		{"", matchRegex},
		{"(?i)get", matchRegex},
		{"/checkout.+", matchRegex},
		{"(?-s:/checkout.*)", matchRegex}, // "." stops at newlines here
		{"GET|POST", matchRegex},
		{"/api/v[0-9]+/.*", matchRegex},
		{"(/checkout).*", matchRegex},
		{"^/checkout.*$", matchRegex},
	}
	inputs := []string{"", "GET", "get", "POST", "/a.b", "/axb", "/checkout", "/checkout/pay", "/checkout\n/x",
		"x/checkout", "/pay", "/checkout/pay/", "pay", "a\npay\nb", "/api/v2/x", "/api/v/x"}
	for _, e := range exprs {
		m, err := newMatcher(e.expr)
		if err != nil {
			t.Fatalf("%q: %v", e.expr, err)
		}
		if m.kind != e.kind {
			t.Errorf("%q: shortcut %d, want %d", e.expr, m.kind, e.kind)
		}
		for _, in := range inputs {
			if got, want := m.MatchString(in), m.re.MatchString(in); got != want {
				t.Errorf("%q on %q: shortcut says %v, regex %v", e.expr, in, got, want)
			}
		}
	}
}
