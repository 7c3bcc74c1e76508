package app

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// The budget history behind the status page's burn-down charts: per SLO a
// ring of samples of the budget left and each tier's long-window burn rate,
// one per 1/budgetSteps of the period (every 2.5h for 30 d, 25s for 2 h),
// kept in memory.

const (
	// budgetSteps is how many samples span a period.
	budgetSteps = 288
	// budgetSamples bounds a ring: a period and a few samples more.
	budgetSamples = 300
)

// BudgetSample is one point of an SLO's budget history.
type BudgetSample struct {
	At         time.Time `json:"t"`
	BudgetLeft float64   `json:"budget_left"`
	// Burn is the burn rate of each tier's long window, in the order of
	// BudgetSeries.Tiers.
	Burn []float64 `json:"burn"`
}

// BudgetSeries is one SLO's budget history, oldest first.
type BudgetSeries struct {
	SLO string `json:"slo"`
	// StepSeconds is the time between samples: the period over 288.
	StepSeconds float64 `json:"step_seconds"`
	// Tiers name the tiers whose burn rates the samples hold, and
	// Windows their long windows ("1h").
	Tiers   []string       `json:"tiers"`
	Windows []string       `json:"windows"`
	Samples []BudgetSample `json:"samples"`
}

// budgetHistory holds the rings of every SLO. The evaluation goroutine
// records; API readers read; mu guards rings.
type budgetHistory struct {
	mu    sync.Mutex
	rings map[string]*budgetRing
}

// budgetRing is one SLO's samples: a ring of at most budgetSamples, next
// the index of the oldest once full.
type budgetRing struct {
	step    time.Duration
	tiers   []string
	windows []string
	samples []BudgetSample
	next    int
}

// record samples the SLOs of an evaluation whose step has begun since
// their last sample. A ring whose tiers changed (a spec reload) starts
// afresh; the rings of SLOs no longer evaluated are dropped.
func (h *budgetHistory) record(now time.Time, statuses []slo.Status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rings == nil {
		h.rings = make(map[string]*budgetRing, len(statuses))
	}
	seen := make(map[string]struct{}, len(statuses))
	for i := range statuses {
		st := &statuses[i]
		name := st.SLO.Name
		seen[name] = struct{}{}
		tiers, windows := make([]string, len(st.Tiers)), make([]string, len(st.Tiers))
		for j, t := range st.Tiers {
			tiers[j], windows[j] = t.Tier.Name, slo.FormatDuration(t.Tier.Long)
		}
		step := max(st.PeriodLength/budgetSteps, time.Millisecond)
		r := h.rings[name]
		if r == nil || !slices.Equal(r.tiers, tiers) || !slices.Equal(r.windows, windows) {
			r = &budgetRing{tiers: tiers, windows: windows}
			h.rings[name] = r
		}
		r.step = step
		if last, ok := r.last(); ok && now.UnixNano()/int64(step) <= last.At.UnixNano()/int64(step) {
			continue // this step is sampled
		}
		s := BudgetSample{At: now, BudgetLeft: finiteJSON(st.BudgetLeft), Burn: make([]float64, len(st.Tiers))}
		for j, t := range st.Tiers {
			s.Burn[j] = finiteJSON(t.Long.Burn)
		}
		r.add(s)
	}
	for name := range h.rings {
		if _, ok := seen[name]; !ok {
			delete(h.rings, name)
		}
	}
}

func (r *budgetRing) add(s BudgetSample) {
	if len(r.samples) < budgetSamples {
		r.samples = append(r.samples, s)
		return
	}
	r.samples[r.next] = s
	r.next = (r.next + 1) % budgetSamples
}

func (r *budgetRing) last() (BudgetSample, bool) {
	if len(r.samples) == 0 {
		return BudgetSample{}, false
	}
	return r.samples[(r.next+len(r.samples)-1)%len(r.samples)], true
}

// series is the history of one SLO, empty for one without.
func (h *budgetHistory) series(name string) BudgetSeries {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rings[name]
	if r == nil {
		return BudgetSeries{SLO: name, Tiers: []string{}, Windows: []string{}, Samples: []BudgetSample{}}
	}
	return r.series(name)
}

func (r *budgetRing) series(name string) BudgetSeries {
	s := BudgetSeries{SLO: name, StepSeconds: r.step.Seconds(), Tiers: slices.Clone(r.tiers), Windows: slices.Clone(r.windows),
		Samples: make([]BudgetSample, 0, len(r.samples))}
	s.Samples = append(s.Samples, r.samples[r.next:]...)
	s.Samples = append(s.Samples, r.samples[:r.next]...)
	for i := range s.Samples {
		s.Samples[i].Burn = slices.Clone(s.Samples[i].Burn)
	}
	return s
}

// Snapshot is every SLO's history, sorted by SLO, sharing nothing with h:
// for a checkpoint.
func (h *budgetHistory) Snapshot() []BudgetSeries {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]BudgetSeries, 0, len(h.rings))
	for name, r := range h.rings {
		out = append(out, r.series(name))
	}
	slices.SortFunc(out, func(a, b BudgetSeries) int { return strings.Compare(a.SLO, b.SLO) })
	return out
}

// Restore replaces the history with a snapshot's, keeping the newest
// budgetSamples of each series. SLOs the specs no longer have are dropped
// at the next record, and series whose tiers changed start afresh then.
func (h *budgetHistory) Restore(series []BudgetSeries) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rings = make(map[string]*budgetRing, len(series))
	for _, s := range series {
		samples := s.Samples
		if len(samples) > budgetSamples {
			samples = samples[len(samples)-budgetSamples:]
		}
		r := &budgetRing{step: time.Duration(s.StepSeconds * float64(time.Second)), tiers: slices.Clone(s.Tiers),
			windows: slices.Clone(s.Windows), samples: make([]BudgetSample, 0, len(samples))}
		for _, x := range samples {
			if len(x.Burn) == len(r.tiers) {
				r.samples = append(r.samples, BudgetSample{At: x.At, BudgetLeft: x.BudgetLeft, Burn: slices.Clone(x.Burn)})
			}
		}
		h.rings[s.SLO] = r
	}
}

// budgets is the App's budget history.
func (a *App) budgets() *budgetHistory { return &a.budgetLog }

// recordBudgets samples the budget history after an evaluation; the
// evaluation goroutine calls it with the statuses it just made.
func (a *App) recordBudgets(now time.Time, statuses []slo.Status) {
	a.budgets().record(now, statuses)
}
