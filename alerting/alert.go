package alerting

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// AlertName is the alertname label of every burn-rate alert. One name for all
// SLOs keeps routing rules short (match alertname, group by slo), the way
// Pyrra and Sloth name theirs; the SLO and tier are labels of their own.
const AlertName = "SLOBurnRate"

// Label names Burnwatch sets on every alert. An SLO's own labels with these
// names are ignored, so routes can rely on them.
const (
	LabelAlertName = "alertname"
	LabelSLO       = "slo"
	LabelFlow      = "flow"
	LabelTier      = "tier"
	LabelSeverity  = "severity"
)

// MaxTraceIDs is how many exemplar trace IDs an alert carries.
const MaxTraceIDs = 3

// State is an alert's lifecycle state.
type State string

const (
	// StateFiring: the tier's condition holds (or held within KeepFiringFor).
	StateFiring State = "firing"
	// StateResolved: the condition stopped holding, or the SLO or tier is gone.
	StateResolved State = "resolved"
)

// Window is one burn-rate window of an alert at its last evaluation.
type Window struct {
	Window time.Duration `json:"window"`
	Total  uint64        `json:"total"`
	Bad    uint64        `json:"bad"`
	// Burn is the error rate over the window divided by the error budget
	// rate (1 - target): 1 spends exactly one budget per period.
	Burn float64 `json:"burn"`
}

// Alert is one (SLO, tier) alert with everything a person needs to act on it.
// Fields describe the last evaluation; StartsAt is when it began firing.
type Alert struct {
	// Fingerprint depends only on the SLO and tier names, so it is stable
	// across restarts and config reloads and serves as a dedup key
	// (PagerDuty dedup_key).
	Fingerprint string            `json:"fingerprint"`
	SLO         string            `json:"slo"`
	Flow        string            `json:"flow"`
	Tier        string            `json:"tier"`
	Severity    slo.Severity      `json:"severity"`
	Labels      map[string]string `json:"labels"`
	State       State             `json:"state"`
	StartsAt    time.Time         `json:"starts_at"`
	// EndsAt is zero while firing.
	EndsAt        time.Time `json:"ends_at"`
	LastEvaluated time.Time `json:"last_evaluated"`

	// Objective is "availability" or "latency"; Threshold is the latency
	// bound of a latency objective.
	Objective string        `json:"objective"`
	Threshold time.Duration `json:"threshold,omitempty"`
	Target    float64       `json:"target"`
	Period    time.Duration `json:"period"`
	Long      Window        `json:"long"`
	Short     Window        `json:"short"`
	Factor    float64       `json:"factor"`
	// BudgetLeft is the share of the period's budget not spent: 1 when
	// nothing is spent, negative when overspent.
	BudgetLeft float64 `json:"budget_left"`
	// TimeToExhaustion is how long BudgetLeft lasts at the long window's
	// burn rate; NeverExhausted when nothing burns.
	TimeToExhaustion time.Duration `json:"time_to_exhaustion"`
	// Good and Total count events over the whole period.
	Good  uint64 `json:"good"`
	Total uint64 `json:"total"`

	Runbook     string `json:"runbook,omitempty"`
	Dashboard   string `json:"dashboard,omitempty"`
	Description string `json:"description,omitempty"`
	// TraceIDs are up to MaxTraceIDs recent bad events, hex, newest first.
	TraceIDs []string `json:"trace_ids,omitempty"`
}

// NeverExhausted is the TimeToExhaustion of an alert whose budget does not
// burn; it matches slo.TimeToExhaustion.
const NeverExhausted = time.Duration(math.MaxInt64)

// Fingerprint is the stable identity of the alert of tier in sloName: the hex
// FNV-1a 64-bit hash of both names. FNV is fixed by its spec, so the value
// does not change across builds or Go versions (unlike hash/maphash).
func Fingerprint(sloName, tier string) string {
	h := fnv.New64a()
	h.Write([]byte(sloName))
	// A byte that is never in valid UTF-8 separates the names, so ("a",
	// "bc") and ("ab", "c") differ.
	h.Write([]byte{0xff})
	h.Write([]byte(tier))
	return fmt.Sprintf("%016x", h.Sum64())
}

