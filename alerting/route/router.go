package route

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// Receiver is what the router needs to know of a receiver.
type Receiver struct {
	Name string
	// SendResolved sends a notification when alerts it was told of resolve.
	SendResolved bool
}

// Options configure a Router.
type Options struct {
	Route     Config
	Receivers []Receiver
	// Inhibit rules mute alerts while others fire.
	Inhibit []InhibitRule
	// Intervals are the named time intervals routes may mute or activate
	// on.
	Intervals map[string]TimeInterval
	// Silences, when set, mutes the alerts it silences.
	Silences Silencer
}

// Silencer says whether an alert is silenced at a time; package silence
// keeps them.
type Silencer interface {
	Silenced(labels map[string]string, now time.Time) bool
}

// Router sorts alerts into the groups of the routing tree and says when each
// group is due a notification, Alertmanager's way: a new group waits
// group_wait for more alerts; after a notification, a change waits for
// group_interval; an unchanged group that still fires is repeated after
// repeat_interval. A notification carries the group's firing alerts and
// those it reported firing that have since resolved, so a receiver that
// follows its status closes the incident only when the whole group is
// resolved. Inhibited, silenced and time-muted alerts are held back. It is
// safe for concurrent use.
type Router struct {
	root      *node
	receivers map[string]Receiver
	inhibit   []inhibitor
	intervals map[string]TimeInterval
	silences  Silencer

	// mu guards groups and seq. Groups are created by alerts and deleted
	// once they hold none, so there are at most as many as firing alerts
	// times the routes each reaches.
	mu     sync.Mutex
	groups map[string]*group
	seq    uint64
}

// group is one aggregation group: a route and the values of its group_by
// labels.
type group struct {
	route  *node
	key    string
	labels map[string]string
	// alerts are the group's alerts by fingerprint: firing (as of the last
	// update) or resolved and not yet flushed.
	alerts map[string]alerting.Alert
	// next is when the group may next be flushed.
	next time.Time
	// sent is the fingerprints of the firing alerts of the last
	// notification; at its time. notified says there was one.
	sent     map[string]bool
	sentAt   time.Time
	notified bool
}

