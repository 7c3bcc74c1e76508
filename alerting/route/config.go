package route

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// Config is one node of the routing tree, Alertmanager's route: which
// alerts it takes (Matchers), where they go (Receiver) and how they are
// grouped and timed. A child inherits from its parent what it leaves unset
// (receiver, group_by, the three intervals).
type Config struct {
	// Receiver names the receiver of the alerts that end at this route.
	Receiver string `mapstructure:"receiver"`
	// Matchers select the alerts a child route takes, all of them holding:
	// name="value", name!="value", name=~"regex", name!~"regex". The root
	// takes every alert.
	Matchers []string `mapstructure:"matchers"`
	// Continue lets an alert that this route took go on to its next
	// siblings too.
	Continue bool `mapstructure:"continue"`
	// GroupBy names the labels whose values form a group; "..." groups by
	// every label (each alert alone). Empty puts every alert of the route in
	// one group.
	GroupBy []string `mapstructure:"group_by"`
	// GroupWait is how long a new group waits for more alerts before its
	// first notification; GroupInterval how long after a notification the
	// next change is sent; RepeatInterval how long after a notification an
	// unchanged, still firing group is sent again. Unset inherits; the
	// root's defaults are 0s, 0s and 4h: a change is sent at the evaluation
	// that sees it.
	GroupWait      *time.Duration `mapstructure:"group_wait"`
	GroupInterval  *time.Duration `mapstructure:"group_interval"`
	RepeatInterval *time.Duration `mapstructure:"repeat_interval"`
	// MuteTimeIntervals name time intervals during which this route sends
	// nothing; ActiveTimeIntervals, when set, the only ones during which it
	// sends. Alerts wait in their groups meanwhile.
	MuteTimeIntervals   []string `mapstructure:"mute_time_intervals"`
	ActiveTimeIntervals []string `mapstructure:"active_time_intervals"`
	// Routes are the children, tried in order.
	Routes []Config `mapstructure:"routes"`
}

// Defaults of the root route.
const (
	DefaultGroupWait      = 0
	DefaultGroupInterval  = 0
	DefaultRepeatInterval = 4 * time.Hour
)

// GroupByAll is the group_by value that groups by every label.
const GroupByAll = "..."

// node is a compiled route.
type node struct {
	key      string // Alertmanager's route key: {}/{matchers}/...
	index    string // position in the tree, unique: 0/1/0
	matchers alerting.Matchers
	receiver string
	groupBy  []string
	byAll    bool
	cont     bool

	groupWait, groupInterval, repeatInterval time.Duration
	mute, active                             []string
	children                                 []*node
}

// compile checks cfg (and its children) and builds the tree; receivers are
// the names a route may use, intervals the time interval names. Errors name
// the route by its path in the config ("route.routes[1].receiver").
func compile(cfg Config, receivers, intervals []string) (*node, error) {
	root := &node{key: "{}", index: "0", groupWait: DefaultGroupWait, groupInterval: DefaultGroupInterval, repeatInterval: DefaultRepeatInterval}
	var errs []error
	if len(cfg.Matchers) > 0 {
		errs = append(errs, errors.New("route.matchers: the root route takes every alert; put matchers on its routes"))
	}
	if cfg.Receiver == "" {
		errs = append(errs, errors.New("route.receiver: required on the root route (children inherit it)"))
	}
	errs = append(errs, fill(root, cfg, "route", receivers, intervals)...)
	return root, errors.Join(errs...)
}

func fill(n *node, cfg Config, path string, receivers, intervals []string) []error {
	var errs []error
	if cfg.Receiver != "" {
		if !slices.Contains(receivers, cfg.Receiver) {
			errs = append(errs, fmt.Errorf("%s.receiver: %q is not a receiver (receivers: %v)", path, cfg.Receiver, receivers))
		}
		n.receiver = cfg.Receiver
	}
	if cfg.GroupBy != nil {
		n.groupBy, n.byAll = nil, false
		for _, l := range cfg.GroupBy {
			if l == GroupByAll {
				n.byAll = true
				continue
			}
			n.groupBy = append(n.groupBy, l)
		}
		slices.Sort(n.groupBy)
		n.groupBy = slices.Compact(n.groupBy)
		if n.byAll && len(n.groupBy) > 0 {
			errs = append(errs, fmt.Errorf("%s.group_by: \"...\" groups by every label; list no others beside it", path))
		}
	}
	for _, d := range []struct {
		key string
		v   *time.Duration
		dst *time.Duration
	}{{"group_wait", cfg.GroupWait, &n.groupWait}, {"group_interval", cfg.GroupInterval, &n.groupInterval}, {"repeat_interval", cfg.RepeatInterval, &n.repeatInterval}} {
		if d.v == nil {
			continue
		}
		if *d.v < 0 {
			errs = append(errs, fmt.Errorf("%s.%s: %v must not be negative", path, d.key, *d.v))
		}
		*d.dst = *d.v
	}
	ms, err := alerting.ParseMatchers(cfg.Matchers)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s.matchers%w", path, err))
	}
	n.matchers = ms
	n.cont = cfg.Continue
	for _, list := range []struct {
		key   string
		names []string
		dst   *[]string
	}{{"mute_time_intervals", cfg.MuteTimeIntervals, &n.mute}, {"active_time_intervals", cfg.ActiveTimeIntervals, &n.active}} {
		for i, name := range list.names {
			if !slices.Contains(intervals, name) {
				errs = append(errs, fmt.Errorf("%s.%s[%d]: %q is not a time interval (time_intervals: %v)", path, list.key, i, name, intervals))
			}
		}
		*list.dst = list.names
	}
	for i, c := range cfg.Routes {
		child := &node{
			key:      n.key + "/" + matchersKey(nil),
			index:    fmt.Sprintf("%s/%d", n.index, i),
			receiver: n.receiver, groupBy: n.groupBy, byAll: n.byAll,
			groupWait: n.groupWait, groupInterval: n.groupInterval, repeatInterval: n.repeatInterval,
		}
		errs = append(errs, fill(child, c, fmt.Sprintf("%s.routes[%d]", path, i), receivers, intervals)...)
		child.key = n.key + "/" + matchersKey(child.matchers)
		n.children = append(n.children, child)
	}
	return errs
}

// matchersKey writes matchers as Alertmanager's route keys do: {a="b",c=~"d"}.
func matchersKey(ms alerting.Matchers) string {
	s := "{"
	for i, m := range ms {
		if i > 0 {
			s += ","
		}
		s += m.String()
	}
	return s + "}"
}

// match returns the routes an alert with labels ends at, in tree order: a
// route's matching children (the first, or more while they say continue),
// or the route itself when none matches.
func (n *node) match(labels map[string]string) []*node {
	if !n.matchers.Matches(labels) {
		return nil
	}
	var out []*node
	for _, c := range n.children {
		m := c.match(labels)
		out = append(out, m...)
		if len(m) > 0 && !c.cont {
			break
		}
	}
	if len(out) == 0 {
		out = append(out, n)
	}
	return out
}

// groupLabels returns the labels that name an alert's group on this route.
func (n *node) groupLabels(labels map[string]string) map[string]string {
	if n.byAll {
		out := make(map[string]string, len(labels))
		for k, v := range labels {
			out[k] = v
		}
		return out
	}
	out := make(map[string]string, len(n.groupBy))
	for _, l := range n.groupBy {
		if v, ok := labels[l]; ok {
			out[l] = v
		}
	}
	return out
}
