package specs

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/flows"
)

var ruleKeys = func() []string {
	keys := []string{"attribute"}
	for _, o := range flows.Operators() {
		keys = append(keys, o.String())
	}
	return keys
}()

func (p *parser) flowSpec(n *yaml.Node, fs *flows.Spec) {
	f, ok := p.fields(n, "spec", "tier", "entry_spans_only", "match", "errors", "group_by", "max_groups")
	if !ok {
		return
	}
	p.grouping(f, fs)
	fs.Tier = flows.DefaultTier
	if t := f["tier"]; t != nil {
		if v, ok := p.scalar(t, "spec.tier"); ok {
			if flows.ValidTier(v) {
				fs.Tier = v
			} else {
				p.errorf(t, "spec.tier", "%q is not a tier (allowed: critical, high, medium, low)", v)
			}
		}
	}
	fs.EntryOnly = true
	if e := f["entry_spans_only"]; e != nil {
		fs.EntryOnly, _ = p.boolean(e, "spec.entry_spans_only")
	}
	if m := f["match"]; m == nil {
		p.errorf(n, "spec.match", "missing: a flow needs at least one rule, e.g. {attribute: service.name, equals: shop}")
	} else if items, ok := p.list(m, "spec.match"); ok {
		if len(items) == 0 {
			p.errorf(m, "spec.match", "is empty: a flow needs at least one rule, e.g. {attribute: service.name, equals: shop}")
		}
		for i, item := range items {
			if r, ok := p.rule(item, index("spec.match", i)); ok {
				fs.Match = append(fs.Match, r)
			}
		}
	}
	fs.Errors = flows.DefaultErrors()
	if e := f["errors"]; e != nil {
		ef, ok := p.fields(e, "spec.errors", "status_error", "rules")
		if !ok {
			return
		}
		// Given errors replace the default rules; status Error still counts
		// unless switched off, since it is almost always meant.
		fs.Errors = flows.ErrorSpec{StatusError: true}
		if s := ef["status_error"]; s != nil {
			fs.Errors.StatusError, _ = p.boolean(s, "spec.errors.status_error")
		}
		if r := ef["rules"]; r != nil {
			if items, ok := p.list(r, "spec.errors.rules"); ok {
				for i, item := range items {
					if r, ok := p.rule(item, index("spec.errors.rules", i)); ok {
						fs.Errors.Rules = append(fs.Errors.Rules, r)
					}
				}
			}
		}
	}
}

// grouping reads group_by (a key or a list of keys) and max_groups.
func (p *parser) grouping(f map[string]*yaml.Node, fs *flows.Spec) {
	if g := f["group_by"]; g != nil {
		items := []*yaml.Node{g}
		many := deref(g).Kind == yaml.SequenceNode
		if many {
			items, _ = p.list(g, "spec.group_by")
			if len(items) == 0 {
				p.errorf(g, "spec.group_by", "is empty (want a key, e.g. group_by: http.route, or a list of keys)")
			}
		}
		seen := map[string]bool{}
		for i, item := range items {
			path := "spec.group_by"
			if many {
				path = index(path, i)
			}
			k, ok := p.nonEmpty(item, path)
			switch {
			case !ok:
			case k == flows.FlowAttribute || k == flows.ErrorAttribute:
				p.errorf(item, path, "%s is Burnwatch's own annotation, not something to group by", k)
			case seen[k]:
				p.errorf(item, path, "%s is given twice", k)
			default:
				seen[k] = true
				fs.GroupBy = append(fs.GroupBy, k)
			}
		}
	}
	if m := f["max_groups"]; m != nil {
		switch n, ok := p.count(m, "spec.max_groups"); {
		case !ok:
		case fs.GroupBy == nil:
			p.errorf(m, "spec.max_groups", "without group_by there are no groups to cap")
		case n == 0 || n > maxGroups:
			p.errorf(m, "spec.max_groups", "%d is not in 1..%d", n, maxGroups)
		default:
			fs.MaxGroups = int(n)
		}
	}
}

// maxGroups bounds max_groups: every group is a flow with its own SLOs.
const maxGroups = 10000

func (p *parser) rule(n *yaml.Node, path string) (flows.Rule, bool) {
	f, ok := p.fields(n, path, ruleKeys...)
	if !ok {
		return flows.Rule{}, false
	}
	var r flows.Rule
	good := true
	if a := f["attribute"]; a == nil {
		p.errorf(n, join(path, "attribute"), "missing (e.g. attribute: http.route)")
		good = false
	} else if r.Attribute, ok = p.nonEmpty(a, join(path, "attribute")); !ok {
		good = false
	}
	// Walk the mapping in file order so "two operators" points at the second.
	var opNode *yaml.Node
	for i := 0; i+1 < len(deref(n).Content); i += 2 {
		key := deref(n).Content[i].Value
		op, isOp := flows.ParseOperator(key)
		if !isOp || f[key] == nil {
			continue
		}
		if r.Op != flows.OpInvalid {
			p.errorf(deref(n).Content[i], path, "two operators, %s and %s (want exactly one per rule; add another rule for the other)", r.Op, op)
			return flows.Rule{}, false
		}
		r.Op, opNode = op, f[key]
	}
	if r.Op == flows.OpInvalid {
		p.errorf(n, path, "no operator (want exactly one of: %s)", strings.Join(ruleKeys[1:], ", "))
		return flows.Rule{}, false
	}
	opPath := join(path, r.Op.String())
	switch r.Op {
	case flows.OpEquals, flows.OpNotEquals:
		r.Value, ok = p.literal(opNode, opPath)
	case flows.OpRegex, flows.OpNotRegex:
		r.Value, ok = p.scalar(opNode, opPath)
	case flows.OpIn:
		var items []*yaml.Node
		if items, ok = p.list(opNode, opPath); ok {
			if len(items) == 0 {
				p.errorf(opNode, opPath, "is empty (want at least one value)")
				ok = false
			}
			for i, item := range items {
				v, vok := p.literal(item, index(opPath, i))
				r.Values = append(r.Values, v)
				ok = ok && vok
			}
		}
	case flows.OpExists:
		r.Exists, ok = p.boolean(opNode, opPath)
	default:
		r.Number, ok = p.number(opNode, opPath)
	}
	if !ok || !good {
		return flows.Rule{}, false
	}
	if err := r.Validate(); err != nil {
		p.wrap(opNode, opPath, err)
		return flows.Rule{}, false
	}
	return r, true
}

// literal reads an equals or in operand. YAML integers are normalised to
// decimal so that "0x1F" compares as 31 does.
func (p *parser) literal(n *yaml.Node, path string) (string, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var i int64
		if err := n.Decode(&i); err == nil {
			return strconv.FormatInt(i, 10), true
		}
	}
	return p.scalar(n, path)
}
