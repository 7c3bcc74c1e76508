package app

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/silence"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/specs"
)

// The read-only JSON API under /api/v1 that the status page and `burnwatch
// status` read: SLOs with their budget, burn rates, tiers, latency and
// alerts; flows ranked; active alerts; the daemon's own state. Durations
// are given twice: as people write them ("5m", "30d") and in seconds;
// latencies in seconds, as Prometheus gives them.

// SLOList is the answer of GET /api/v1/slos.
type SLOList struct {
	// EvaluatedAt is when the evaluation shown was made; null before the
	// first.
	EvaluatedAt *time.Time `json:"evaluated_at"`
	SLOs        []SLOView  `json:"slos"`
}

// SLOView is one SLO at the newest evaluation.
type SLOView struct {
	Name        string            `json:"name"`
	Flow        string            `json:"flow"`
	Labels      map[string]string `json:"labels"`
	Description string            `json:"description,omitempty"`
	// Criticality is the flow's tier: critical, high, medium or low.
	Criticality string `json:"criticality,omitempty"`
	// Objective is "availability", "latency" or "percentile"; Text states
	// it: "99% of requests succeed within 300ms".
	Objective ObjectiveView `json:"objective"`
	// Target is the good share, in (0, 1).
	Target float64 `json:"target"`
	// Period is "30d" for a rolling period, "month" or "week" for a
	// calendar one; PeriodSeconds its length now, PeriodStart where the
	// counted period begins.
	Period        string    `json:"period"`
	PeriodSeconds float64   `json:"period_seconds"`
	PeriodStart   time.Time `json:"period_start"`
	// BudgetLeft is the share of the period's error budget not spent: 1
	// when none is, negative when overspent. Good, Bad and Total count the
	// period (events, or slices of a percentile SLO).
	BudgetLeft float64 `json:"budget_left"`
	Good       uint64  `json:"good"`
	Bad        uint64  `json:"bad"`
	Total      uint64  `json:"total"`
	// State sums the SLO up: "firing" when a tier or condition fires,
	// else "no_data" when the period holds nothing, else "warming_up"
	// when a tier may not fire yet, else "ok". Severity is the highest
	// severity firing ("page", "ticket"), empty when none.
	State    string `json:"state"`
	Severity string `json:"severity,omitempty"`
	// Windows are the burn rates of the period and every tier window,
	// shortest first.
	Windows    []WindowView    `json:"windows"`
	Tiers      []TierView      `json:"tiers"`
	Conditions []ConditionView `json:"conditions"`
	// Latency are the flow's percentiles over each tier window, shortest
	// first.
	Latency []LatencyView `json:"latency"`
	// Alerts are the SLO's firing alerts.
	Alerts    []AlertView    `json:"alerts"`
	Exemplars []ExemplarView `json:"exemplars"`
	Runbook   string         `json:"runbook,omitempty"`
	Dashboard string         `json:"dashboard,omitempty"`
	// History is the period's budget history, in GET /api/v1/slos/{name}
	// only.
	History *BudgetSeries `json:"history,omitempty"`
}

// ObjectiveView is what makes an event (or a slice) good.
type ObjectiveView struct {
	Type string `json:"type"`
	Text string `json:"text"`
	// ThresholdSeconds is the latency bound of a latency or percentile
	// objective; Percentile (0.99) and SliceSeconds complete a percentile
	// one.
	ThresholdSeconds float64 `json:"threshold_seconds,omitempty"`
	Percentile       float64 `json:"percentile,omitempty"`
	SliceSeconds     float64 `json:"slice_seconds,omitempty"`
}

// WindowView is one window's counts and burn rate.
type WindowView struct {
	Window  string  `json:"window"`
	Seconds float64 `json:"seconds"`
	Good    uint64  `json:"good"`
	Bad     uint64  `json:"bad"`
	Total   uint64  `json:"total"`
	// Burn is the bad share over the budget's (1 - target): 1 spends
	// exactly the period's budget over the period.
	Burn float64 `json:"burn"`
}

