package metricsli

import (
	"slices"
	"strings"
)

// The OpenTelemetry-to-Prometheus naming rules (the OpenTelemetry
// specification's "Prometheus and OpenMetrics compatibility", as
// Prometheus's own OTLP endpoint applies them with suffixes and
// underscore escaping). Names are not reversible, so a PromQL selector is
// compiled into a Prometheus name that the runtime compares with the
// translated name of each incoming OTLP metric.

// MetricType is an OTLP metric's type, as far as naming cares.
type MetricType uint8

const (
	Gauge MetricType = iota + 1
	// MonotonicSum is a monotonic sum (a counter): its name gets _total.
	MonotonicSum
	NonMonotonicSum
	Histogram
	ExponentialHistogram
	Summary
)

func (t MetricType) histogram() bool { return t == Histogram || t == ExponentialHistogram }

// unitWords are the Prometheus words of the OTLP (UCUM) units the rules
// name; any other unit is used as written, cleaned up.
var unitWords = map[string]string{
	"d": "days", "h": "hours", "min": "minutes", "s": "seconds",
	"ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds",
	"By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes", "TiBy": "tibibytes",
	"KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
	"m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams",
	"Cel": "celsius", "Hz": "hertz", "1": "", "%": "percent",
}

// perUnitWords are the words of the unit after a '/': By/s is
// bytes_per_second.
var perUnitWords = map[string]string{
	"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
}

// PrometheusName is the Prometheus name of an OTLP metric: the name's
// characters other than letters, digits and ':' become word breaks, the
// unit is appended in words unless the name already holds it (ms:
// milliseconds; By/s: bytes_per_second; annotations in braces such as
// {request} are dropped), a monotonic sum ends in _total and a gauge of
// unit 1 in _ratio, and a leading digit gets an underscore. A histogram's
// series add _bucket, _count and _sum to this name.
//
//	http.server.request.duration, s, Histogram → http_server_request_duration_seconds
//	http.server.requests, {request}, MonotonicSum → http_server_requests_total
func PrometheusName(name, unit string, t MetricType) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return !metricChar(r) })
	main, per := unitSuffixes(unit)
	main, per = cleanUnit(main), cleanUnit(per)
	if slices.Contains(words, main) {
		main = ""
	}
	if per == "per_" {
		per = ""
	} else {
		per = strings.TrimSuffix(per, "_")
		if slices.Contains(words, per) {
			per = ""
		}
	}
	if per != "" {
		main = strings.TrimSuffix(main, "_")
	}
	if main != "" {
		words = append(words, main)
	}
	if per != "" {
		words = append(words, per)
	}
	if t == MonotonicSum {
		words = append(slices.DeleteFunc(words, func(w string) bool { return w == "total" }), "total")
	}
	if unit == "1" && t == Gauge {
		words = append(slices.DeleteFunc(words, func(w string) bool { return w == "ratio" }), "ratio")
	}
	out := strings.Join(words, "_")
	if out != "" && isDigit(out[0]) {
		out = "_" + out
	}
	return out
}

// unitSuffixes splits a unit at its first '/' into the words of its main
// and per parts; a part with an annotation in braces, or empty, gives "".
func unitSuffixes(unit string) (main, per string) {
	m, p, hasPer := strings.Cut(unit, "/")
	if m = strings.TrimSpace(m); m != "" && !strings.ContainsAny(m, "{}") {
		main = m
		if w, ok := unitWords[m]; ok {
			main = w
		}
	}
	if hasPer && p != "" {
		if p = strings.TrimSpace(p); p != "" && !strings.ContainsAny(p, "{}") {
			per = p
			if w, ok := perUnitWords[p]; ok {
				per = w
			}
		}
		if per != "" {
			per = "per_" + per
		}
	}
	return main, per
}

// cleanUnit turns a unit's other characters into single underscores and
// drops a leading one.
func cleanUnit(u string) string {
	var b strings.Builder
	for _, r := range u {
		if !metricChar(r) {
			r = '_'
		}
		if r == '_' && strings.HasSuffix(b.String(), "_") {
			continue
		}
		b.WriteRune(r)
	}
	return strings.TrimPrefix(b.String(), "_")
}

func metricChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ':'
}

func labelChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// LabelName is the Prometheus label name of an OTLP attribute key: each run
// of characters other than letters and digits, underscores included,
// becomes one '_' (a name wrapped in __ keeps its wrapping), and a leading
// digit gets "key_".
//
//	http.response.status_code → http_response_status_code
func LabelName(key string) string {
	if key == "" {
		return ""
	}
	inner, reserved := key, false
	if len(key) > 4 && strings.HasPrefix(key, "__") && strings.HasSuffix(key, "__") {
		inner, reserved = key[2:len(key)-2], true
	}
	var b strings.Builder
	replaced := false
	for _, r := range inner {
		switch {
		case labelChar(r):
			b.WriteRune(r)
			replaced = false
		case !replaced:
			b.WriteByte('_')
			replaced = true
		}
	}
	out := b.String()
	if reserved {
		return "__" + out + "__"
	}
	if out != "" && isDigit(out[0]) {
		out = "key_" + out
	}
	return out
}

// Resource attributes that become the job and instance labels.
const (
	ServiceName       = "service.name"
	ServiceNamespace  = "service.namespace"
	ServiceInstanceID = "service.instance.id"
)

// ResourceLabels gives the job and instance labels a resource's service
// attributes make: job is service.namespace/service.name (service.name
// alone without a namespace), instance is service.instance.id. A label
// whose attributes are absent is "".
func ResourceLabels(namespace, name, instanceID string) (job, instance string) {
	job = name
	if namespace != "" && name != "" {
		job = namespace + "/" + name
	}
	return job, instanceID
}
