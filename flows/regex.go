package flows

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// matchKind is a shortcut for an anchored regex that is really a string
// test. Flows are mostly written as "/checkout.*" or "GET": answering those
// with strings.HasPrefix or == is several times faster than the regex
// engine, on every span.
type matchKind uint8

const (
	matchRegex    matchKind = iota // no shortcut: run the regex
	matchEqual                     // lit
	matchPrefix                    // lit.*
	matchSuffix                    // .*lit
	matchContains                  // .*lit.*
	matchAny                       // .*
)

// matcher is an anchored regex with its shortcut, if any.
type matcher struct {
	kind matchKind
	lit  string
	re   *regexp.Regexp
}

func newMatcher(expr string) (matcher, error) {
	re, err := compileRegex(expr)
	if err != nil {
		return matcher{}, err
	}
	m := matcher{re: re}
	// DotNL matches the (?s) of anchor: ".*" then matches any string.
	parsed, err := syntax.Parse(expr, syntax.Perl|syntax.DotNL)
	if err != nil {
		return m, nil // compileRegex accepted it; no shortcut is fine
	}
	parsed = parsed.Simplify()
	lit := func(r *syntax.Regexp) (string, bool) {
		if r.Op != syntax.OpLiteral || r.Flags&syntax.FoldCase != 0 {
			return "", false
		}
		return string(r.Rune), true
	}
	anyStar := func(r *syntax.Regexp) bool {
		return r.Op == syntax.OpStar && len(r.Sub) == 1 && r.Sub[0].Op == syntax.OpAnyChar
	}
	switch {
	case anyStar(parsed):
		m.kind = matchAny
	case parsed.Op == syntax.OpLiteral:
		if s, ok := lit(parsed); ok {
			m.kind, m.lit = matchEqual, s
		}
	case parsed.Op == syntax.OpConcat && len(parsed.Sub) == 2:
		a, b := parsed.Sub[0], parsed.Sub[1]
		if s, ok := lit(a); ok && anyStar(b) {
			m.kind, m.lit = matchPrefix, s
		} else if s, ok := lit(b); ok && anyStar(a) {
			m.kind, m.lit = matchSuffix, s
		}
	case parsed.Op == syntax.OpConcat && len(parsed.Sub) == 3:
		if s, ok := lit(parsed.Sub[1]); ok && anyStar(parsed.Sub[0]) && anyStar(parsed.Sub[2]) {
			m.kind, m.lit = matchContains, s
		}
	}
	return m, nil
}

// MatchString reports whether the whole of s matches.
func (m *matcher) MatchString(s string) bool {
	switch m.kind {
	case matchEqual:
		return s == m.lit
	case matchPrefix:
		return strings.HasPrefix(s, m.lit)
	case matchSuffix:
		return strings.HasSuffix(s, m.lit)
	case matchContains:
		return strings.Contains(s, m.lit)
	case matchAny:
		return true
	}
	return m.re.MatchString(s)
}

// Match reports whether the whole of b matches. It is used for the decimal
// form of numbers only, so it skips the shortcuts.
func (m *matcher) Match(b []byte) bool { return m.re.Match(b) }