// Tier states.
const (
	TierFiring    = "firing"
	TierOK        = "ok"
	TierWarmingUp = "warming_up"
	// TierNotEnough: the long window holds fewer events than the tier's
	// minimum, so it may not fire.
	TierNotEnough = "not_enough_events"
)

// TierView is one multi-window burn-rate tier at the evaluation.
type TierView struct {
	Name     string `json:"name"`
	Severity string `json:"severity"`
	// Factor is the burn rate both windows must exceed to fire.
	Factor float64    `json:"factor"`
	Long   WindowView `json:"long"`
	Short  WindowView `json:"short"`
	// State is firing, ok, warming_up or not_enough_events;
	// WarmUpLeftSeconds says how long a warming tier still waits.
	State             string  `json:"state"`
	WarmUpLeftSeconds float64 `json:"warm_up_left_seconds,omitempty"`
}

// ConditionView is an alert condition beyond the tiers: budget consumed,
// exhaustion or no data. Value and Threshold are in the condition's unit
// (a share, or seconds).
type ConditionView struct {
	Name      string  `json:"name"`
	Kind      string  `json:"kind"`
	Severity  string  `json:"severity"`
	Firing    bool    `json:"firing"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
}

// LatencyView are latency percentiles over one window, in seconds.
type LatencyView struct {
	Window  string  `json:"window"`
	Seconds float64 `json:"seconds"`
	Count   uint64  `json:"count"`
	P50     float64 `json:"p50"`
	P90     float64 `json:"p90"`
	P95     float64 `json:"p95"`
	P99     float64 `json:"p99"`
	P999    float64 `json:"p999"`
}

// ExemplarView is a recent bad event, to find its trace.
type ExemplarView struct {
	TraceID         string    `json:"trace_id"`
	SpanID          string    `json:"span_id"`
	End             time.Time `json:"end"`
	DurationSeconds float64   `json:"duration_seconds"`
}

// AlertList is the answer of GET /api/v1/alerts.
type AlertList struct {
	Alerts []AlertView `json:"alerts"`
}

// AlertView is one firing alert.
type AlertView struct {
	SLO  string `json:"slo"`
	Flow string `json:"flow"`
	// Tier is the tier's or the condition's name, Kind burn, budget,
	// exhaustion or nodata.
	Tier     string `json:"tier"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	// State is "active", or "suppressed" while a silence or an inhibition
	// mutes it (SilencedBy, InhibitedBy).
	State       string    `json:"state"`
	SilencedBy  []string  `json:"silenced_by"`
	InhibitedBy []string  `json:"inhibited_by"`
	StartsAt    time.Time `json:"starts_at"`
	Summary     string    `json:"summary"`
	// BurnLong and BurnShort are a burn alert's burn rates, over its
	// Factor.
	BurnLong    float64           `json:"burn_long"`
	BurnShort   float64           `json:"burn_short"`
	Factor      float64           `json:"factor"`
	BudgetLeft  float64           `json:"budget_left"`
	TraceIDs    []string          `json:"trace_ids"`
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	Runbook     string            `json:"runbook,omitempty"`
}

// FlowList is the answer of GET /api/v1/flows.
type FlowList struct {
	// Window is the window the flows are compared over: the shortest one
	// every flow keeps percentiles for, or the one asked for.
	Window  string     `json:"window"`
	Seconds float64    `json:"seconds"`
	Sort    string     `json:"sort"`
	Flows   []FlowView `json:"flows"`
}

// FlowView is one flow over the list's window, and since start.
type FlowView struct {
	Flow string `json:"flow"`
	// Events are the events in the window. Errors are those of the
	// window when an availability SLO of the flow counts it, else null;
	// ErrorRatio is null too without events.
	Events     uint64   `json:"events"`
	Errors     *uint64  `json:"errors"`
	ErrorRatio *float64 `json:"error_ratio"`
	// P50, P95 and P99 are latencies over the window, in seconds (all
	// events, errors included); 0 without events.
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	// EventsTotal and ErrorsTotal count since the daemon started.
	EventsTotal uint64   `json:"events_total"`
	ErrorsTotal uint64   `json:"errors_total"`
	SLOs        []string `json:"slos"`
}

