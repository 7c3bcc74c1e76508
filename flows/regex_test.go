package flows

import (
	"regexp"
	"testing"
)

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
		{"20.*", matchPrefix},
		{".*00", matchSuffix},
		{"1e.*", matchPrefix},
		{`-1\.2.*`, matchPrefix},
	}
	inputs := []string{"", "GET", "get", "POST", "/a.b", "/axb", "/checkout", "/checkout/pay", "/checkout\n/x",
		"x/checkout", "/pay", "/checkout/pay/", "pay", "a\npay\nb", "/api/v2/x", "/api/v/x"}
	// What Match sees: the decimal form of numbers.
	numbers := []string{"0", "-1", "200", "503", "1.5", "1e+21", "-1.2345678901234567e-308", "NaN", "+Inf", "true"}
	for _, e := range exprs {
		m, err := newMatcher(e.expr)
		if err != nil {
			t.Fatalf("%q: %v", e.expr, err)
		}
		if m.kind != e.kind {
			t.Errorf("%q: shortcut %d, want %d", e.expr, m.kind, e.kind)
		}
		if (m.re == nil) != (m.kind != matchRegex) {
			t.Errorf("%q: compiled regex %v with shortcut %d", e.expr, m.re, m.kind)
		}
		re := regexp.MustCompile(anchor(e.expr))
		for _, in := range inputs {
			if got, want := m.MatchString(in), re.MatchString(in); got != want {
				t.Errorf("%q on %q: shortcut says %v, regex %v", e.expr, in, got, want)
			}
		}
		for _, in := range append(numbers, e.expr) {
			if got, want := m.Match([]byte(in)), re.MatchString(in); got != want {
				t.Errorf("%q on bytes %q: Match says %v, regex %v", e.expr, in, got, want)
			}
		}
	}
}
