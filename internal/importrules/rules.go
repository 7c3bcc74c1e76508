package importrules

import (
	"fmt"
	"sort"
	"strings"
)

// Module is the project's module path.
const Module = "github.com/burnwatch/burnwatch"

// collector is the prefix of every OpenTelemetry Collector package.
const collector = "go.opentelemetry.io/collector"

// Rule forbids packages under From (a folder of the module, with its
// subfolders) to depend, directly or not, on packages under any of Deny (a
// folder of the module, or a prefix outside it such as the collector's).
type Rule struct {
	From string
	Deny []string
	Why  string
}

// Rules are the project's import rules (see ../../shared/DESIGN.md).
var Rules = []Rule{
	{From: "slo", Deny: []string{collector}, Why: "the engine is pure"},
	{From: "flows", Deny: []string{collector}, Why: "the classifier is pure"},
	{From: "specs", Deny: []string{collector}, Why: "spec loading is pure"},
	{From: "promrules", Deny: []string{collector}, Why: "rule generation is pure"},
	{From: "alerting", Deny: []string{collector, Module + "/storage"}, Why: "alerting is pure and knows nothing of storage"},
	{From: "storage", Deny: []string{collector, Module + "/slo", Module + "/alerting"}, Why: "storage is bytes only"},
	{From: "app", Deny: []string{collector}, Why: "the daemon core is embeddable without the collector"},
	{From: "receivers/otlpfastreceiver/internal/otlpwire", Deny: []string{collector}, Why: "the fast decoder reads OTLP bytes, never pdata"},
}

// Package is one package of the module and every package it depends on.
type Package struct {
	ImportPath string
	Deps       []string
}

// Violations returns, sorted, every dependency of pkgs that a rule forbids,
// as "pkg imports dep: why".
func Violations(pkgs []Package, rules []Rule) []string {
	var out []string
	for _, p := range pkgs {
		for _, r := range rules {
			if !under(p.ImportPath, Module+"/"+r.From) {
				continue
			}
			for _, d := range p.Deps {
				for _, deny := range r.Deny {
					if under(d, deny) {
						out = append(out, fmt.Sprintf("%s imports %s: %s", p.ImportPath, d, r.Why))
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// under reports whether path is dir or inside it.
func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}
