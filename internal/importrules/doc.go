// Package importrules states the project's import rules as data and checks
// them over `go list`: the pure folders (slo, flows, specs, alerting,
// storage) and the daemon core (app) import no collector package; storage
// imports neither slo nor alerting; alerting does not import storage. Its
// test fails when the tree breaks a rule.
package importrules
