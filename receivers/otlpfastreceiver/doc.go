// Package otlpfastreceiver is the collector receiver "otlpfast": OTLP/gRPC
// and OTLP/HTTP (protobuf and JSON) trace export, on the otlp receiver's
// ports, paths and server settings (TLS, auth, size limits, compression),
// that turns the request bytes straight into flow events for the burnwatch
// extension's App, without building pdata. It does the work of the otlp
// receiver, the flow processor and the slo connector together, with the
// same result (internal/otlpwire says where it differs, on purpose).
//
// It answers as the OTLP specification asks: a request it cannot decode is
// 400 / InvalidArgument; invalid spans (ending before they start, ids of
// the wrong length) are rejected alone, in partial_success; a body over
// max_request_body_size is 413; a batch the App refuses while its storage is
// not durable is 503 / Unavailable with a retry delay. Its counters are in
// the App's /metrics as burnwatch_receiver_*.
//
// With forward: true it also passes each accepted request on, as pdata, to
// the rest of its pipeline, so a sidecar can ship traces to a backend.
//
// In a metrics pipeline as well, the same receiver (one per name, sharing
// its servers) also takes OTLP metric export on the same ports and paths
// as the otlp receiver, decoded as pdata and passed to that pipeline (the
// slo connector's metric SLIs); metrics.go.
package otlpfastreceiver
