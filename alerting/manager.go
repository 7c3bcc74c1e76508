package alerting

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// Transition is one alert changing state: it starts firing, or it
// resolves. The history records each; routing turns them into
// notifications.
type Transition struct {
	// ID is unique per transition (fingerprint, state and time).
	ID    string `json:"id"`
	Alert Alert  `json:"alert"`
	// At is when the Manager saw it.
	At time.Time `json:"at"`
}

// Options configure a Manager. Zero values are used as given; start from
// DefaultOptions.
type Options struct {
	// KeepFiringFor keeps an alert firing this long after the first
	// evaluation at which its condition no longer held, like Prometheus'
	// keep_firing_for. A burn tier holds for the longer of this and its own
	// Hold (its short window by default). 0 resolves conditions at once.
	KeepFiringFor time.Duration
	// FlapWindow: an alert that fires again within it after resolving has
	// flapped (counted per alert; default DefaultFlapWindow).
	FlapWindow time.Duration
}

// DefaultFlapWindow is the FlapWindow of a zero Options.
const DefaultFlapWindow = time.Hour

// DefaultRepeatInterval is Alertmanager's default repeat_interval.
const DefaultRepeatInterval = 4 * time.Hour

// DefaultOptions resolves at once.
func DefaultOptions() Options { return Options{} }

// AlertState is the Manager's state of one alert, exported so that a
// checkpoint can store it as JSON and Restore can bring it back.
type AlertState struct {
	Alert Alert `json:"alert"`
	// KeepFiringSince is the first evaluation at which the tier's condition
	// no longer held, zero while it holds; KeepFiringFor counts from here,
	// as in Prometheus.
	KeepFiringSince time.Time `json:"keep_firing_since,omitzero"`
}

