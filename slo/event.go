package slo

import "time"

// Event is one request of a flow as the engine sees it: a producer (the
// collector connector, a fast OTLP decoder, pre-aggregated histograms) turns
// telemetry into events; the engine never sees pdata.
type Event struct {
	Flow string
	// End is the event time: the span's end, in Unix nanoseconds.
	End      int64
	Duration time.Duration
	Error    bool
	// Ref, when not 0, is where the engine may find Flow without hashing
	// it: 1 + the flow's index in the names given to Engine.IndexFlows.
	// It is only a hint: an event whose Ref names another flow, or none,
	// is looked up by Flow. (It fills padding: an Event stays 64 bytes.)
	Ref     uint32
	TraceID [16]byte
	SpanID  [8]byte
}
