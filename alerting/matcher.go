package alerting

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MatchType is how a Matcher compares a label's value, as in Alertmanager.
type MatchType string

// Match types.
const (
	MatchEqual     MatchType = "="
	MatchNotEqual  MatchType = "!="
	MatchRegexp    MatchType = "=~"
	MatchNotRegexp MatchType = "!~"
)

// Matcher tests one label of an alert, Alertmanager's way: a missing label
// reads as the empty string, and a regular expression must match the whole
// value.
type Matcher struct {
	Name  string
	Type  MatchType
	Value string
	re    *regexp.Regexp
}

// NewMatcher builds a matcher, compiling a regular expression.
func NewMatcher(t MatchType, name, value string) (Matcher, error) {
	m := Matcher{Name: name, Type: t, Value: value}
	if name == "" {
		return m, errors.New("matcher: empty label name")
	}
	switch t {
	case MatchEqual, MatchNotEqual:
	case MatchRegexp, MatchNotRegexp:
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return m, fmt.Errorf("matcher %s%s%q: %w", name, t, value, err)
		}
		m.re = re
	default:
		return m, fmt.Errorf("matcher %s: unknown operator %q (allowed: =, !=, =~, !~)", name, t)
	}
	return m, nil
}

// ParseMatcher reads a matcher written as Alertmanager's configuration and
// amtool write them: name="value", name!="value", name=~"regex",
// name!~"regex"; the value may be left unquoted.
func ParseMatcher(s string) (Matcher, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "=!")
	if i <= 0 {
		return Matcher{}, fmt.Errorf("matcher %q: want name=\"value\" (or !=, =~, !~)", s)
	}
	name := strings.TrimSpace(s[:i])
	rest := s[i:]
	var t MatchType
	for _, op := range []MatchType{MatchRegexp, MatchNotRegexp, MatchNotEqual, MatchEqual} {
		if strings.HasPrefix(rest, string(op)) {
			t = op
			break
		}
	}
	if t == "" || !validLabelName(name) {
		return Matcher{}, fmt.Errorf("matcher %q: want name=\"value\" (or !=, =~, !~) with a label name of letters, digits and _", s)
	}
	value := strings.TrimSpace(rest[len(t):])
	if strings.HasPrefix(value, `"`) {
		v, err := strconv.Unquote(value)
		if err != nil {
			return Matcher{}, fmt.Errorf("matcher %q: the value's quotes do not close", s)
		}
		value = v
	}
	return NewMatcher(t, name, value)
}

func validLabelName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// Matches reports whether labels satisfy m.
func (m Matcher) Matches(labels map[string]string) bool {
	v := labels[m.Name]
	switch m.Type {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.re.MatchString(v)
	case MatchNotRegexp:
		return !m.re.MatchString(v)
	}
	return false
}

// String writes m as ParseMatcher reads it.
func (m Matcher) String() string { return m.Name + string(m.Type) + strconv.Quote(m.Value) }

// Matchers hold when all of them do; none always holds.
type Matchers []Matcher

// Matches reports whether labels satisfy every matcher.
func (ms Matchers) Matches(labels map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(labels) {
			return false
		}
	}
	return true
}

// ParseMatchers reads a list of matchers; errors name the index.
func ParseMatchers(ss []string) (Matchers, error) {
	out := make(Matchers, 0, len(ss))
	var errs []error
	for i, s := range ss {
		m, err := ParseMatcher(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("[%d]: %w", i, err))
			continue
		}
		out = append(out, m)
	}
	return out, errors.Join(errs...)
}
