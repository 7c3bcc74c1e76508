// Package slo is Burnwatch's pure SLO domain: the SLO spec, the streaming
// engine that keeps exact good/total counters in time rings, and burn-rate
// evaluation of multi-window multi-burn-rate alert tiers.
//
// It imports neither the collector nor a logger: producers (the collector
// connector, later a fast OTLP decoder or pre-aggregated histograms) turn
// telemetry into Events, and the alerting layer consumes Statuses.
//
// What the Engine keeps:
//
//   - Per SLO, a ring of exact counters per distinct window (the period
//     and each tier's long and short window, each exhaustion alert's
//     window), all slot widths multiples of one base slot aligned to the
//     Unix epoch. A calendar period (month or week in a time zone) is a
//     plain sum that empties at the local boundary instead.
//   - Per flow, latency histograms (package sketch) for percentiles:
//     12 slots per window, windows of equal slot width sharing one ring,
//     a running total per window. Slots older than the allowed lateness are
//     sealed into their compact encoding until they leave their windows.
//   - Per time-slice SLO, the histograms of the slices still open; a slice
//     is judged at the first read after its end and counts in the windows
//     as one good or bad "event" at its last instant, with its requests for
//     the minimum-traffic guard. Late events (within AllowedLateness) that
//     change it make the next read judge it again and recount it exactly.
//   - Per flow, its last event time, for no-data alerts; per SLO, the three
//     newest bad events as exemplars, and the time of its first evaluation,
//     which tiers warm up from.
//
// Events of the current base slot are staged (an append per event) and go
// into every ring when a later slot begins or before anything reads them,
// which keeps Observe at a few tens of nanoseconds an event.
//
// The state survives restarts as a snapshot (AppendSnapshot, Restore) and a
// write-ahead log of deltas between snapshots (AppendDelta, ApplyDelta):
// per base slot counts and histograms, not events. Replaying them gives
// exactly the state of an engine that never stopped.
package slo
