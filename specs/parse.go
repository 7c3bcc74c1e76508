package specs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/metricsli"
	"github.com/burnwatch/burnwatch/slo"
)

// APIVersion is the apiVersion every document must declare.
const APIVersion = "burnwatch.dev/v1"

// Document kinds.
const (
	KindFlow = "Flow"
	KindSLO  = "SLO"
)

// Parse reads one spec file and checks each document on its own. References
// between documents (an SLO's flow, OpenSLO's indicatorRef and
// alertPolicyRef) may live in other files: Load, or Merge followed by
// Validate, checks them, and Validate is where OpenSLO SLOs become SLOs.
// filename only labels errors.
func Parse(filename string, data []byte) (*Set, error) {
	set, err := parse(filename, data)
	if err != nil {
		return nil, err
	}
	return set, nil
}

// parse returns what it could read even when it reports errors, so that Load
// can still check references against flows whose specs were broken.
func parse(filename string, data []byte) (*Set, error) {
	p := &parser{file: filename, lines: strings.Split(string(data), "\n")}
	set := &Set{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The decoder cannot resume after a syntax error.
			p.errs = append(p.errs, p.syntaxError(err))
			break
		}
		// Each document goes through Merge so names given twice in one file
		// are reported just as across files.
		part := &Set{}
		p.document(&doc, part)
		if err := set.Merge(part); err != nil {
			p.errs = append(p.errs, flatten(err)...)
		}
	}
	sortByLine(p.errs)
	return set, errors.Join(p.errs...)
}

// sortByLine orders a file's problems top to bottom (stable, so problems on
// one line keep the order they were found in); problems without a line, like
// a read error, come first.
func sortByLine(errs []error) {
	line := func(err error) int {
		var se *Error
		if errors.As(err, &se) {
			return se.Line
		}
		return 0
	}
	slices.SortStableFunc(errs, func(a, b error) int { return line(a) - line(b) })
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns "yaml: line 3: msg" into "file:3: msg".
func (p *parser) syntaxError(err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: p.file, Line: line, Err: fmt.Errorf("invalid YAML: %s", m[2])}
	}
	return &Error{File: p.file, Err: fmt.Errorf("invalid YAML: %w", err)}
}

// parser collects every problem of one file instead of stopping at the first.
type parser struct {
	file string
	// lines are the file's, to place a position inside a block scalar.
	lines []string
	errs  []error
}

func (p *parser) pos(n *yaml.Node) position { return position{file: p.file, line: n.Line} }

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, p.pos(n).errorf(path, format, args...))
}

func (p *parser) wrap(n *yaml.Node, path string, err error) {
	p.errs = append(p.errs, &Error{File: p.file, Line: n.Line, Path: path, Err: err})
}

// document reads one document and adds its flow or SLO to set.
func (p *parser) document(doc *yaml.Node, set *Set) {
	root := doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return
		}
		root = deref(doc.Content[0])
	}
	if isNull(root) {
		return // an empty document, e.g. after a trailing ---
	}
	if p.foreign(root, set) {
		return
	}
	bad := len(p.errs)
	f, ok := p.fields(root, "", "apiVersion", "kind", "metadata", "spec")
	if !ok {
		return
	}
	docPos := p.pos(root)
	if n := f["apiVersion"]; n == nil {
		p.errorf(root, "apiVersion", "missing (want %s)", APIVersion)
	} else if v, ok := p.scalar(n, "apiVersion"); ok && v != APIVersion {
		p.errorf(n, "apiVersion", "%q is not supported (want %s)", v, APIVersion)
	}
	kind := ""
	if n := f["kind"]; n == nil {
		p.errorf(root, "kind", "missing (want %s or %s)", KindFlow, KindSLO)
	} else if v, ok := p.scalar(n, "kind"); ok {
		if v != KindFlow && v != KindSLO {
			p.errorf(n, "kind", "%q is not a kind (want %s or %s)", v, KindFlow, KindSLO)
		} else {
			kind = v
		}
	}
	var (
		name    string
		nameAt  = docPos
		labels  map[string]string
		hasName bool
	)
	if n := f["metadata"]; n == nil {
		p.errorf(root, "metadata", "missing (want metadata: {name: ...})")
	} else if m, ok := p.fields(n, "metadata", "name", "labels"); ok {
		if nn := m["name"]; nn == nil {
			p.errorf(n, "metadata.name", "missing")
		} else {
			name, hasName = p.name(nn, "metadata.name")
			nameAt = p.pos(nn)
		}
		if l := m["labels"]; l != nil {
			labels = p.labels(l, "metadata.labels", false)
		}
	}
	spec := f["spec"]
	if spec == nil {
		p.errorf(root, "spec", "missing")
	}
	switch kind {
	case KindFlow:
		fs := flows.Spec{Name: name, Labels: labels}
		if spec != nil {
			p.flowSpec(spec, &fs)
		}
		if hasName {
			// A flow is declared even if its spec is broken, so SLOs that
			// use it do not report a second, misleading error.
			set.declare(name, nameAt)
		}
		if hasName && len(p.errs) == bad {
			set.addFlow(fs, nameAt)
		}
	case KindSLO:
		s := slo.Spec{Name: name, Labels: labels}
		where := sloWhere{doc: nameAt}
		var indicator *metricsli.Indicator
		if spec != nil {
			indicator = p.sloSpec(spec, &s, &where)
		}
		if hasName && len(p.errs) > bad {
			// Broken, but its name and flow are still checked against
			// the other documents, so one run reports everything.
			set.addBrokenSLO(brokenSLO{name: name, flow: s.Flow, where: where})
		}
		if hasName && len(p.errs) == bad {
			if err := s.Validate(); err != nil {
				// The checks above should have caught it: say so plainly.
				p.errs = append(p.errs, docPos.errorf("spec", "%w", err))
				return
			}
			set.addSLO(s, where)
			if indicator != nil {
				set.setIndicator(name, indicator)
			}
		}
	}
}

// foreign reads a document in another tool's format, OpenSLO v1 or a Sloth
// prometheus/v1 file, and reports whether it was one.
func (p *parser) foreign(root *yaml.Node, set *Set) bool {
	if root.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i].Value, deref(root.Content[i+1])
		if v.Kind != yaml.ScalarNode {
			continue
		}
		switch {
		case k == "version" && strings.HasPrefix(v.Value, "prometheus/"):
			p.sloth(root, set)
			return true
		case k == "apiVersion" && strings.HasPrefix(v.Value, "openslo/"):
			p.openSLO(root, set)
			return true
		}
	}
	return false
}
