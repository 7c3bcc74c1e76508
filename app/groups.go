package app

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/specs"
)

// groupRegistry holds the groups of the grouped flows (a flow's group_by):
// one flow per value of its keys, as producers meet them, up to the flow's
// max_groups. Each group gets a copy of every SLO of its flow, named like
// the group (`checkout-availability{http.route="/cart"}`) and labelled with
// its values, so a team writes one SLO and is paged per route.
//
// A producer that meets a new value registers it (want grows); the next
// batch swaps in an engine with the group's SLOs, carrying every other
// SLO's state over (syncGroups), before its events are counted. The groups
// are kept across spec reloads while a flow's keys stay the same, and
// across restarts in groups.json in the storage directory, written before
// the first event of a group is counted.
type groupRegistry struct {
	path   string // "" without storage
	logger *zap.Logger

	// mu guards flows and each flowGroups' byKey and list; producers take
	// it for reading per grouped span.
	mu    sync.RWMutex
	flows map[string]*flowGroups
	// want counts registrations, have the registrations the engine holds.
	want, have atomic.Uint64
}

// flowGroups are one grouped flow's groups.
type flowGroups struct {
	flow string
	keys []string
	max  int
	// byKey finds a group by its values (see groupKey).
	byKey map[string]string
	list  []group
	// overflow counts spans of values past max, counted in the flow itself.
	overflow atomic.Uint64
}

// group is one group: its flow name and the text of each key's value (""
// where the span lacked the key). It is what groups.json holds.
type group struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// groupsFile is groups.json.
type groupsFile struct {
	Version int                    `json:"version"`
	Flows   map[string]groupsOfOne `json:"flows"`
}

type groupsOfOne struct {
	Keys   []string `json:"keys"`
	Groups []group  `json:"groups"`
}

// openGroups reads the groups a previous run registered, if storage is on.
// A damaged file is reported and the groups start again: they come back as
// spans come in.
func openGroups(dir string, logger *zap.Logger) *groupRegistry {
	r := &groupRegistry{logger: logger, flows: map[string]*flowGroups{}}
	if dir == "" {
		return r
	}
	r.path = filepath.Join(dir, "groups.json")
	b, err := os.ReadFile(r.path)
	if errors.Is(err, os.ErrNotExist) {
		return r
	}
	var f groupsFile
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil {
		logger.Error("flow groups not restored: their SLOs start again as spans come", zap.String("file", r.path), zap.Error(err))
		return r
	}
	for name, g := range f.Flows {
		fg := &flowGroups{flow: name, keys: g.Keys, byKey: map[string]string{}}
		for _, gr := range g.Groups {
			if len(gr.Values) == len(g.Keys) {
				fg.byKey[strings.Join(gr.Values, "\xff")] = gr.Name
				fg.list = append(fg.list, gr)
			}
		}
		r.flows[name] = fg
	}
	return r
}

// reconcile takes a spec set's flows: a grouped flow keeps its groups while
// its keys stay the same (up to its cap); a flow that is no longer grouped,
// or by other keys, loses them.
func (r *groupRegistry) reconcile(fs []flows.Spec) {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := map[string]*flowGroups{}
	for _, f := range fs {
		if len(f.GroupBy) == 0 {
			continue
		}
		max := f.MaxGroups
		if max == 0 {
			max = flows.DefaultMaxGroups
		}
		fg := r.flows[f.Name]
		if fg == nil || !slices.Equal(fg.keys, f.GroupBy) {
			fg = &flowGroups{flow: f.Name, keys: slices.Clone(f.GroupBy), byKey: map[string]string{}}
		}
		fg.max = max
		for len(fg.list) > max {
			last := fg.list[len(fg.list)-1]
			delete(fg.byKey, strings.Join(last.Values, "\xff"))
			fg.list = fg.list[:len(fg.list)-1]
		}
		next[f.Name] = fg
	}
	r.flows = next
}

// of returns a flow's groups, nil when it is not grouped.
func (r *groupRegistry) of(flow string) *flowGroups {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.flows[flow]
}

// groupKey is how byKey finds a group by its values: a single string value
// as it is (no allocation), otherwise the values' texts joined. present is
// false when the span has none of the keys.
func groupKey(vals []flows.Value) (key string, present bool) {
	if len(vals) == 1 && vals[0].Kind == flows.ValueStr {
		return vals[0].Str, true
	}
	texts := make([]string, len(vals))
	for i, v := range vals {
		if v.Kind != flows.ValueAbsent {
			present = true
		}
		texts[i] = v.Text()
	}
	return strings.Join(texts, "\xff"), present
}

