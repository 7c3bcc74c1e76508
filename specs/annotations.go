package specs

import (
	"errors"
	"io"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/slo"
)

// An SLO's annotations are Go text/template sources that package notify
// renders on each alert when it is sent, with notify.TemplateFuncs and
// missingkey=error. They are checked here the same way, so that a template
// that would fail, and fall back to the default text during an outage,
// fails loading instead: its syntax as the document is read, and a run on
// sample alerts of the SLO once Validate knows the labels its flow gives
// them.

// annotations reads spec.alerting.annotations: names to template sources.
// It returns where each is written, for the checks of Validate.
func (p *parser) annotations(n *yaml.Node, path string) (map[string]string, map[string]position) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping of annotation names to templates, not %s", describe(n))
		return nil, nil
	}
	out := make(map[string]string, len(n.Content)/2)
	where := make(map[string]position, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		kp := join(path, k.Value)
		if !p.labelName(k, kp, "annotation") {
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errorf(k, kp, "key given twice")
			continue
		}
		src, ok := p.nonEmpty(v, kp)
		if !ok {
			continue
		}
		if _, err := parseTemplate(k.Value, src); err != nil {
			p.errorf(v, kp, "template does not parse: %s (Go text/template; functions besides Go's: %s)", templateError(err), strings.Join(templateFuncs(), ", "))
			continue
		}
		out[k.Value] = src
		where[k.Value] = p.pos(v)
	}
	return out, where
}

// parseTemplate parses src as package notify does when it renders it.
func parseTemplate(name, src string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Funcs(notify.TemplateFuncs).Parse(src)
}

// checkAnnotations runs each of s's annotation templates on a sample alert
// of each kind s has (alerting.SampleAlerts); where says where each is
// written. s's labels must be complete, its flow's included.
func checkAnnotations(s *slo.Spec, where map[string]position) []error {
	if len(s.AlertAnnotations) == 0 {
		return nil
	}
	samples := alerting.SampleAlerts(s)
	var errs []error
	// Top to bottom as written; by name for a spec built in code.
	keys := slices.Sorted(maps.Keys(s.AlertAnnotations))
	slices.SortStableFunc(keys, func(a, b string) int { return where[a].line - where[b].line })
	for _, key := range keys {
		path := join("spec.alerting.annotations", key)
		t, err := parseTemplate(key, s.AlertAnnotations[key])
		if err != nil {
			// Checked when the file was read; a spec built in code was not.
			errs = append(errs, where[key].errorf(path, "template does not parse: %s", templateError(err)))
			continue
		}
		for i := range samples {
			if err := t.Execute(io.Discard, &samples[i]); err != nil {
				errs = append(errs, where[key].errorf(path, "template fails on a sample %s alert: %s%s", samples[i].Kind.AlertName(), templateError(err), templateHint(err, &samples[i])))
				break
			}
		}
	}
	return errs
}

// templateError drops the "template: " every text/template error starts
// with: the message already says it is about a template.
func templateError(err error) string {
	return strings.TrimPrefix(err.Error(), "template: ")
}

var (
	missingField = regexp.MustCompile(`can't evaluate field (\w+) in type (\S+)`)
	missingKey   = regexp.MustCompile(`at <\.Labels\.(\w+)>: map has no entry for key`)
)

// templateHint says what a template that failed on a could have named
// instead: a field of the alert, or one of its labels.
func templateHint(err error, a *alerting.Alert) string {
	var ee template.ExecError
	if !errors.As(err, &ee) {
		return ""
	}
	msg := ee.Error()
	if m := missingKey.FindStringSubmatch(msg); m != nil {
		labels := slices.Sorted(maps.Keys(a.Labels))
		return " (" + didYouMean(m[1], labels) + "this SLO's alerts have the labels " + strings.Join(labels, ", ") + ")"
	}
	if m := missingField.FindStringSubmatch(msg); m != nil {
		var fields []string
		switch strings.TrimPrefix(m[2], "*") {
		case "alerting.Alert":
			fields = fieldNames(reflect.TypeFor[alerting.Alert]())
		case "alerting.Window":
			fields = fieldNames(reflect.TypeFor[alerting.Window]())
		default:
			return ""
		}
		return " (" + didYouMean(m[1], fields) + "fields: " + strings.Join(fields, ", ") + ")"
	}
	return ""
}

// didYouMean suggests the name in names nearest to a misspelt one, if any
// is near: "did you mean team? ".
func didYouMean(name string, names []string) string {
	if c := closest(name, names); c != "" {
		return "did you mean " + c + "? "
	}
	return ""
}

// fieldNames lists the exported fields of a struct type, in order.
func fieldNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		if f.IsExported() {
			names = append(names, f.Name)
		}
	}
	return names
}

// templateFuncs are the names of notify.TemplateFuncs, sorted.
func templateFuncs() []string {
	return slices.Sorted(maps.Keys(notify.TemplateFuncs))
}