// newAlert builds the alert of one tier of an evaluation. Lifecycle fields
// (State, StartsAt, EndsAt) are left to the Manager.
func newAlert(now time.Time, st *slo.Status, ts *slo.TierStatus) Alert {
	spec := st.SLO
	labels := make(map[string]string, len(spec.Labels)+5)
	for k, v := range spec.Labels {
		labels[k] = v
	}
	labels[LabelAlertName] = AlertName
	labels[LabelSLO] = spec.Name
	labels[LabelFlow] = spec.Flow
	labels[LabelTier] = ts.Tier.Name
	labels[LabelSeverity] = string(ts.Tier.Severity)

	a := Alert{
		Fingerprint:   Fingerprint(spec.Name, ts.Tier.Name),
		SLO:           spec.Name,
		Flow:          spec.Flow,
		Tier:          ts.Tier.Name,
		Severity:      ts.Tier.Severity,
		Labels:        labels,
		LastEvaluated: now,
		Objective:     spec.Objective.String(),
		Target:        spec.Target,
		Period:        spec.Period,
		Long:          window(ts.Long),
		Short:         window(ts.Short),
		Factor:        finite(ts.Tier.Factor),
		BudgetLeft:    finite(st.BudgetLeft),
		Good:          st.Period.Good(),
		Total:         st.Period.Total,
		Runbook:       spec.Runbook,
		Dashboard:     spec.Dashboard,
		Description:   spec.Description,
	}
	if spec.Objective == slo.LatencyThreshold {
		a.Threshold = spec.Threshold
	}
	a.TimeToExhaustion = slo.TimeToExhaustion(a.BudgetLeft, a.Long.Burn, a.Period)
	for _, ex := range st.Exemplars {
		if len(a.TraceIDs) == MaxTraceIDs {
			break
		}
		if ex.TraceID == ([16]byte{}) {
			continue
		}
		a.TraceIDs = append(a.TraceIDs, hex.EncodeToString(ex.TraceID[:]))
	}
	return a
}

func window(w slo.WindowStats) Window {
	return Window{Window: w.Window, Total: w.Total, Bad: w.Bad, Burn: finite(w.Burn)}
}

// finite keeps NaN and ±Inf out of alerts: encoding/json rejects them, and a
// snapshot that cannot be encoded would lose every firing alert.
func finite(f float64) float64 {
	switch {
	case math.IsNaN(f):
		return 0
	case math.IsInf(f, 1):
		return math.MaxFloat64
	case math.IsInf(f, -1):
		return -math.MaxFloat64
	}
	return f
}

// clone returns a copy that shares no maps or slices with a.
func (a Alert) clone() Alert {
	if a.Labels != nil {
		l := make(map[string]string, len(a.Labels))
		for k, v := range a.Labels {
			l[k] = v
		}
		a.Labels = l
	}
	if a.TraceIDs != nil {
		a.TraceIDs = append([]string(nil), a.TraceIDs...)
	}
	return a
}

// Explain is one sentence saying what burns and how fast, for a page's body:
//
//	checkout-availability burns its 30d error budget at 20.1x (1h) and 35.2x
//	(5m), factor 14.4; 97.3% budget left, exhausted in 1d 10h at this rate
func (a Alert) Explain() string {
	var b strings.Builder
	if a.State == StateResolved {
		fmt.Fprintf(&b, "%s no longer burns its %s error budget above factor %s: %s (%s) and %s (%s)",
			a.SLO, FormatDuration(a.Period), formatFactor(a.Factor),
			formatBurn(a.Long.Burn), FormatDuration(a.Long.Window),
			formatBurn(a.Short.Burn), FormatDuration(a.Short.Window))
	} else {
		fmt.Fprintf(&b, "%s burns its %s error budget at %s (%s) and %s (%s), factor %s",
			a.SLO, FormatDuration(a.Period),
			formatBurn(a.Long.Burn), FormatDuration(a.Long.Window),
			formatBurn(a.Short.Burn), FormatDuration(a.Short.Window),
			formatFactor(a.Factor))
	}
	b.WriteString("; ")
	b.WriteString(a.budgetText())
	return b.String()
}

// budgetText says how much budget is left and how long it lasts.
func (a Alert) budgetText() string {
	switch {
	case a.BudgetLeft <= 0:
		return fmt.Sprintf("budget exhausted (%s overspent)", formatPercent(-a.BudgetLeft))
	case a.TimeToExhaustion >= NeverExhausted:
		return fmt.Sprintf("%s budget left", formatPercent(a.BudgetLeft))
	}
	return fmt.Sprintf("%s budget left, exhausted in %s at this rate",
		formatPercent(a.BudgetLeft), FormatDuration(a.TimeToExhaustion))
}

