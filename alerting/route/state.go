package route

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// GroupState is one group as a checkpoint keeps it.
type GroupState struct {
	// Route is the route's position in the tree (0/1/0) and Key the group
	// key; a group whose route moved or changed is dropped on Restore and
	// its alerts start a new group.
	Route    string            `json:"route"`
	Key      string            `json:"key"`
	Labels   map[string]string `json:"labels,omitempty"`
	Alerts   []alerting.Alert  `json:"alerts"`
	Next     time.Time         `json:"next"`
	Sent     []string          `json:"sent,omitempty"`
	SentAt   time.Time         `json:"sent_at,omitzero"`
	Notified bool              `json:"notified,omitempty"`
}

// Snapshot returns every group's state, sorted, sharing nothing with r.
func (r *Router) Snapshot() []GroupState {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]GroupState, 0, len(r.groups))
	for _, g := range r.groups {
		s := GroupState{Route: g.route.index, Key: g.key, Labels: maps.Clone(g.labels), Next: g.next,
			Sent: slices.Sorted(maps.Keys(g.sent)), SentAt: g.sentAt, Notified: g.notified}
		for _, a := range g.alerts {
			s.Alerts = append(s.Alerts, a.Clone())
		}
		sortAlerts(s.Alerts)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Route != out[j].Route {
			return out[i].Route < out[j].Route
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// Restore replaces the groups with a Snapshot taken before a restart, so
// a group notified before it is not notified again (nor its repeat moved)
// and resolutions still due are sent. It returns how many groups it dropped
// because their route is gone or changed.
func (r *Router) Restore(states []GroupState) (dropped int) {
	byIndex := map[string]*node{}
	var walk func(n *node)
	walk = func(n *node) {
		byIndex[n.index] = n
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(r.root)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.groups = map[string]*group{}
	for _, s := range states {
		n := byIndex[s.Route]
		if n == nil || !strings.HasPrefix(s.Key, n.key+":") {
			dropped++
			continue
		}
		g := &group{route: n, key: s.Key, labels: maps.Clone(s.Labels), alerts: map[string]alerting.Alert{},
			next: s.Next, sent: map[string]bool{}, sentAt: s.SentAt, notified: s.Notified}
		if g.labels == nil {
			g.labels = map[string]string{}
		}
		for _, a := range s.Alerts {
			g.alerts[a.Fingerprint] = a.Clone()
		}
		for _, fp := range s.Sent {
			g.sent[fp] = true
		}
		r.groups[n.index+"\x00"+s.Key] = g
	}
	return dropped
}
