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
	TraceID  [16]byte
	SpanID   [8]byte
}