// Summary is a short title for the alert, such as a page's subject.
func (a Alert) Summary() string {
	if a.State == StateResolved {
		return fmt.Sprintf("%s: error budget burn back below %sx (%s)", a.SLO, formatFactor(a.Factor), a.Tier)
	}
	return fmt.Sprintf("%s: error budget burn %s over %s, above %sx (%s)",
		a.SLO, formatBurn(a.Long.Burn), FormatDuration(a.Long.Window), formatFactor(a.Factor), a.Tier)
}

// ObjectiveText states the SLO, such as "99.9% of requests succeed" or "99% of
// requests succeed within 300ms".
func (a Alert) ObjectiveText() string {
	if a.Threshold > 0 {
		return fmt.Sprintf("%s of requests succeed within %s", formatTarget(a.Target), a.Threshold)
	}
	return fmt.Sprintf("%s of requests succeed", formatTarget(a.Target))
}

// Annotations are Alertmanager-style annotations: summary, description,
// runbook_url and dashboard_url (when set), plus the numbers behind them as
// text. Empty values are left out.
func (a Alert) Annotations() map[string]string {
	ann := map[string]string{
		"summary":            a.Summary(),
		"description":        a.Explain(),
		"objective":          a.ObjectiveText(),
		"target":             formatTarget(a.Target),
		"period":             FormatDuration(a.Period),
		"burn_rate_long":     strconv.FormatFloat(a.Long.Burn, 'f', 2, 64),
		"burn_rate_short":    strconv.FormatFloat(a.Short.Burn, 'f', 2, 64),
		"window_long":        FormatDuration(a.Long.Window),
		"window_short":       FormatDuration(a.Short.Window),
		"factor":             formatFactor(a.Factor),
		"budget_left":        formatPercent(a.BudgetLeft),
		"time_to_exhaustion": FormatDuration(a.TimeToExhaustion),
		"events_good":        strconv.FormatUint(a.Good, 10),
		"events_total":       strconv.FormatUint(a.Total, 10),
	}
	if a.Runbook != "" {
		ann["runbook_url"] = a.Runbook
	}
	if a.Dashboard != "" {
		ann["dashboard_url"] = a.Dashboard
	}
	if a.Description != "" {
		ann["slo_description"] = a.Description
	}
	if len(a.TraceIDs) > 0 {
		ann["trace_ids"] = strings.Join(a.TraceIDs, ",")
	}
	return ann
}

// FormatDuration renders d for people with its two largest units, days
// included, truncating the rest: "30d", "1h", "1d 10h", "6m 40s", "250ms".
// NeverExhausted renders as "never".
func FormatDuration(d time.Duration) string {
	if d >= NeverExhausted {
		return "never"
	}
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	if d < time.Second {
		return d.String()
	}
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var parts []string
	for _, u := range units {
		if len(parts) == 2 {
			break
		}
		n := d / u.size
		d -= n * u.size
		if n > 0 {
			parts = append(parts, strconv.FormatInt(int64(n), 10)+u.name)
		} else if len(parts) > 0 {
			// Stop at the first zero unit after the largest: "1d" rather
			// than "1d 0h", and "1d 0h 5m" is not worth two units.
			break
		}
	}
	return strings.Join(parts, " ")
}

func formatBurn(b float64) string { return strconv.FormatFloat(b, 'f', 1, 64) + "x" }

func formatFactor(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// formatPercent renders a budget share as a percentage with one decimal:
// "97.3%".
func formatPercent(f float64) string {
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

// formatTarget renders a target with the digits it has: "99.9%", "99%",
// "99.95%".
func formatTarget(t float64) string {
	// Round away float noise (0.999*100 = 99.89999...) at 4 decimals.
	p := math.Round(t*100*1e4) / 1e4
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// GroupKey is the Alertmanager-style key of a group with these group labels
// under the root route: {}:{slo="checkout"}. Receivers use it to tell
// groups apart; it depends only on the labels.
func GroupKey(groupLabels map[string]string) string {
	var b strings.Builder
	b.WriteString("{}:{")
	for i, k := range sortedKeys(groupLabels) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(groupLabels[k]))
	}
	b.WriteByte('}')
	return b.String()
}
