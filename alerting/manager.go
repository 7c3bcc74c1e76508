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
	// keep_firing_for, so a burn rate hovering at the factor does not flap.
	// 0 resolves at once.
	KeepFiringFor time.Duration
}

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
}

// NewManager returns a Manager with no firing alerts.
func NewManager(opts Options) *Manager {
	return &Manager{opts: opts, alerts: make(map[alertKey]*AlertState)}
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
			if m.alerts[k] != nil && ts.Short.Total == 0 {
				// No events in the short window is no evidence of recovery
				// (a restart, a paused sender): a firing alert holds until
				// events show the burn has stopped. Silence is the no-data
				// alert's business.
				firing = true
			}
			out = m.step(now, k, firing, newAlert(now, st, ts), out)
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
			out = m.step(now, k, cs.Firing, newConditionAlert(now, st, cs), out)
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
		out = append(out, m.transition(now, a))
	}
	return out
}

// step moves the alert k, freshly built as a from this evaluation, through
// its lifecycle and appends the transition it causes, if any, to out. The
// caller holds m.mu.
func (m *Manager) step(now time.Time, k alertKey, firing bool, a Alert, out []Transition) []Transition {
	cur := m.alerts[k]
	if cur == nil {
		if !firing {
			return out
		}
		a.State = StateFiring
		a.StartsAt = now
		m.alerts[k] = &AlertState{Alert: a}
		return append(out, m.transition(now, a))
	}
	a.StartsAt = cur.Alert.StartsAt
	if firing {
		cur.KeepFiringSince = time.Time{}
	} else if cur.KeepFiringSince.IsZero() {
		cur.KeepFiringSince = now
	}
	if !firing && now.Sub(cur.KeepFiringSince) >= m.opts.KeepFiringFor {
		a.State = StateResolved
		a.EndsAt = now
		delete(m.alerts, k)
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