// FlapState is what the Manager remembers of an alert between its
// episodes, to count flaps across restarts.
type FlapState struct {
	SLO        string    `json:"slo"`
	Tier       string    `json:"tier"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	Flaps      int       `json:"flaps"`
}

type alertKey struct{ slo, tier string }

// Manager follows the alert of every (SLO, tier) across evaluations, where a
// tier is a burn-rate tier or another alert condition of the SLO. It is safe
// for concurrent use.
type Manager struct {
	opts Options

	// mu guards alerts, which holds firing alerts only: an alert is deleted
	// when it resolves, so the map is bounded by the configured tiers and
	// conditions.
	mu     sync.Mutex
	alerts map[alertKey]*AlertState
	// flaps holds, per alert that has resolved, when it last did and how
	// often it has flapped; bounded like alerts by the configured tiers,
	// and pruned of alerts resolved longer than FlapWindow ago that never
	// flapped.
	flaps map[alertKey]*FlapState
}

// NewManager returns a Manager with no firing alerts.
func NewManager(opts Options) *Manager {
	if opts.FlapWindow == 0 {
		opts.FlapWindow = DefaultFlapWindow
	}
	return &Manager{opts: opts, alerts: make(map[alertKey]*AlertState), flaps: make(map[alertKey]*FlapState)}
}

// Update applies one evaluation and returns the transitions it causes, in
// the order of statuses and, within one, of its tiers and then its
// conditions; then resolutions of alerts whose SLO, tier or condition is
// gone (sorted by SLO and tier).
//
// Each tier and each condition (budget consumed, exhaustion, no data) is an
// alert of its own, keyed (SLO, name), with one lifecycle: it starts firing
// when its condition holds, and resolves once it has not held for
// KeepFiringFor. (Repeats are the route's business: package route.) Names are unique per SLO across tiers and
// conditions (package specs checks); should a condition share a tier's
// name, the tier wins and the condition is ignored.
//
// statuses must hold every SLO being evaluated: an SLO, tier or condition
// missing from them (removed by a config reload) resolves its alert at once,
// without waiting for KeepFiringFor.
func (m *Manager) Update(now time.Time, statuses []slo.Status) []Transition {
	m.mu.Lock()
	defer m.mu.Unlock()

	var out []Transition
	seen := make(map[alertKey]bool, len(m.alerts))
	for i := range statuses {
		st := &statuses[i]
		if st.SLO == nil {
			continue
		}
		for j := range st.Tiers {
			ts := &st.Tiers[j]
			k := alertKey{st.SLO.Name, ts.Tier.Name}
			if seen[k] {
				continue
			}
			seen[k] = true
			if m.alerts[k] == nil && !ts.Firing {
				continue
			}
			firing := ts.Firing
			if m.alerts[k] != nil {
				// Hysteresis: a firing tier holds while both windows burn
				// above its resolve factor, not only above its factor.
				rf := ts.Tier.ResolveFactor
				if rf <= 0 {
					rf = ts.Tier.Factor
				}
				firing = ts.Long.Burn > rf && ts.Short.Burn > rf
				if ts.Short.Total == 0 {
					// No events in the short window is no evidence either
					// way (a restart, a paused sender, sparse traffic): the
					// alert stays as it was. A firing one keeps firing; one
					// whose hold began keeps counting it down, so the good
					// events that began it still resolve it once they leave
					// the short window. Silence is the no-data alert's
					// business.
					firing = m.alerts[k].KeepFiringSince.IsZero()
				}
			}
			out = m.step(now, k, firing, max(ts.Tier.Hold, m.opts.KeepFiringFor), newAlert(now, st, ts), out)
		}
		for j := range st.Conditions {
			cs := &st.Conditions[j]
			k := alertKey{st.SLO.Name, cs.Name}
			if seen[k] {
				continue
			}
			seen[k] = true
			if m.alerts[k] == nil && !cs.Firing {
				continue
			}
			out = m.step(now, k, cs.Firing, m.opts.KeepFiringFor, newConditionAlert(now, st, cs), out)
		}
	}

	var gone []alertKey
	for k := range m.alerts {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	sort.Slice(gone, func(i, j int) bool {
		if gone[i].slo != gone[j].slo {
			return gone[i].slo < gone[j].slo
		}
		return gone[i].tier < gone[j].tier
	})
	for _, k := range gone {
		// LastEvaluated stays at the last real evaluation: there is none now.
		a := m.alerts[k].Alert
		a.State = StateResolved
		a.EndsAt = now
		delete(m.alerts, k)
		m.resolved(now, k)
		out = append(out, m.transition(now, a))
	}
	for k, f := range m.flaps {
		if m.alerts[k] == nil && f.Flaps == 0 && now.Sub(f.ResolvedAt) > m.opts.FlapWindow {
			delete(m.flaps, k)
		}
	}
	return out
}

// resolved remembers when k resolved, for flap counting. The caller holds
// m.mu.
func (m *Manager) resolved(now time.Time, k alertKey) {
	f := m.flaps[k]
	if f == nil {
		f = &FlapState{SLO: k.slo, Tier: k.tier}
		m.flaps[k] = f
	}
	f.ResolvedAt = now
}

// step moves the alert k, freshly built as a from this evaluation, through
// its lifecycle and appends the transition it causes, if any, to out: it
// resolves once its condition has not held for hold. The caller holds m.mu.
func (m *Manager) step(now time.Time, k alertKey, firing bool, hold time.Duration, a Alert, out []Transition) []Transition {
	cur := m.alerts[k]
	if cur == nil {
		if !firing {
			return out
		}
		a.State = StateFiring
		a.StartsAt = now
		if f := m.flaps[k]; f != nil {
			if !f.ResolvedAt.IsZero() && now.Sub(f.ResolvedAt) <= m.opts.FlapWindow {
				f.Flaps++
			}
			a.Flaps = f.Flaps
		}
		m.alerts[k] = &AlertState{Alert: a}
		return append(out, m.transition(now, a))
	}
	a.Flaps = cur.Alert.Flaps
	a.StartsAt = cur.Alert.StartsAt
	if firing {
		cur.KeepFiringSince = time.Time{}
	} else if cur.KeepFiringSince.IsZero() {
		cur.KeepFiringSince = now
	}
	if !firing && now.Sub(cur.KeepFiringSince) >= hold {
		a.State = StateResolved
		a.EndsAt = now
		delete(m.alerts, k)
		m.resolved(now, k)
		return append(out, m.transition(now, a))
	}
	a.State = StateFiring
	cur.Alert = a
	return out
}

func (m *Manager) transition(now time.Time, a Alert) Transition {
	return Transition{
		ID:    a.Fingerprint + "-" + string(a.State) + "-" + strconv.FormatInt(now.UnixNano(), 10),
		Alert: a.Clone(),
		At:    now,
	}
}

// Firing returns the firing alerts sorted by SLO and tier.
func (m *Manager) Firing() []Alert {
	states := m.Snapshot()
	out := make([]Alert, len(states))
	for i, s := range states {
		out[i] = s.Alert
	}
	return out
}

// Snapshot returns the state of every firing alert, sorted by SLO and tier,
// for a checkpoint. It shares nothing with the Manager.
func (m *Manager) Snapshot() []AlertState {
	m.mu.Lock()
	out := make([]AlertState, 0, len(m.alerts))
	for _, s := range m.alerts {
		c := *s
		c.Alert = s.Alert.Clone()
		out = append(out, c)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Alert.SLO != out[j].Alert.SLO {
			return out[i].Alert.SLO < out[j].Alert.SLO
		}
		return out[i].Alert.Tier < out[j].Alert.Tier
	})
	return out
}

// FlapStates returns what the Manager remembers of resolved alerts, for a
// checkpoint, sorted by SLO and tier.
func (m *Manager) FlapStates() []FlapState {
	m.mu.Lock()
	out := make([]FlapState, 0, len(m.flaps))
	for _, f := range m.flaps {
		out = append(out, *f)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].SLO != out[j].SLO {
			return out[i].SLO < out[j].SLO
		}
		return out[i].Tier < out[j].Tier
	})
	return out
}

// RestoreFlaps replaces what the Manager remembers of resolved alerts.
func (m *Manager) RestoreFlaps(states []FlapState) {
	flaps := make(map[alertKey]*FlapState, len(states))
	for _, f := range states {
		c := f
		flaps[alertKey{f.SLO, f.Tier}] = &c
	}
	m.mu.Lock()
	m.flaps = flaps
	m.mu.Unlock()
}

// Restore replaces the Manager's state with a Snapshot taken before a
// restart. Restored alerts stay firing without a new transition; the next
// Update resolves those whose condition no longer holds. Entries that are not firing or lack an SLO or tier name are
// skipped and reported in the error; the others are restored.
func (m *Manager) Restore(states []AlertState) error {
	alerts := make(map[alertKey]*AlertState, len(states))
	var errs []error
	for i, s := range states {
		switch {
		case s.Alert.SLO == "" || s.Alert.Tier == "":
			errs = append(errs, fmt.Errorf("alert state %d: slo or tier name is empty", i))
			continue
		case s.Alert.State != StateFiring:
			errs = append(errs, fmt.Errorf("alert state %d (%s/%s): state %q is not %q", i, s.Alert.SLO, s.Alert.Tier, s.Alert.State, StateFiring))
			continue
		}
		c := s
		c.Alert = s.Alert.Clone()
		// The fingerprint is a function of the names; recompute it rather
		// than trust a checkpoint written by another version.
		c.Alert.Fingerprint = Fingerprint(c.Alert.SLO, c.Alert.Tier)
		if c.Alert.Kind == "" {
			// Written before alerts had kinds, when all were burn alerts.
			c.Alert.Kind = KindBurn
		}
		c.Alert.EndsAt = time.Time{}
		alerts[alertKey{c.Alert.SLO, c.Alert.Tier}] = &c
	}
	m.mu.Lock()
	m.alerts = alerts
	m.mu.Unlock()
	if len(errs) > 0 {
		return fmt.Errorf("restore alerts: %w", errors.Join(errs...))
	}
	return nil
}
