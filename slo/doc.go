// Package slo is Burnwatch's pure SLO domain: the SLO spec, the streaming
// engine that keeps exact good/total counters in time rings, and burn-rate
// evaluation of multi-window multi-burn-rate alert tiers.
//
// It imports neither the collector nor a logger: producers (the collector
// connector, later a fast OTLP decoder or pre-aggregated histograms) turn
// telemetry into Events, and the alerting layer consumes Statuses.
package slo