// name returns the flow name of the group vals select in fg, registering
// it if it is new and fg has room; fg's own name when the span has none of
// the keys or fg is full.
func (r *groupRegistry) name(fg *flowGroups, vals []flows.Value) string {
	key, present := groupKey(vals)
	if !present {
		return fg.flow
	}
	r.mu.RLock()
	name, ok := fg.byKey[key]
	r.mu.RUnlock()
	if ok {
		return name
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if name, ok := fg.byKey[key]; ok {
		return name
	}
	if len(fg.list) >= fg.max {
		fg.overflow.Add(1)
		return fg.flow
	}
	gr := group{Name: flows.GroupName(fg.flow, fg.keys, vals), Values: make([]string, len(vals))}
	for i, v := range vals {
		gr.Values[i] = v.Text()
	}
	fg.byKey[strings.Clone(key)] = gr.Name
	fg.list = append(fg.list, gr)
	if err := r.saveLocked(); err != nil {
		r.logger.Error("flow groups not saved: a restart before the next group starts this one's SLOs again",
			zap.String("file", r.path), zap.Error(err))
	}
	r.want.Add(1)
	return gr.Name
}

// adopt takes the name of a group another classifier made (an agent whose
// annotations a gateway trusts) as a group of the same flow here: name
// must be exactly what GroupName writes for some values of a grouped
// flow's keys. It returns the event flow to count it in, as name does (the
// flow's own when it is full), and false for anything else.
func (r *groupRegistry) adopt(name string) (string, bool) {
	flow, rest, ok := strings.Cut(name, "{")
	if !ok {
		return "", false
	}
	fg := r.of(flow)
	if fg == nil {
		return "", false
	}
	vals := make([]flows.Value, len(fg.keys))
	for rest != "}" {
		key, after, ok := strings.Cut(rest, "=")
		i := slices.Index(fg.keys, key)
		if !ok || i < 0 {
			return "", false
		}
		q, err := strconv.QuotedPrefix(after)
		if err != nil {
			return "", false
		}
		v, _ := strconv.Unquote(q)
		vals[i] = flows.StrValue(v)
		rest = strings.TrimPrefix(after[len(q):], ",")
	}
	if flows.GroupName(flow, fg.keys, vals) != name {
		return "", false
	}
	return r.name(fg, vals), true
}

// saveLocked writes groups.json whole: to a temporary file, synced, then
// renamed over the old one. r.mu must be held.
func (r *groupRegistry) saveLocked() error {
	if r.path == "" {
		return nil
	}
	f := groupsFile{Version: 1, Flows: map[string]groupsOfOne{}}
	for name, fg := range r.flows {
		f.Flows[name] = groupsOfOne{Keys: fg.keys, Groups: fg.list}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	tmp := r.path + ".tmp"
	w, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, r.path)
	}
	if err == nil {
		var d *os.File
		if d, err = os.Open(filepath.Dir(r.path)); err == nil {
			err = d.Sync()
			d.Close()
		}
	}
	return err
}

// expand returns the engine's SLOs for set: each SLO, and a copy of it for
// every group of its flow, with the group's values as alert labels; and
// the flow names producers may send, groups included.
func (r *groupRegistry) expand(set *specs.Set) ([]slo.Spec, map[string]struct{}) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	known := make(map[string]struct{}, len(set.Flows))
	for _, f := range set.Flows {
		known[f.Name] = struct{}{}
		if fg := r.flows[f.Name]; fg != nil {
			for _, gr := range fg.list {
				known[gr.Name] = struct{}{}
			}
		}
	}
	out := make([]slo.Spec, 0, len(set.SLOs))
	for _, o := range set.SLOs {
		out = append(out, o)
		fg := r.flows[o.Flow]
		if fg == nil {
			continue
		}
		for _, gr := range fg.list {
			inst := o
			inst.Name = o.Name + strings.TrimPrefix(gr.Name, fg.flow)
			inst.Flow = gr.Name
			inst.AlertLabels = maps.Clone(o.AlertLabels)
			if inst.AlertLabels == nil {
				inst.AlertLabels = map[string]string{}
			}
			for i, k := range fg.keys {
				if l := labelName(k); gr.Values[i] != "" && inst.AlertLabels[l] == "" {
					inst.AlertLabels[l] = gr.Values[i]
				}
			}
			out = append(out, inst)
		}
	}
	return out, known
}

// labelName is a key as a Prometheus label name: http.route → http_route.
func labelName(key string) string {
	b := []byte(key)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// syncGroups swaps in an engine that has the SLOs of every group producers
// registered, before a batch that may hold their events is counted; the
// other SLOs' state is carried over as a spec reload carries it.
func (a *App) syncGroups() {
	r := a.reload.groups
	if r.have.Load() >= r.want.Load() {
		return
	}
	a.reload.mu.Lock()
	defer a.reload.mu.Unlock()
	want := r.want.Load()
	if r.have.Load() >= want {
		return
	}
	old := a.core.Load()
	next, err := newCore(a.cfg, old.specs, old.digest, r)
	if err == nil {
		_, err = a.swap(old, next)
	}
	if err != nil {
		// The groups' events are counted as unknown until the next try.
		a.logger.Error("flow groups not added", zap.Error(err))
		return
	}
	r.have.Store(want)
}

// writeMetrics writes each grouped flow's groups and the spans past its
// cap.
func (r *groupRegistry) writeMetrics(e *exposition) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := slices.Sorted(maps.Keys(r.flows))
	e.family("burnwatch_flow_groups", "gauge")
	for _, n := range names {
		e.bounded("burnwatch_flow_groups", float64(len(r.flows[n].list)), "flow", n)
	}
	e.family("burnwatch_flow_groups_overflow_total", "counter")
	for _, n := range names {
		e.bounded("burnwatch_flow_groups_overflow_total", float64(r.flows[n].overflow.Load()), "flow", n)
	}
}
