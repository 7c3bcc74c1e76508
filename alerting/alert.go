package alerting

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"maps"
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

// Label names Burnwatch sets on every alert (slo.ReservedLabels). Flow and
// SLO labels with these names are overridden, and spec files may not give
// them as alert labels, so routes can rely on them.
const (
	LabelAlertName = "alertname"
	LabelSLO       = "slo"
	LabelFlow      = "flow"
	LabelTier      = "tier"
	LabelSeverity  = "severity"
	// LabelCriticality is the flow's tier: critical, high, medium or low.
	// An SLO without one (a spec built in code) has no criticality label.
	LabelCriticality = "criticality"
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
	// Flaps counts how often this alert has fired again soon after it
	// resolved (alerting.Options.FlapWindow): a tier worth tuning.
	Flaps int `json:"flaps,omitempty"`

	// AnnotationTemplates are the SLO's own alert annotations: Go
	// text/template sources rendered on the alert when it is sent (package
	// notify); summary and description replace the default texts.
	AnnotationTemplates map[string]string `json:"annotation_templates,omitempty"`
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
	a := Alert{
		Fingerprint:         Fingerprint(spec.Name, name),
		SLO:                 spec.Name,
		Flow:                spec.Flow,
		Tier:                name,
		Kind:                kind,
		Severity:            sev,
		Labels:              alertLabels(spec, kind, name, sev),
		LastEvaluated:       now,
		Objective:           spec.Objective.String(),
		Target:              spec.Target,
		Period:              spec.Period,
		BudgetLeft:          finite(st.BudgetLeft),
		Good:                st.Period.Good(),
		Total:               st.Period.Total,
		Runbook:             spec.Runbook,
		Dashboard:           spec.Dashboard,
		Description:         spec.Description,
		AnnotationTemplates: maps.Clone(spec.AlertAnnotations),
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

// alertLabels are the labels of spec's alert of tier name (a tier's or a
// condition's name): the flow's labels, then the SLO's, then the SLO's alert
// labels, a later one winning over an earlier one of the same name; then
// the reserved labels, which always win: alertname, slo, flow, tier,
// severity and criticality (the flow's tier, left out when spec has none).
func alertLabels(spec *slo.Spec, kind Kind, name string, sev slo.Severity) map[string]string {
	labels := make(map[string]string, len(spec.FlowLabels)+len(spec.Labels)+len(spec.AlertLabels)+6)
	maps.Copy(labels, spec.FlowLabels)
	maps.Copy(labels, spec.Labels)
	maps.Copy(labels, spec.AlertLabels)
	labels[LabelAlertName] = kind.AlertName()
	labels[LabelSLO] = spec.Name
	labels[LabelFlow] = spec.Flow
	labels[LabelTier] = name
	labels[LabelSeverity] = string(sev)
	if spec.Criticality != "" {
		labels[LabelCriticality] = spec.Criticality
	} else {
		delete(labels, LabelCriticality) // never a flow's or SLO's own
	}
	return labels
}

// SampleAlerts are made-up firing alerts of spec: one of each kind it has
// (the first tier, budget, exhaustion and no-data alert), or a burn alert of
// the first default tier when it has none. They carry the labels, texts and
// annotation templates spec's real alerts carry, and every field a kind
// sets. Templates are tried on them before any alert exists, so that one
// naming a field or label that is not there fails when the spec is loaded
// rather than during an outage.
func SampleAlerts(spec *slo.Spec) []Alert {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	period := spec.Period
	if period <= 0 {
		period = slo.DefaultPeriod
		if spec.Calendar != nil {
			period = spec.Calendar.Unit.NominalPeriod()
		}
	}
	tiers := spec.Tiers
	if tiers == nil {
		tiers = slo.DefaultTiers(period)
	}
	ex := []slo.Exemplar{{TraceID: [16]byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}}}
	st := &slo.Status{
		SLO: spec, At: now, BudgetLeft: 0.9, Exemplars: ex,
		Period: slo.WindowStats{Window: period, Total: 10_000, Bad: 20},
	}
	var out []Alert
	burn := func(t slo.Tier) {
		out = append(out, newAlert(now, st, &slo.TierStatus{
			Tier:   t,
			Long:   slo.WindowStats{Window: t.Long, Total: 1000, Bad: 20, Burn: 20},
			Short:  slo.WindowStats{Window: t.Short, Total: 100, Bad: 2, Burn: 20},
			Enough: true, Firing: true, Exemplars: ex,
		}))
	}
	cond := func(cs slo.ConditionStatus) {
		cs.Firing = true
		out = append(out, newConditionAlert(now, st, &cs))
	}
	if len(tiers) > 0 {
		burn(tiers[0])
	}
	if len(spec.BudgetAlerts) > 0 {
		b := spec.BudgetAlerts[0]
		cond(slo.ConditionStatus{Kind: slo.BudgetConsumed, Name: cmp.Or(b.Name, "budget"), Severity: cmp.Or(b.Severity, slo.Ticket),
			Value: min(1, b.Consumed+0.1), Threshold: b.Consumed, Exemplars: ex})
	}
	if len(spec.ExhaustionAlerts) > 0 {
		e := spec.ExhaustionAlerts[0]
		cond(slo.ConditionStatus{Kind: slo.Exhaustion, Name: cmp.Or(e.Name, "exhaustion"), Severity: cmp.Or(e.Severity, slo.Ticket),
			Window: e.Window, Burn: 20, Value: (e.Within * 3 / 4).Seconds(), Threshold: e.Within.Seconds(), Exemplars: ex})
	}
	if spec.NoData > 0 {
		cond(slo.ConditionStatus{Kind: slo.NoData, Name: slo.NoDataName, Severity: cmp.Or(spec.NoDataSeverity, slo.Ticket),
			Value: (spec.NoData + 2*time.Minute).Seconds(), Threshold: spec.NoData.Seconds()})
	}
	if len(out) == 0 {
		// No alerts at all: still try templates on the kind most have.
		burn(slo.DefaultTiers(period)[0])
	}
	for i := range out {
		out[i].State, out[i].StartsAt = StateFiring, now.Add(-5*time.Minute)
	}
	return out
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

// Clone returns a copy that shares no maps or slices with a.
func (a Alert) Clone() Alert {
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
	a.AnnotationTemplates = maps.Clone(a.AnnotationTemplates)
	return a
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
