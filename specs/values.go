package specs

import (
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/slo"
)

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// deref follows YAML aliases so anchors work like their targets.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// fields reads a mapping whose keys must come from allowed. It reports
// anything else, and duplicate keys, which YAML would silently let the last
// one win.
func (p *parser) fields(n *yaml.Node, path string, allowed ...string) (map[string]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping with keys %s, not %s", strings.Join(allowed, ", "), describe(n))
		return nil, false
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		key := k.Value
		if !slices.Contains(allowed, key) {
			msg := "unknown key"
			if s := closest(key, allowed); s != "" {
				msg += "; did you mean " + s + "?"
			}
			p.errorf(k, join(path, key), "%s (allowed: %s)", msg, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[key]; dup {
			p.errorf(k, join(path, key), "key given twice")
			continue
		}
		out[key] = v
	}
	return out, true
}

// describe names a node's type for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unknown node"
}

// scalar returns a scalar's text; numbers and booleans are accepted where
// text is wanted (equals: 200).
func (p *parser) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.errorf(n, path, "want a value, not %s", describe(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) nonEmpty(n *yaml.Node, path string) (string, bool) {
	s, ok := p.scalar(n, path)
	if ok && strings.TrimSpace(s) == "" {
		p.errorf(n, path, "is empty")
		return "", false
	}
	return s, ok
}

func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	p.errorf(n, path, "want true or false, not %s", describe(n))
	return false, false
}

// number reads an int or float; a quoted decimal ("500") is accepted too.
func (p *parser) number(n *yaml.Node, path string) (float64, bool) {
	if n.Kind == yaml.ScalarNode {
		var f float64
		switch n.Tag {
		case "!!int", "!!float":
			if err := n.Decode(&f); err == nil {
				return f, true
			}
		case "!!str":
			if f, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64); err == nil && !math.IsNaN(f) {
				return f, true
			}
		}
	}
	p.errorf(n, path, "%s is not a number", describe(n))
	return 0, false
}

func (p *parser) count(n *yaml.Node, path string) (uint64, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var i int64
		if err := n.Decode(&i); err == nil && i >= 0 {
			return uint64(i), true
		}
	}
	p.errorf(n, path, "%s is not a whole number >= 0", describe(n))
	return 0, false
}

func (p *parser) duration(n *yaml.Node, path string) (d time.Duration, ok bool) {
	s, ok := p.scalar(n, path)
	if !ok {
		return 0, false
	}
	v, err := ParseDuration(s)
	if err != nil {
		p.wrap(n, path, err)
		return 0, false
	}
	if v <= 0 {
		p.errorf(n, path, "%s is not a positive duration", s)
		return 0, false
	}
	return v, true
}

func (p *parser) list(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "want a list, not %s", describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out, true
}

// nameRE is a Kubernetes-like object name; names become span attributes,
// metric label values and alert dedup keys, so they stay plain.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`)

const maxNameLen = 128

func (p *parser) name(n *yaml.Node, path string) (string, bool) {
	s, ok := p.nonEmpty(n, path)
	if !ok {
		return "", false
	}
	if len(s) > maxNameLen || !nameRE.MatchString(s) {
		p.errorf(n, path, "%q is not a valid name (at most %d lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit)", s, maxNameLen)
		return "", false
	}
	return s, true
}

// labelName checks the key k of a label or annotation (what): a Prometheus
// label name, as labels reach alert routing and metrics, where other
// characters would not survive, and Alertmanager wants annotation names
// alike.
func (p *parser) labelName(k *yaml.Node, path, what string) bool {
	switch {
	case k.Kind != yaml.ScalarNode || !slo.ValidLabelName(k.Value):
		p.errorf(k, path, "%q is not %s name (letters, digits and '_', not starting with a digit)", k.Value, article(what))
		return false
	case strings.HasPrefix(k.Value, "__"):
		p.errorf(k, path, "%s names starting with __ are reserved", what)
		return false
	}
	return true
}

func article(what string) string {
	if strings.ContainsRune("aeiou", rune(what[0])) {
		return "an " + what
	}
	return "a " + what
}

// labels reads a mapping of label names to values. With reserved, the
// labels Burnwatch sets on every alert (slo.ReservedLabels) are refused.
func (p *parser) labels(n *yaml.Node, path string, reserved bool) map[string]string {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping of label names to values, not %s", describe(n))
		return nil
	}
	out := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		kp := join(path, k.Value)
		if !p.labelName(k, kp, "label") {
			continue
		}
		if reserved && slo.ReservedLabel(k.Value) {
			p.errorf(k, kp, "%q is set by Burnwatch on every alert; choose another name (reserved: %s)", k.Value, strings.Join(slo.ReservedLabels(), ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errorf(k, kp, "key given twice")
			continue
		}
		if val, ok := p.scalar(v, kp); ok {
			out[k.Value] = val
		}
	}
	return out
}

func (p *parser) url(n *yaml.Node, path string) (string, bool) {
	s, ok := p.nonEmpty(n, path)
	if !ok {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.errorf(n, path, "%q is not an absolute http(s) URL (e.g. https://example.com/page)", s)
		return "", false
	}
	return s, true
}

// share turns a percentage read from n into a fraction. 99.9/100 is
// 0.9990000000000001 in binary; parsing "99.9e-2" gives the double nearest
// to 0.999, which is what the user meant.
func share(n *yaml.Node, pct float64) float64 {
	text := strings.TrimSpace(n.Value)
	if !strings.ContainsAny(text, "eExXoO_") {
		if f, err := strconv.ParseFloat(text+"e-2", 64); err == nil {
			return f
		}
	}
	return pct / 100
}

// choice reads a scalar that must be one of options and returns its index;
// anything else is reported with the options it may take.
func (p *parser) choice(n *yaml.Node, path, what string, options ...string) (int, bool) {
	v, ok := p.scalar(n, path)
	if !ok {
		return 0, false
	}
	for i, o := range options {
		if v == o {
			return i, true
		}
	}
	p.errorf(n, path, "%q is not %s (allowed: %s)", v, what, strings.Join(options, ", "))
	return 0, false
}

// closest suggests the allowed key nearest to a misspelt one, if any is near.
func closest(key string, allowed []string) string {
	best, bestD := "", math.MaxInt
	for _, a := range allowed {
		// Allow about one typo per three letters, so "eq" does not suggest "gt".
		if d := editDistance(key, a); d <= max(1, len(a)/3) && d < bestD {
			best, bestD = a, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