// DaemonStatus is the answer of GET /api/v1/status.
type DaemonStatus struct {
	Version       string    `json:"version"`
	GoVersion     string    `json:"go_version"`
	StartedAt     time.Time `json:"started_at"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	Ready         bool      `json:"ready"`
	// Storage is durable, memory_only or off.
	Storage                   string     `json:"storage"`
	EvaluatedAt               *time.Time `json:"evaluated_at"`
	EvaluationIntervalSeconds float64    `json:"evaluation_interval_seconds"`
	// SpecError is the error of the last spec reload, which left the
	// running specs in place; null when it was applied.
	SpecError *SpecErrorView `json:"spec_error"`
	Counts    StatusCounts   `json:"counts"`
}

// SpecErrorView is a rejected spec reload.
type SpecErrorView struct {
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// StatusCounts are the daemon's sizes and counters.
type StatusCounts struct {
	Flows            uint64 `json:"flows"`
	SLOs             int    `json:"slos"`
	SLOsFiring       int    `json:"slos_firing"`
	AlertsFiring     int    `json:"alerts_firing"`
	AlertsSuppressed int    `json:"alerts_suppressed"`
	Silences         int    `json:"silences"`
	Events           uint64 `json:"events"`
	EventsTooLate    uint64 `json:"events_too_late"`
	EventsUnknown    uint64 `json:"events_unknown_flow"`
	EventsRefused    uint64 `json:"events_refused"`
}

// Flow list orders.
const (
	SortTraffic = "traffic"
	SortErrors  = "errors"
	SortLatency = "latency"
)

// statusRoutes adds the /api/v1 routes to mux. All are reads: open to
// every client the listener serves.
func (a *App) statusRoutes(mux *http.ServeMux, opts HandlerOptions) {
	mux.HandleFunc("GET /api/v1/slos", a.getSLOs)
	mux.HandleFunc("GET /api/v1/slos/{name}", a.getSLO)
	mux.HandleFunc("GET /api/v1/flows", a.getFlows)
	mux.HandleFunc("GET /api/v1/alerts", a.getActiveAlerts)
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, a.daemonStatus(opts.Version, a.clock.Now()))
	})
}

func (a *App) getSLOs(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, a.sloList(a.clock.Now(), ""))
}

func (a *App) getSLO(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	list := a.sloList(a.clock.Now(), name)
	if len(list.SLOs) == 0 {
		apiError(w, http.StatusNotFound, "no SLO named "+name)
		return
	}
	v := list.SLOs[0]
	h := a.budgets().series(name)
	v.History = &h
	writeJSON(w, v)
}

// sloList builds the views of the newest evaluation: every SLO's, or only
// the one named only.
func (a *App) sloList(now time.Time, only string) SLOList {
	alerts := a.alertViews(now)
	list := SLOList{SLOs: []SLOView{}}
	a.ReadStatuses(func(at time.Time, statuses []slo.Status) {
		if !at.IsZero() {
			list.EvaluatedAt = &at
		}
		for i := range statuses {
			if only != "" && statuses[i].SLO.Name != only {
				continue
			}
			list.SLOs = append(list.SLOs, sloView(&statuses[i], alerts))
		}
	})
	return list
}

func sloView(st *slo.Status, alerts []AlertView) SLOView {
	spec := st.SLO
	v := SLOView{
		Name: spec.Name, Flow: spec.Flow, Labels: spec.Labels, Description: spec.Description, Criticality: spec.Criticality,
		Objective: objectiveView(spec), Target: spec.Target,
		Period: periodText(spec), PeriodSeconds: st.PeriodLength.Seconds(), PeriodStart: st.PeriodStart,
		BudgetLeft: finiteJSON(st.BudgetLeft), Good: st.Period.Good(), Bad: st.Period.Bad, Total: st.Period.Total,
		Windows: windowViews(st), Tiers: make([]TierView, len(st.Tiers)), Conditions: []ConditionView{},
		Latency: make([]LatencyView, len(st.Latency)), Alerts: []AlertView{}, Exemplars: exemplarViews(st.Exemplars),
		Runbook: spec.Runbook, Dashboard: spec.Dashboard,
	}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	severity := func(s slo.Severity) {
		if v.Severity != string(slo.Page) {
			v.Severity = string(s)
		}
	}
	warming := false
	for i, t := range st.Tiers {
		tv := TierView{Name: t.Tier.Name, Severity: string(t.Tier.Severity), Factor: t.Tier.Factor,
			Long: windowView(t.Long), Short: windowView(t.Short), State: TierOK}
		switch {
		case t.Firing:
			tv.State = TierFiring
			severity(t.Tier.Severity)
		case t.WarmingUp:
			tv.State, tv.WarmUpLeftSeconds = TierWarmingUp, t.WarmUpLeft.Seconds()
			warming = true
		case !t.Enough:
			tv.State = TierNotEnough
		}
		v.Tiers[i] = tv
	}
	for _, c := range st.Conditions {
		v.Conditions = append(v.Conditions, ConditionView{Name: c.Name, Kind: string(c.Kind), Severity: string(c.Severity),
			Firing: c.Firing, Value: finiteJSON(c.Value), Threshold: finiteJSON(c.Threshold)})
		if c.Firing {
			severity(c.Severity)
		}
	}
	for i, p := range st.Latency {
		v.Latency[i] = latencyView(p)
	}
	for _, al := range alerts {
		if al.SLO == spec.Name {
			v.Alerts = append(v.Alerts, al)
		}
	}
	switch {
	case v.Severity != "":
		v.State = "firing"
	case st.Period.Total == 0:
		v.State = "no_data"
	case warming:
		v.State = "warming_up"
	default:
		v.State = "ok"
	}
	return v
}

func objectiveView(spec *slo.Spec) ObjectiveView {
	o := ObjectiveView{Type: spec.Objective.String()}
	a := alerting.Alert{Target: spec.Target}
	switch spec.Objective {
	case slo.LatencyThreshold:
		o.ThresholdSeconds, a.Threshold = spec.Threshold.Seconds(), spec.Threshold
	case slo.PercentileSlices:
		o.ThresholdSeconds, a.Threshold = spec.Threshold.Seconds(), spec.Threshold
		o.Percentile, a.Percentile = spec.Percentile, spec.Percentile
		o.SliceSeconds, a.Slice = spec.Slice.Seconds(), spec.Slice
	}
	o.Text = a.ObjectiveText()
	return o
}

func periodText(spec *slo.Spec) string {
	if c := spec.Calendar; c != nil {
		switch c.Unit {
		case slo.Month:
			return "month"
		case slo.Week:
			return "week"
		}
	}
	return slo.FormatDuration(spec.Period)
}

// windowViews are the period's and the tiers' windows, each once,
// shortest first.
func windowViews(st *slo.Status) []WindowView {
	out := []WindowView{windowView(st.Period)}
	for _, ws := range tierWindows(st) {
		if !slices.ContainsFunc(out, func(v WindowView) bool { return v.Seconds == ws.Window.Seconds() }) {
			out = append(out, windowView(ws))
		}
	}
	slices.SortStableFunc(out, func(a, b WindowView) int { return cmp.Compare(a.Seconds, b.Seconds) })
	return out
}

func windowView(ws slo.WindowStats) WindowView {
	return WindowView{Window: slo.FormatDuration(ws.Window), Seconds: ws.Window.Seconds(),
		Good: ws.Good(), Bad: ws.Bad, Total: ws.Total, Burn: finiteJSON(ws.Burn)}
}

func latencyView(p slo.Percentiles) LatencyView {
	return LatencyView{Window: slo.FormatDuration(p.Window), Seconds: p.Window.Seconds(), Count: p.Count,
		P50: p.P50.Seconds(), P90: p.P90.Seconds(), P95: p.P95.Seconds(), P99: p.P99.Seconds(), P999: p.P999.Seconds()}
}

func exemplarViews(ex []slo.Exemplar) []ExemplarView {
	out := make([]ExemplarView, len(ex))
	for i, e := range ex {
		out[i] = ExemplarView{TraceID: hex.EncodeToString(e.TraceID[:]), SpanID: hex.EncodeToString(e.SpanID[:]),
			End: time.Unix(0, e.End).UTC(), DurationSeconds: e.Duration.Seconds()}
	}
	return out
}

func (a *App) getActiveAlerts(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, AlertList{Alerts: a.alertViews(a.clock.Now())})
}

// alertViews are the firing alerts, pages first, then the oldest first.
func (a *App) alertViews(now time.Time) []AlertView {
	out := []AlertView{}
	if a.alerts == nil { // not started
		return out
	}
	firing := a.alerts.manager.Firing()
	for i := range firing {
		al := &firing[i]
		v := AlertView{SLO: al.SLO, Flow: al.Flow, Tier: al.Tier, Kind: string(al.Kind), Severity: string(al.Severity),
			State: "active", SilencedBy: a.alerts.silences.SilencedBy(al.Labels, now), InhibitedBy: []string{},
			StartsAt: al.StartsAt, Summary: al.Summary(), BurnLong: al.Long.Burn, BurnShort: al.Short.Burn, Factor: al.Factor,
			BudgetLeft: al.BudgetLeft, TraceIDs: al.TraceIDs, Fingerprint: al.Fingerprint, Labels: al.Labels, Runbook: al.Runbook}
		if a.alerts.router != nil {
			if by := a.alerts.router.InhibitedBy(*al, firing); by != nil {
				v.InhibitedBy = by
			}
		}
		if v.SilencedBy == nil {
			v.SilencedBy = []string{}
		}
		if v.TraceIDs == nil {
			v.TraceIDs = []string{}
		}
		if len(v.SilencedBy) > 0 || len(v.InhibitedBy) > 0 {
			v.State = "suppressed"
		}
		out = append(out, v)
	}
	slices.SortStableFunc(out, func(x, y AlertView) int {
		if c := cmp.Compare(severityRank(x.Severity), severityRank(y.Severity)); c != 0 {
			return c
		}
		return x.StartsAt.Compare(y.StartsAt)
	})
	return out
}

func severityRank(s string) int {
	if s == string(slo.Page) {
		return 0
	}
	return 1
}

func (a *App) getFlows(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	order := cmp.Or(q.Get("sort"), SortTraffic)
	if order != SortTraffic && order != SortErrors && order != SortLatency {
		apiError(w, http.StatusBadRequest, "sort: "+order+" is not one of traffic, errors, latency")
		return
	}
	var window time.Duration
	if s := q.Get("window"); s != "" {
		d, err := specs.ParseDuration(s)
		if err != nil || d <= 0 {
			apiError(w, http.StatusBadRequest, "window: "+s+" is not a duration such as 5m or 1h")
			return
		}
		window = d
	}
	list, err := a.flowList(a.clock.Now(), order, window)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, list)
}

// flowList compares the flows over window, 0 for the shortest window every
// flow keeps percentiles for.
func (a *App) flowList(now time.Time, order string, window time.Duration) (FlowList, error) {
	engine := a.Engine()
	flows := engine.Flows()
	pcts := make([][]slo.Percentiles, len(flows))
	common := map[time.Duration]int{}
	for i, f := range flows {
		pcts[i] = engine.FlowPercentiles(f.Flow, now)
		for _, p := range pcts[i] {
			common[p.Window]++
		}
	}
	if window == 0 {
		for w, n := range common {
			if n == len(flows) && (window == 0 || w < window) {
				window = w
			}
		}
	} else if common[window] != len(flows) {
		var have []string
		for w, n := range common {
			if n == len(flows) {
				have = append(have, slo.FormatDuration(w))
			}
		}
		slices.Sort(have)
		return FlowList{}, fmt.Errorf("window: not every flow keeps %s; use one of %s", slo.FormatDuration(window), strings.Join(have, ", "))
	}
	slos := map[string][]string{}
	errs := map[string]uint64{} // flow → errors in window, when counted
	a.ReadStatuses(func(_ time.Time, statuses []slo.Status) {
		for i := range statuses {
			st := &statuses[i]
			slos[st.SLO.Flow] = append(slos[st.SLO.Flow], st.SLO.Name)
			if st.SLO.Objective != slo.Availability {
				continue
			}
			for _, ws := range append(tierWindows(st), st.Period) {
				if ws.Window == window {
					errs[st.SLO.Flow] = ws.Bad
				}
			}
		}
	})
	list := FlowList{Window: slo.FormatDuration(window), Seconds: window.Seconds(), Sort: order, Flows: make([]FlowView, 0, len(flows))}
	for i, f := range flows {
		v := FlowView{Flow: f.Flow, EventsTotal: f.Events, ErrorsTotal: f.Errors, SLOs: slos[f.Flow]}
		if v.SLOs == nil {
			v.SLOs = []string{}
		}
		for _, p := range pcts[i] {
			if p.Window == window {
				v.Events, v.P50, v.P95, v.P99 = p.Count, p.P50.Seconds(), p.P95.Seconds(), p.P99.Seconds()
			}
		}
		if n, ok := errs[f.Flow]; ok {
			v.Errors = &n
			if v.Events > 0 {
				ratio := float64(n) / float64(v.Events)
				v.ErrorRatio = &ratio
			}
		}
		list.Flows = append(list.Flows, v)
	}
	slices.SortStableFunc(list.Flows, func(x, y FlowView) int {
		var c int
		switch order {
		case SortTraffic:
			c = cmp.Compare(y.Events, x.Events)
		case SortErrors:
			c = cmp.Compare(errorCount(y), errorCount(x))
			if c == 0 {
				c = cmp.Compare(errorRatio(y), errorRatio(x))
			}
		case SortLatency:
			c = cmp.Compare(y.P99, x.P99)
		}
		return cmp.Or(c, strings.Compare(x.Flow, y.Flow))
	})
	return list, nil
}

// errorCount orders flows without a counted window after those with none.
func errorCount(v FlowView) float64 {
	if v.Errors == nil {
		return -1
	}
	return float64(*v.Errors)
}

func errorRatio(v FlowView) float64 {
	if v.ErrorRatio == nil {
		return -1
	}
	return *v.ErrorRatio
}

// daemonStatus is the daemon's own state at now.
func (a *App) daemonStatus(version string, now time.Time) DaemonStatus {
	if version == "" {
		version = buildVersion()
	}
	st := a.Engine().Stats()
	s := DaemonStatus{
		Version: version, GoVersion: runtime.Version(), StartedAt: a.started, Ready: a.ready.Load(), Storage: a.storageState(),
		EvaluationIntervalSeconds: a.cfg.EvaluationInterval.Seconds(),
		Counts: StatusCounts{Flows: st.Flows, Events: st.Events, EventsTooLate: st.TooLate,
			EventsUnknown: a.counters.unknownFlow.Load(), EventsRefused: a.counters.refused.Load()},
	}
	if !a.started.IsZero() {
		s.UptimeSeconds = now.Sub(a.started).Seconds()
	}
	if err, at := a.SpecError(); err != nil {
		s.SpecError = &SpecErrorView{Error: err.Error(), At: at}
	}
	a.ReadStatuses(func(at time.Time, statuses []slo.Status) {
		if !at.IsZero() {
			s.EvaluatedAt = &at
		}
		s.Counts.SLOs = len(statuses)
		for i := range statuses {
			if firingStatus(&statuses[i]) {
				s.Counts.SLOsFiring++
			}
		}
	})
	if s.Counts.SLOs == 0 {
		s.Counts.SLOs = len(a.Engine().Specs())
	}
	for _, al := range a.alertViews(now) {
		if al.State == "suppressed" {
			s.Counts.AlertsSuppressed++
		} else {
			s.Counts.AlertsFiring++
		}
	}
	if a.alerts != nil {
		for _, sl := range a.alerts.silences.List(now) {
			if sl.State(now) == silence.StateActive {
				s.Counts.Silences++
			}
		}
	}
	return s
}

func firingStatus(st *slo.Status) bool {
	for _, t := range st.Tiers {
		if t.Firing {
			return true
		}
	}
	for _, c := range st.Conditions {
		if c.Firing {
			return true
		}
	}
	return false
}

// buildVersion is the main module's version as the Go toolchain stamped
// it, for a handler whose host did not say.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}

// finiteJSON keeps JSON encodable: ±Inf become the largest floats, NaN 0.
func finiteJSON(f float64) float64 {
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
