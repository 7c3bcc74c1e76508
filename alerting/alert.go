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

// The alertname labels of the alerts beyond the burn-rate tiers, one per
// kind, so that a route can send them elsewhere than burn-rate pages.
const (
	AlertNameBudget     = "SLOErrorBudgetConsumed"
	AlertNameExhaustion = "SLOErrorBudgetExhaustion"
	AlertNameNoData     = "SLONoData"
)

// Kind is what an alert watches.
type Kind string

const (
	// KindBurn: a multi-window burn-rate tier.
	KindBurn Kind = "burn"
	// KindBudget: a share of the period's error budget is spent.
	KindBudget Kind = "budget"
	// KindExhaustion: the budget left runs out within a horizon at the burn
	// rate of a window.
	KindExhaustion Kind = "exhaustion"
	// KindNoData: the SLO's flow has sent no events for a while.
	KindNoData Kind = "nodata"
)

// AlertName is the alertname label of alerts of kind k.
func (k Kind) AlertName() string {
	switch k {
	case KindBudget:
		return AlertNameBudget
	case KindExhaustion:
		return AlertNameExhaustion
	case KindNoData:
		return AlertNameNoData
	}
	return AlertName
}

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
// A tier here is a burn-rate tier or one of the SLO's other alert conditions
// (budget consumed, exhaustion, no data), told apart by Kind; names are
// unique per SLO across both. Fields describe the last evaluation; StartsAt
// is when it began firing.
type Alert struct {
	// Fingerprint depends only on the SLO and tier names, so it is stable
	// across restarts and config reloads and serves as a dedup key
	// (PagerDuty dedup_key).
	Fingerprint string `json:"fingerprint"`
	SLO         string `json:"slo"`
	Flow        string `json:"flow"`
	// Tier is the tier's or the condition's name.
	Tier string `json:"tier"`
	// Kind is what the alert watches. Kind-specific fields are zero for
	// the other kinds.
	Kind     Kind              `json:"kind"`
	Severity slo.Severity      `json:"severity"`
	Labels   map[string]string `json:"labels"`
	State    State             `json:"state"`
	StartsAt time.Time         `json:"starts_at"`
	// EndsAt is zero while firing.
	EndsAt        time.Time `json:"ends_at"`
	LastEvaluated time.Time `json:"last_evaluated"`

	// Objective is "availability", "latency" or "percentile"; Threshold is
	// the latency bound of a latency or percentile objective, and
	// Percentile (0.99 for p99) and Slice the rest of a percentile one.
	Objective  string        `json:"objective"`
	Threshold  time.Duration `json:"threshold,omitempty"`
	Percentile float64       `json:"percentile,omitempty"`
	Slice      time.Duration `json:"slice,omitempty"`
	Target     float64       `json:"target"`
	// Period is the rolling period, or the nominal length (30d, 7d) of a
	// calendar one; Calendar is then "month" or "week".
	Period   time.Duration `json:"period"`
	Calendar string        `json:"calendar,omitempty"`
	// Long and Short are a burn alert's windows. An exhaustion alert's
	// window is Long, with its burn rate and without counts.
	Long   Window  `json:"long"`
	Short  Window  `json:"short"`
	Factor float64 `json:"factor"`
	// BudgetLeft is the share of the period's budget not spent: 1 when
	// nothing is spent, negative when overspent.
	BudgetLeft float64 `json:"budget_left"`
	// TimeToExhaustion is how long BudgetLeft lasts at the long window's
	// burn rate (burn and exhaustion alerts); NeverExhausted when nothing
	// burns, zero for the kinds that do not project.
	TimeToExhaustion time.Duration `json:"time_to_exhaustion"`

	// Consumed is the share of the period's budget spent, and
	// ConsumedThreshold the share that fires a budget alert.
	Consumed          float64 `json:"consumed,omitempty"`
	ConsumedThreshold float64 `json:"consumed_threshold,omitempty"`
	// Within is the horizon of an exhaustion alert: it fires while
	// TimeToExhaustion is at most Within.
	Within time.Duration `json:"within,omitempty"`
	// Silence is how long the flow has sent no events, and After the
	// silence that fires a no-data alert.
	Silence time.Duration `json:"silence,omitempty"`
	After   time.Duration `json:"after,omitempty"`

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
	a := baseAlert(now, st, ts.Tier.Name, KindBurn, ts.Tier.Severity)
	a.Long = window(ts.Long)
	a.Short = window(ts.Short)
	a.Factor = finite(ts.Tier.Factor)
	a.TimeToExhaustion = slo.TimeToExhaustion(a.BudgetLeft, a.Long.Burn, a.Period)
	// The tier's own: bad events inside its long window, the ones that
	// burned what it alerts on.
	a.TraceIDs = traceIDs(ts.Exemplars)
	return a
}

