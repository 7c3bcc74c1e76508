package metricsli

// WithWindow puts window (a PromQL duration such as 5m or 1d) in place of
// each window placeholder of query, as Sloth does for each of its windows:
// what a Prometheus rule for that window runs. Spellings the compiler reads,
// {{.window}} and {{ .window }}, are both replaced.
func WithWindow(query, window string) string {
	return placeholderRE.ReplaceAllLiteralString(query, window)
}
