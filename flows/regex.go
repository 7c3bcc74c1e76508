package flows

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
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

// matcher is an anchored regex with its shortcut, if any, and what the
// classifier's index may use: every value the regex matches (as text) is one
// of exact or starts with one of prefix. indexable is false when the regex
// says nothing of the sort (".*/pay", "(?i)get").
type matcher struct {
	kind matchKind
	lit  string
	re   *regexp.Regexp

	indexable bool
	exact     []string
	prefix    []string
}

func newMatcher(expr string) (matcher, error) {
	// Check the expression as written first so that a syntax error quotes
	// what the user wrote, not our anchored wrapper. regexp.Compile fails
	// exactly where this parse does.
	if _, err := syntax.Parse(expr, syntax.Perl); err != nil {
		return matcher{}, err
	}
	var m matcher
	// DotNL matches the (?s) of anchor: ".*" then matches any string.
	if parsed, err := syntax.Parse(expr, syntax.Perl|syntax.DotNL); err == nil {
		m.readTree(parsed.Simplify())
	}
	if m.kind != matchRegex {
		// A shortcut answers for every value, so the regex engine is not
		// needed (compiling it is most of the cost of loading 100,000
		// flows); the anchored form must still be valid, as it was when it
		// was compiled.
		if _, err := syntax.Parse(anchor(expr), syntax.Perl); err != nil {
			return matcher{}, err
		}
		return m, nil
	}
	re, err := regexp.Compile(anchor(expr))
	if err != nil {
		return matcher{}, err
	}
	m.re = re
	return m, nil
}

// readTree sets the shortcut and the literals for the index from the
// simplified syntax tree.
func (m *matcher) readTree(parsed *syntax.Regexp) {
	if alts, ok := literals(parsed); ok {
		m.indexable = true
		for _, a := range alts {
			if a.exact {
				m.exact = append(m.exact, a.s)
			} else {
				m.prefix = append(m.prefix, a.s)
			}
		}
	}
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

// Match reports whether the whole of b, the decimal form of a number,
// matches. The text is ASCII, where the shortcuts answer exactly as the
// regex does.
func (m *matcher) Match(b []byte) bool {
	n := len(m.lit)
	switch m.kind {
	case matchEqual:
		return string(b) == m.lit
	case matchPrefix:
		return len(b) >= n && string(b[:n]) == m.lit
	case matchSuffix:
		return len(b) >= n && string(b[len(b)-n:]) == m.lit
	case matchContains:
		// Number text fits the compiler's stack buffer: no allocation.
		return strings.Contains(string(b), m.lit)
	case matchAny:
		return true
	}
	return m.re.Match(b)
}

// alt is one alternative of what a regex matches: exactly s, or (when
// exact is false) something that starts with s.
type alt struct {
	s     string
	exact bool
}

// maxAlts bounds the alternatives literals tracks: past it, a regex is
// better tested on every candidate than spread over the index.
const maxAlts = 16

// maxClassRunes is the largest character class literals spells out.
const maxClassRunes = 4

// literals returns alternatives that together cover every string r matches
// as a whole; ok is false when they would not narrow anything (some match
// may start anywhere). It only ever errs towards more strings: the index
// uses the answer to find candidates, and the regex still decides.
//
// A literal is cut before any U+FFFD: the regex engine reads each invalid
// UTF-8 byte of a value as U+FFFD, so such a literal may match bytes other
// than its own encoding.
func literals(r *syntax.Regexp) ([]alt, bool) {
	switch r.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		// Assertions only ever remove matches: reading them as "" is safe.
		return []alt{{exact: true}}, true
	case syntax.OpLiteral:
		if r.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		s := string(r.Rune)
		if i := strings.IndexRune(s, utf8.RuneError); i >= 0 {
			return nonEmpty([]alt{{s: s[:i]}})
		}
		return []alt{{s: s, exact: true}}, true
	case syntax.OpCharClass:
		// r.Rune holds [lo, hi] pairs; only a few single runes are worth it
		// ("[Gg]et" yes, "[0-9]" no).
		var alts []alt
		for i := 0; i+1 < len(r.Rune); i += 2 {
			lo, hi := r.Rune[i], r.Rune[i+1]
			if len(alts)+int(hi-lo)+1 > maxClassRunes || (lo <= utf8.RuneError && utf8.RuneError <= hi) {
				return nil, false
			}
			for c := lo; c <= hi; c++ {
				alts = append(alts, alt{s: string(c), exact: true})
			}
		}
		return alts, len(alts) > 0
	case syntax.OpCapture:
		return literals(r.Sub[0])
	case syntax.OpPlus:
		// x+ starts with an x.
		return prefixesOf(literals(r.Sub[0]))
	case syntax.OpRepeat:
		if r.Min == 0 {
			return nil, false
		}
		return prefixesOf(literals(r.Sub[0]))
	case syntax.OpQuest:
		sub, ok := literals(r.Sub[0])
		if !ok || len(sub) >= maxAlts {
			return nil, false
		}
		return nonEmpty(append([]alt{{exact: true}}, sub...))
	case syntax.OpAlternate:
		var alts []alt
		for _, sub := range r.Sub {
			a, ok := literals(sub)
			if !ok || len(alts)+len(a) > maxAlts {
				return nil, false
			}
			alts = append(alts, a...)
		}
		return nonEmpty(alts)
	case syntax.OpConcat:
		acc := []alt{{exact: true}}
		for _, sub := range r.Sub {
			if !anyExact(acc) {
				break
			}
			a, ok := literals(sub)
			if !ok || len(acc)*len(a) > maxAlts {
				// The rest is unknown: what is known so far is a prefix.
				for i := range acc {
					acc[i].exact = false
				}
				break
			}
			next := make([]alt, 0, len(acc)*len(a))
			for _, x := range acc {
				if !x.exact {
					next = append(next, x)
					continue
				}
				for _, y := range a {
					next = append(next, alt{s: x.s + y.s, exact: y.exact})
				}
			}
			acc = next
		}
		return nonEmpty(acc)
	}
	// Star, any char, no match: nothing to go on.
	return nil, false
}

// prefixesOf turns every alternative into a prefix.
func prefixesOf(alts []alt, ok bool) ([]alt, bool) {
	if !ok {
		return nil, false
	}
	out := make([]alt, len(alts))
	for i, a := range alts {
		out[i] = alt{s: a.s}
	}
	return nonEmpty(out)
}

// nonEmpty reports false for alternatives that include the empty prefix,
// which every string has (and, to be safe, for none at all).
func nonEmpty(alts []alt) ([]alt, bool) {
	if len(alts) == 0 {
		return nil, false
	}
	for _, a := range alts {
		if a.s == "" && !a.exact {
			return nil, false
		}
	}
	return alts, true
}

func anyExact(alts []alt) bool {
	for _, a := range alts {
		if a.exact {
			return true
		}
	}
	return false
}