// newConditionAlert builds the alert of one condition beyond the tiers, like
// newAlert.
func newConditionAlert(now time.Time, st *slo.Status, cs *slo.ConditionStatus) Alert {
	a := baseAlert(now, st, cs.Name, Kind(cs.Kind), cs.Severity)
	switch cs.Kind {
	case slo.BudgetConsumed:
		a.Consumed = finite(cs.Value)
		a.ConsumedThreshold = finite(cs.Threshold)
		a.TraceIDs = traceIDs(cs.Exemplars)
	case slo.Exhaustion:
		a.Long = Window{Window: cs.Window, Burn: finite(cs.Burn)}
		a.TimeToExhaustion = seconds(cs.Value)
		a.Within = seconds(cs.Threshold)
		a.TraceIDs = traceIDs(cs.Exemplars)
	case slo.NoData:
		// No exemplars: the flow's last bad events say nothing about why
		// it went quiet.
		a.Silence = seconds(cs.Value)
		a.After = seconds(cs.Threshold)
	}
	return a
}

// baseAlert fills what every kind of alert says about its SLO.
func baseAlert(now time.Time, st *slo.Status, name string, kind Kind, sev slo.Severity) Alert {
	spec := st.SLO
	labels := make(map[string]string, len(spec.Labels)+5)
	for k, v := range spec.Labels {
		labels[k] = v
	}
	labels[LabelAlertName] = kind.AlertName()
	labels[LabelSLO] = spec.Name
	labels[LabelFlow] = spec.Flow
	labels[LabelTier] = name
	labels[LabelSeverity] = string(sev)

	a := Alert{
		Fingerprint:   Fingerprint(spec.Name, name),
		SLO:           spec.Name,
		Flow:          spec.Flow,
		Tier:          name,
		Kind:          kind,
		Severity:      sev,
		Labels:        labels,
		LastEvaluated: now,
		Objective:     spec.Objective.String(),
		Target:        spec.Target,
		Period:        spec.Period,
		BudgetLeft:    finite(st.BudgetLeft),
		Good:          st.Period.Good(),
		Total:         st.Period.Total,
		Runbook:       spec.Runbook,
		Dashboard:     spec.Dashboard,
		Description:   spec.Description,
	}
	switch spec.Objective {
	case slo.LatencyThreshold:
		a.Threshold = spec.Threshold
	case slo.PercentileSlices:
		a.Threshold = spec.Threshold
		a.Percentile = spec.Percentile
		a.Slice = spec.Slice
	}
	if c := spec.Calendar; c != nil {
		switch c.Unit {
		case slo.Month:
			a.Calendar = "month"
		case slo.Week:
			a.Calendar = "week"
		}
	}
	return a
}

// traceIDs returns up to MaxTraceIDs exemplar trace IDs as hex, skipping
// exemplars without one.
func traceIDs(exemplars []slo.Exemplar) []string {
	var ids []string
	for _, ex := range exemplars {
		if len(ids) == MaxTraceIDs {
			break
		}
		if ex.TraceID == ([16]byte{}) {
			continue
		}
		ids = append(ids, hex.EncodeToString(ex.TraceID[:]))
	}
	return ids
}

