package app

import (
	"bytes"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// exposition writes the Prometheus text format (version 0.0.4): each family
// once, with HELP and TYPE, then its samples; label values escaped, and
// invalid UTF-8 (a flow name from a client) replaced, so a strict scraper
// never rejects the page.
type exposition struct {
	w   io.Writer
	buf []byte
	// budget is how many more per-flow and per-SLO samples may be written
	// (Config.Metrics.MaxSeries); dropped counts those left out.
	budget, dropped int
}

// family starts a metric family.
func (e *exposition) family(name, typ string) {
	e.buf = append(e.buf[:0], "# HELP "...)
	e.buf = append(e.buf, name...)
	e.buf = append(e.buf, ' ')
	e.buf = append(e.buf, helpText(name)...)
	e.buf = append(e.buf, "\n# TYPE "...)
	e.buf = append(e.buf, name...)
	e.buf = append(e.buf, ' ')
	e.buf = append(e.buf, typ...)
	e.buf = append(e.buf, '\n')
	_, _ = e.w.Write(e.buf)
}

// sample writes one sample of the current family; labels are name, value
// pairs.
func (e *exposition) sample(name string, v float64, labels ...string) {
	e.buf = appendSeries(e.buf[:0], name, labels...)
	e.buf = append(e.buf, ' ')
	e.buf = appendValue(e.buf, v)
	e.buf = append(e.buf, '\n')
	_, _ = e.w.Write(e.buf)
}

// bounded writes a per-flow or per-SLO sample while the series budget
// lasts, and counts it dropped after.
func (e *exposition) bounded(name string, v float64, labels ...string) {
	if e.budget <= 0 {
		e.dropped++
		return
	}
	e.budget--
	e.sample(name, v, labels...)
}

// single writes a family of one unlabelled sample.
func (e *exposition) single(name, typ string, v float64) {
	e.family(name, typ)
	e.sample(name, v)
}

func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// appendSeries appends name{l1="v1",...}.
func appendSeries(b []byte, name string, labels ...string) []byte {
	b = append(b, name...)
	if len(labels) == 0 {
		return b
	}
	b = append(b, '{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, labels[i]...)
		b = append(b, '=', '"')
		b = appendLabelValue(b, labels[i+1])
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendLabelValue escapes a label value as the text format wants: \\, \"
// and \n, with invalid UTF-8 replaced by U+FFFD.
func appendLabelValue(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '\\':
				b = append(b, '\\', '\\')
			case '"':
				b = append(b, '\\', '"')
			case '\n':
				b = append(b, '\\', 'n')
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// series is appendSeries as a string, for naming VictoriaMetrics metrics.
func series(name string, labels ...string) string {
	return string(appendSeries(nil, name, labels...))
}

// withHelp copies VictoriaMetrics' exposition (metadata on: "# HELP name"
// with no text) to w, adding each family's help text.
func withHelp(w io.Writer, render func(io.Writer)) {
	var raw bytes.Buffer
	render(&raw)
	var out bytes.Buffer
	out.Grow(raw.Len() + 1024)
	for line := range strings.Lines(raw.String()) {
		if name, ok := strings.CutPrefix(line, "# HELP "); ok && !strings.Contains(strings.TrimSpace(name), " ") {
			name = strings.TrimSpace(name)
			out.WriteString("# HELP " + name + " " + helpText(name) + "\n")
			continue
		}
		out.WriteString(line)
	}
	_, _ = w.Write(out.Bytes())
}

// helpText is the help of a family: what it counts and what to do with it.
func helpText(name string) string {
	if h, ok := help[name]; ok {
		return h
	}
	switch {
	case strings.HasPrefix(name, "go_"):
		return "Go runtime statistic " + name + "."
	case strings.HasPrefix(name, "process_"):
		return "Process statistic " + name + "."
	}
	return "Burnwatch metric " + name + "."
}

var help = map[string]string{
	"burnwatch_spans_received_total":              "Spans the flow processor or fast receiver saw.",
	"burnwatch_spans_entry_total":                 "Entry spans (server, consumer or root): each request once.",
	"burnwatch_spans_unmatched_total":             "Entry spans no flow took: a flow is missing or its rules are too narrow.",
	"burnwatch_spans_annotation_removed_total":    "Spans no flow took that carried client-set burnwatch.flow or burnwatch.error, which were removed.",
	"burnwatch_spans_classified_total":            "Spans each flow took.",
	"burnwatch_spans_bad_annotation_total":        "Spans whose burnwatch.flow is not a non-empty string.",
	"burnwatch_events_unknown_flow_total":         "Events of flows the spec files do not define, dropped.",
	"burnwatch_events_refused_total":              "Events refused while storage was not durable (storage.acknowledge: durable).",
	"burnwatch_events_total":                      "Events counted into a known flow.",
	"burnwatch_events_late_total":                 "Events older than the newest slot but within allowed_lateness.",
	"burnwatch_events_too_late_total":             "Events older than allowed_lateness: counted here, kept out of the windows.",
	"burnwatch_events_future_total":               "Events ending after the time they were observed: clamped to it.",
	"burnwatch_events_flow_overflow_total":        "Events of flows past max_flows.",
	"burnwatch_flows":                             "Flows tracked.",
	"burnwatch_flow_groups":                       "Groups of a grouped flow (group_by), each a flow with its own SLOs.",
	"burnwatch_flow_groups_overflow_total":        "Spans of a grouped flow past its max_groups, counted in the flow itself.",
	"burnwatch_flow_events_total":                 "A flow's events.",
	"burnwatch_flow_errors_total":                 "A flow's error events.",
	"burnwatch_flow_latency_count":                "A flow's events in a window (metrics.level: detailed).",
	"burnwatch_flow_latency_seconds":              "A flow's latency quantiles over a window, within 1.1% (metrics.level: detailed).",
	"burnwatch_slo_error_budget_remaining":        "Share of the period's error budget left: 1 none spent, below 0 overspent.",
	"burnwatch_slo_events_total":                  "An event-based SLO's events by outcome since its state began, kept across restarts; what `burnwatch rules` reads.",
	"burnwatch_slo_burn_rate":                     "Error budget burn rate over a window: bad share over (1 - target).",
	"burnwatch_slo_window_events":                 "Events in a window by outcome, exact (metrics.level: detailed).",
	"burnwatch_slo_tier_condition":                "1 while a tier's burn condition holds.",
	"burnwatch_slo_tier_warming_up":               "1 while a tier may not fire yet: the engine has observed less than its warm-up.",
	"burnwatch_metrics_series_dropped":            "Per-flow and per-SLO series left out of this page past metrics.max_series.",
	"burnwatch_evaluation_duration_seconds":       "Time to evaluate every SLO once.",
	"burnwatch_alerts_firing":                     "Alerts firing.",
	"burnwatch_alert_transitions_total":           "Alerts that started firing or resolved.",
	"burnwatch_alert_flaps_total":                 "Times an alert fired again within alerting.flap_window of resolving.",
	"burnwatch_notifications_total":               "Group notifications made by the routes.",
	"burnwatch_notification_attempts_total":       "Delivery attempts by receiver and outcome (delivered, retry, failed, aborted).",
	"burnwatch_notifications_dead_letter_total":   "Notifications given up on (dead letters), each also in the history and the log.",
	"burnwatch_outbox_pending":                    "Groups waiting to be delivered to a receiver.",
	"burnwatch_outbox_superseded_total":           "Notifications replaced by a newer one of their group before delivery.",
	"burnwatch_alertmanager_pushes_total":         "Pushes of the alert set to an Alertmanager by outcome.",
	"burnwatch_sli_export_errors_total":           "SLI metric exports the metrics pipeline refused.",
	"burnwatch_agent_events_total":                "Agent: events aggregated for the gateways (an agent's own engine counts none).",
	"burnwatch_agent_exports_total":               "Agent: cuts of aggregates the metrics pipeline accepted.",
	"burnwatch_agent_export_errors_total":         "Agent: exports the metrics pipeline refused; the cut is kept and sent again.",
	"burnwatch_agent_exports_dropped_total":       "Agent: cuts given up on (past agent.max_pending, refused for good, or pending at stop).",
	"burnwatch_aggregates_merged_total":           "Gateway: agents' flow aggregates merged.",
	"burnwatch_aggregate_events_total":            "Gateway: events in merged aggregates.",
	"burnwatch_aggregates_dropped_total":          "Gateway: aggregates not merged, by reason (duplicate, stale, invalid, unknown_flow).",
	"burnwatch_aggregates_unremembered_total":     "Gateway: aggregates merged without remembering their sequence number (too many agents and flows).",
	"burnwatch_aggregate_slots_misaligned_total":  "Gateway: merged slots whose width does not divide the SLOs' base slots: placed up to a slot early.",
	"burnwatch_aggregate_events_unmatched_total":  "Gateway: merged events an SLO got no verdict for (the agent's specs differ).",
	"burnwatch_storage_durable":                   "1 while every acknowledged count is on disk; 0 memory only or off.",
	"burnwatch_storage_errors_total":              "Storage operations that failed.",
	"burnwatch_storage_restored_records_total":    "WAL records replayed at start.",
	"burnwatch_storage_recoveries_total":          "Times storage became durable again after a failure.",
	"burnwatch_storage_checkpoints_skipped_total": "Damaged checkpoints skipped at start.",
	"burnwatch_wal_records_total":                 "Records appended to the WAL.",
	"burnwatch_wal_bytes_written_total":           "Bytes appended to the WAL.",
	"burnwatch_wal_segments":                      "WAL segments on disk.",
	"burnwatch_wal_compression_ratio":             "Compressed size over raw size of the sealed WAL segments.",
	"burnwatch_wal_fsyncs_total":                  "WAL fsyncs.",
	"burnwatch_wal_fsync_seconds_total":           "Time spent in WAL fsyncs.",
	"burnwatch_wal_repairs_total":                 "Torn WAL tails cut on open.",
	"burnwatch_wal_write_errors_total":            "WAL writes that failed.",
	"burnwatch_history_lines_total":               "Lines written to the alert history.",
	"burnwatch_history_write_errors_total":        "Alert history writes that failed.",
}