// New checks opts and builds a Router. Errors name the config key.
func New(opts Options) (*Router, error) {
	names := make([]string, 0, len(opts.Receivers))
	r := &Router{receivers: map[string]Receiver{}, intervals: opts.Intervals, silences: opts.Silences, groups: map[string]*group{}}
	var errs []error
	for _, rc := range opts.Receivers {
		if _, dup := r.receivers[rc.Name]; dup {
			errs = append(errs, fmt.Errorf("receivers: %q is used twice", rc.Name))
		}
		r.receivers[rc.Name] = rc
		names = append(names, rc.Name)
	}
	root, err := compile(opts.Route, names, slices.Sorted(maps.Keys(opts.Intervals)))
	errs = append(errs, err)
	r.root = root
	for i, rule := range opts.Inhibit {
		in, err := rule.compile()
		if err != nil {
			errs = append(errs, fmt.Errorf("inhibit_rules[%d].%w", i, err))
			continue
		}
		r.inhibit = append(r.inhibit, in)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// Update takes an evaluation's alerts at now: every firing alert, with
// fresh numbers, and those that resolved at this evaluation. An alert a
// group held as firing that is in neither list resolves at now. It returns
// the notifications due at now, sorted by receiver and group key.
func (r *Router) Update(now time.Time, firing, resolved []alerting.Alert) []alerting.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[*group]map[string]bool{}
	place := func(a alerting.Alert) {
		for _, n := range r.root.match(a.Labels) {
			g := r.group(now, n, a.Labels)
			g.alerts[a.Fingerprint] = a
			if seen[g] == nil {
				seen[g] = map[string]bool{}
			}
			seen[g][a.Fingerprint] = true
		}
	}
	for _, a := range firing {
		place(a)
	}
	for _, a := range resolved {
		place(a)
	}
	for _, g := range r.groups {
		for fp, a := range g.alerts {
			if a.State == alerting.StateFiring && !seen[g][fp] {
				// Gone from this group without a resolution: its labels
				// changed or its SLO was removed.
				a.State, a.EndsAt = alerting.StateResolved, now
				g.alerts[fp] = a
			}
		}
	}
	var out []alerting.Notification
	for key, g := range r.groups {
		if now.Before(g.next) {
			continue
		}
		if n, ok := r.flush(now, g, firing); ok {
			out = append(out, n)
		}
		if len(g.alerts) == 0 {
			delete(r.groups, key)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Receiver != out[j].Receiver {
			return out[i].Receiver < out[j].Receiver
		}
		return out[i].GroupKey < out[j].GroupKey
	})
	return out
}

// group returns the group of route n for an alert with labels, making it.
// The caller holds r.mu.
func (r *Router) group(now time.Time, n *node, labels map[string]string) *group {
	gl := n.groupLabels(labels)
	key := n.key + ":" + strings.TrimPrefix(alerting.GroupKey(gl), "{}:")
	id := n.index + "\x00" + key
	g := r.groups[id]
	if g == nil {
		g = &group{route: n, key: key, labels: gl, alerts: map[string]alerting.Alert{}, next: now.Add(n.groupWait), sent: map[string]bool{}}
		r.groups[id] = g
	}
	return g
}

// flush decides whether g is due a notification at now and builds it.
// Resolved alerts leave the group either way; the caller holds r.mu.
func (r *Router) flush(now time.Time, g *group, firingNow []alerting.Alert) (alerting.Notification, bool) {
	rc := r.receivers[g.route.receiver]
	if r.timeMuted(g.route, now) {
		return alerting.Notification{}, false
	}
	g.next = now.Add(g.route.groupInterval)
	var firing, resolved []alerting.Alert
	for _, a := range g.alerts {
		switch {
		case a.State == alerting.StateFiring:
			if !r.muted(a, firingNow, now) {
				firing = append(firing, a)
			}
		case g.sent[a.Fingerprint]:
			// Resolved, and the receiver was told it fired.
			resolved = append(resolved, a)
		}
	}
	for fp, a := range g.alerts {
		if a.State == alerting.StateResolved {
			delete(g.alerts, fp)
		}
	}
	if !r.needsUpdate(g, rc, firing, resolved, now) {
		return alerting.Notification{}, false
	}
	alerts := append(firing, resolved...)
	if !rc.SendResolved {
		alerts = firing
	}
	sortAlerts(alerts)
	g.notified, g.sentAt = true, now
	g.sent = make(map[string]bool, len(firing))
	for _, a := range firing {
		g.sent[a.Fingerprint] = true
	}
	r.seq++
	n := alerting.Notification{
		ID:       fmt.Sprintf("%s-%d-%d", keyHash(rc.Name+"\x00"+g.key), now.UnixNano(), r.seq),
		Receiver: rc.Name, GroupKey: g.key, GroupLabels: maps.Clone(g.labels), At: now,
		Alerts: make([]alerting.Alert, len(alerts)),
	}
	for i, a := range alerts {
		n.Alerts[i] = a.Clone()
	}
	return n, true
}

// needsUpdate is Alertmanager's dedup: a notification goes out when an alert
// fires that the receiver was not told of, when one it was told of resolved
// (if it wants resolutions), or when a firing group is due its repeat.
func (r *Router) needsUpdate(g *group, rc Receiver, firing, resolved []alerting.Alert, now time.Time) bool {
	if !g.notified {
		return len(firing) > 0
	}
	for _, a := range firing {
		if !g.sent[a.Fingerprint] {
			return true
		}
	}
	if len(resolved) > 0 && rc.SendResolved {
		return true
	}
	if len(firing) == 0 {
		if len(resolved) > 0 {
			// Told of nothing firing any more: forget what was sent.
			g.sent = map[string]bool{}
		}
		return false
	}
	return g.route.repeatInterval > 0 && now.Sub(g.sentAt) >= g.route.repeatInterval
}

// sortAlerts orders a notification's alerts by SLO and tier.
func sortAlerts(as []alerting.Alert) {
	sort.Slice(as, func(i, j int) bool {
		if as[i].SLO != as[j].SLO {
			return as[i].SLO < as[j].SLO
		}
		return as[i].Tier < as[j].Tier
	})
}

func keyHash(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return fmt.Sprintf("%016x", h.Sum64())
}