// seconds turns a condition's value in seconds into a Duration: negative
// and NaN are 0, and anything too long for a Duration is NeverExhausted.
func seconds(s float64) time.Duration {
	switch {
	case !(s > 0):
		return 0
	case s*float64(time.Second) >= float64(NeverExhausted):
		return NeverExhausted
	}
	return time.Duration(math.Round(s * float64(time.Second)))
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

// Explain is one sentence saying what is wrong, for a page's body. For a
// burn alert:
//
//	checkout-availability burns its 30d error budget at 20.1x (1h) and 35.2x
//	(5m), factor 14.4; 97.3% budget left, exhausted in 1d 10h at this rate
//
// and for the other kinds:
//
//	checkout-availability has spent 52.3% of its month's error budget (threshold 50%)
//	checkout-availability will exhaust its error budget in 18h 20m at the 1h burn rate 3.2x (alert within 1d)
//	checkout has sent no events for 12m (alert after 10m)
func (a Alert) Explain() string {
	resolved := a.State == StateResolved
	switch a.Kind {
	case KindBudget:
		if resolved {
			return fmt.Sprintf("%s has spent %s of its %s error budget, below the %s threshold",
				a.SLO, formatPercent(a.Consumed), a.budgetOf(), formatTarget(a.ConsumedThreshold))
		}
		return fmt.Sprintf("%s has spent %s of its %s error budget (threshold %s)",
			a.SLO, formatPercent(a.Consumed), a.budgetOf(), formatTarget(a.ConsumedThreshold))
	case KindExhaustion:
		rate := fmt.Sprintf("the %s burn rate %s", FormatDuration(a.Long.Window), formatBurn(a.Long.Burn))
		switch {
		case resolved:
			lasts := "it lasts " + FormatDuration(a.TimeToExhaustion)
			if a.TimeToExhaustion >= NeverExhausted {
				lasts = "it does not run out"
			}
			return fmt.Sprintf("%s no longer exhausts its error budget within %s: %s at %s",
				a.SLO, FormatDuration(a.Within), lasts, rate)
		case a.BudgetLeft <= 0 || a.TimeToExhaustion <= 0:
			over := ""
			if a.BudgetLeft < 0 {
				over = " (" + formatPercent(-a.BudgetLeft) + " overspent)"
			}
			return fmt.Sprintf("%s has exhausted its %s error budget%s; the %s burn rate is %s (alert within %s)",
				a.SLO, a.budgetOf(), over, FormatDuration(a.Long.Window), formatBurn(a.Long.Burn), FormatDuration(a.Within))
		}
		return fmt.Sprintf("%s will exhaust its error budget in %s at %s (alert within %s)",
			a.SLO, FormatDuration(a.TimeToExhaustion), rate, FormatDuration(a.Within))
	case KindNoData:
		if resolved {
			return fmt.Sprintf("%s sends events again (alert after %s without any)", a.Flow, FormatDuration(a.After))
		}
		if a.Silence <= 0 || a.Silence >= NeverExhausted {
			return fmt.Sprintf("%s has sent no events (alert after %s)", a.Flow, FormatDuration(a.After))
		}
		return fmt.Sprintf("%s has sent no events for %s (alert after %s)", a.Flow, FormatDuration(a.Silence), FormatDuration(a.After))
	}
	var b strings.Builder
	if resolved {
		fmt.Fprintf(&b, "%s no longer burns its %s error budget above factor %s: %s (%s) and %s (%s)",
			a.SLO, a.budgetOf(), formatFactor(a.Factor),
			formatBurn(a.Long.Burn), FormatDuration(a.Long.Window),
			formatBurn(a.Short.Burn), FormatDuration(a.Short.Window))
	} else {
		fmt.Fprintf(&b, "%s burns its %s error budget at %s (%s) and %s (%s), factor %s",
			a.SLO, a.budgetOf(),
			formatBurn(a.Long.Burn), FormatDuration(a.Long.Window),
			formatBurn(a.Short.Burn), FormatDuration(a.Short.Window),
			formatFactor(a.Factor))
	}
	b.WriteString("; ")
	b.WriteString(a.budgetText())
	return b.String()
}

// budgetOf names the budget's period in "its ... error budget": "30d" or
// "month's".
func (a Alert) budgetOf() string {
	if a.Calendar != "" {
		return a.Calendar + "'s"
	}
	return FormatDuration(a.Period)
}

// PeriodText names the compliance period: "30d" for a rolling period,
// "month" or "week" for a calendar one.
func (a Alert) PeriodText() string {
	if a.Calendar != "" {
		return a.Calendar
	}
	return FormatDuration(a.Period)
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
	resolved := a.State == StateResolved
	switch a.Kind {
	case KindBudget:
		if resolved {
			return fmt.Sprintf("%s: error budget spent back below %s (%s)", a.SLO, formatTarget(a.ConsumedThreshold), a.Tier)
		}
		return fmt.Sprintf("%s: %s of the %s error budget spent, over %s (%s)",
			a.SLO, formatPercent(a.Consumed), a.budgetOf(), formatTarget(a.ConsumedThreshold), a.Tier)
	case KindExhaustion:
		switch {
		case resolved:
			return fmt.Sprintf("%s: error budget lasts beyond %s again (%s)", a.SLO, FormatDuration(a.Within), a.Tier)
		case a.BudgetLeft <= 0 || a.TimeToExhaustion <= 0:
			return fmt.Sprintf("%s: error budget exhausted (%s)", a.SLO, a.Tier)
		}
		return fmt.Sprintf("%s: error budget exhausted in %s at the %s burn rate (%s)",
			a.SLO, FormatDuration(a.TimeToExhaustion), FormatDuration(a.Long.Window), a.Tier)
	case KindNoData:
		if resolved {
			return fmt.Sprintf("%s: flow %s sends events again (%s)", a.SLO, a.Flow, a.Tier)
		}
		if a.Silence <= 0 || a.Silence >= NeverExhausted {
			return fmt.Sprintf("%s: flow %s sends no events (%s)", a.SLO, a.Flow, a.Tier)
		}
		return fmt.Sprintf("%s: flow %s sent no events for %s (%s)", a.SLO, a.Flow, FormatDuration(a.Silence), a.Tier)
	}
	if resolved {
		return fmt.Sprintf("%s: error budget burn back below %sx (%s)", a.SLO, formatFactor(a.Factor), a.Tier)
	}
	return fmt.Sprintf("%s: error budget burn %s over %s, above %sx (%s)",
		a.SLO, formatBurn(a.Long.Burn), FormatDuration(a.Long.Window), formatFactor(a.Factor), a.Tier)
}

// ObjectiveText states the SLO, such as "99.9% of requests succeed", "99%
// of requests succeed within 300ms" or "99% of 1m slices have p99 latency
// within 300ms".
func (a Alert) ObjectiveText() string {
	switch {
	case a.Percentile > 0:
		return fmt.Sprintf("%s of %s slices have p%s latency within %s",
			formatTarget(a.Target), FormatDuration(a.Slice), strings.TrimSuffix(formatTarget(a.Percentile), "%"), a.Threshold)
	case a.Threshold > 0:
		return fmt.Sprintf("%s of requests succeed within %s", formatTarget(a.Target), a.Threshold)
	}
	return fmt.Sprintf("%s of requests succeed", formatTarget(a.Target))
}

// Annotations are Alertmanager-style annotations: summary, description,
// runbook_url and dashboard_url (when set), plus the numbers behind them as
// text, those of the alert's kind only. Empty values are left out.
func (a Alert) Annotations() map[string]string {
	ann := map[string]string{
		"summary":      a.Summary(),
		"description":  a.Explain(),
		"objective":    a.ObjectiveText(),
		"target":       formatTarget(a.Target),
		"period":       a.PeriodText(),
		"budget_left":  formatPercent(a.BudgetLeft),
		"events_good":  strconv.FormatUint(a.Good, 10),
		"events_total": strconv.FormatUint(a.Total, 10),
	}
	switch a.Kind {
	case KindBudget:
		ann["budget_consumed"] = formatPercent(a.Consumed)
		ann["budget_threshold"] = formatTarget(a.ConsumedThreshold)
	case KindExhaustion:
		ann["burn_rate"] = strconv.FormatFloat(a.Long.Burn, 'f', 2, 64)
		ann["window"] = FormatDuration(a.Long.Window)
		ann["time_to_exhaustion"] = FormatDuration(a.TimeToExhaustion)
		ann["within"] = FormatDuration(a.Within)
	case KindNoData:
		if a.Silence > 0 {
			ann["silence"] = FormatDuration(a.Silence)
		}
		ann["after"] = FormatDuration(a.After)
	default:
		ann["burn_rate_long"] = strconv.FormatFloat(a.Long.Burn, 'f', 2, 64)
		ann["burn_rate_short"] = strconv.FormatFloat(a.Short.Burn, 'f', 2, 64)
		ann["window_long"] = FormatDuration(a.Long.Window)
		ann["window_short"] = FormatDuration(a.Short.Window)
		ann["factor"] = formatFactor(a.Factor)
		ann["time_to_exhaustion"] = FormatDuration(a.TimeToExhaustion)
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
