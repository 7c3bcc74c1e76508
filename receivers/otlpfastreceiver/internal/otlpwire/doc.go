// Package otlpwire turns OTLP trace export requests, protobuf or JSON, into
// flow events without building pdata: it walks the encoded request, keeps
// only what the flow rules and the SLO engine read (the classifier's
// attribute keys on resources and spans, span kind, parent presence, status
// code, start and end time, trace and span id, the span name), classifies
// each span with flows.Classifier and appends an slo.Event per span a flow
// took. Everything else is skipped on the wire, but checked as the upstream
// OTLP receiver (pdata) checks it, so a request is rejected exactly when the
// upstream receiver would reject it, with the exceptions below.
//
// Protobuf: a request pdata cannot decode (truncated or overlong varints,
// lengths past the end, wrong wire types on known fields, stray end-groups,
// nesting past 100) is malformed. Repeated singular fields follow proto's
// rules (the last wins, embedded messages merge) and an attribute key seen
// twice reads as its first occurrence, as pcommon.Map.Get does. JSON goes
// through the same json-iterator calls, in the same order, as pdata's
// decoder, so the same documents are accepted and read the same way.
//
// Deliberate differences from the upstream receiver, flow processor and slo
// connector: a span that ends before it starts is rejected as invalid (the
// upstream path counts it as a 0 ms success); a span whose trace, span or
// parent id (or a link's) has the wrong length, or in JSON is not hex, is
// rejected on its own rather than failing the whole request (except in
// deprecated scope spans beside scope spans, which pdata reads and drops:
// a span that is never counted cannot be rejected alone, so there, as in
// pdata, the request is malformed); JSON values nested deeper than
// protobuf's limit (100) are malformed, as in protobuf (the upstream JSON
// decoder recurses without a bound); and a span no flow took never becomes
// an event, even if it carries a client's burnwatch.flow attribute twice
// (the flow processor removes only the first).
//
// Decoding allocates nothing per span in steady state (protobuf): strings
// point into the request buffer, which the caller keeps until it is done
// with the Batch's Input and has handed the events on; event flow names are
// the classifier's own strings.
package otlpwire
