// Package flows names user flows (checkout, login, search) from match rules
// on span and resource attributes, and decides whether a span of a flow is
// an error.
//
// It is pure: it knows neither pdata nor the collector. An adapter (the flow
// processor, later a fast OTLP decoder) looks up the attributes named by
// Classifier.Keys, fills an Input and calls Classify, which does not
// allocate. Classify looks candidate flows up in an index built from their
// equals, in and literal-regex rules, so a gateway with 100,000 flows
// classifies a span about as fast as one with ten. Specs come from package
// specs, which loads the teams' YAML files.
package flows
