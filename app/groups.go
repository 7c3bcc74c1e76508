package app

import (
	"bytes"
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
// across restarts in groups.jsonl in the storage directory: a line per
// group, appended and synced before the group's first event is counted, and
// the file rewritten whole when a reload drops groups.
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
// where the span lacked the key). It is what a line of groups.jsonl holds, with its flow.
type group struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// groupLine is a line of groups.jsonl: one group of a flow grouped by
// keys. A line for other keys than the flow's earlier lines starts its
// groups again.
type groupLine struct {
	Flow string   `json:"flow"`
	Keys []string `json:"keys"`
	group
}

// openGroups reads the groups a previous run registered, if storage is on.
// A line that does not read (the last, torn by a crash before its sync
// returned) ends the file: the groups before it are kept, and the rest
// come back as spans come in.
func openGroups(dir string, logger *zap.Logger) *groupRegistry {
	r := &groupRegistry{logger: logger, flows: map[string]*flowGroups{}}
	if dir == "" {
		return r
	}
	r.path = filepath.Join(dir, "groups.jsonl")
	b, err := os.ReadFile(r.path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			logger.Error("flow groups not restored: their SLOs start again as spans come", zap.String("file", r.path), zap.Error(err))
		}
		return r
	}
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var l groupLine
		if err := json.Unmarshal(line, &l); err != nil || len(l.Values) != len(l.Keys) || l.Name == "" {
			logger.Warn("flow groups read up to a damaged line", zap.String("file", r.path), zap.Int("line", n+1))
			break
		}
		fg := r.flows[l.Flow]
		if fg == nil || !slices.Equal(fg.keys, l.Keys) {
			fg = &flowGroups{flow: l.Flow, keys: l.Keys, byKey: map[string]string{}}
			r.flows[l.Flow] = fg
		}
		k := strings.Join(l.Values, "\xff")
		if _, dup := fg.byKey[k]; !dup {
			fg.byKey[k] = l.Name
			fg.list = append(fg.list, l.group)
		}
	}
	return r
}

// reconcile takes a spec set's flows: a grouped flow keeps its groups while
// its keys stay the same (up to its cap); a flow that is no longer grouped,
// or by other keys, loses them.
func (r *groupRegistry) reconcile(fs []flows.Spec) {
	r.mu.Lock()
	defer r.mu.Unlock()
	dropped := false
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
			dropped = dropped || fg != nil && len(fg.list) > 0
			fg = &flowGroups{flow: f.Name, keys: slices.Clone(f.GroupBy), byKey: map[string]string{}}
		}
		fg.max = max
		for len(fg.list) > max {
			dropped = true
			last := fg.list[len(fg.list)-1]
			delete(fg.byKey, strings.Join(last.Values, "\xff"))
			fg.list = fg.list[:len(fg.list)-1]
		}
		next[f.Name] = fg
	}
	for name, fg := range r.flows {
		dropped = dropped || next[name] == nil && len(fg.list) > 0
	}
	r.flows = next
	if dropped {
		if err := r.rewriteLocked(); err != nil {
			r.logger.Error("flow groups file not rewritten: a restart may bring dropped groups back", zap.String("file", r.path), zap.Error(err))
		}
	}
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
	if err := r.appendLocked(fg, gr); err != nil {
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
	fg, vals, ok := r.parse(name)
	if !ok {
		return "", false
	}
	return r.name(fg, vals), true
}

// parse reads a group's name back into its flow's groups and the values
// of its keys.
func (r *groupRegistry) parse(name string) (*flowGroups, []flows.Value, bool) {
	flow, rest, ok := strings.Cut(name, "{")
	if !ok {
		return nil, nil, false
	}
	fg := r.of(flow)
	if fg == nil {
		return nil, nil, false
	}
	vals := make([]flows.Value, len(fg.keys))
	for rest != "}" {
		key, after, ok := strings.Cut(rest, "=")
		i := slices.Index(fg.keys, key)
		if !ok || i < 0 {
			return nil, nil, false
		}
		q, err := strconv.QuotedPrefix(after)
		if err != nil {
			return nil, nil, false
		}
		v, _ := strconv.Unquote(q)
		vals[i] = flows.StrValue(v)
		rest = strings.TrimPrefix(after[len(q):], ",")
	}
	if flows.GroupName(flow, fg.keys, vals) != name {
		return nil, nil, false
	}
	return fg, vals, true
}

// appendLocked appends gr's line to groups.jsonl and syncs it. r.mu must
// be held.
func (r *groupRegistry) appendLocked(fg *flowGroups, gr group) error {
	if r.path == "" {
		return nil
	}
	b, err := json.Marshal(groupLine{Flow: fg.flow, Keys: fg.keys, group: gr})
	if err != nil {
		return err
	}
	_, statErr := os.Stat(r.path)
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && statErr != nil {
		err = syncDir(filepath.Dir(r.path)) // a new file's name
	}
	return err
}

// rewriteLocked writes groups.jsonl whole, with the groups there are now:
// to a temporary file, synced, then renamed over the old one. r.mu must be
// held.
func (r *groupRegistry) rewriteLocked() error {
	if r.path == "" {
		return nil
	}
	var b []byte
	for _, name := range slices.Sorted(maps.Keys(r.flows)) {
		fg := r.flows[name]
		for _, gr := range fg.list {
			line, err := json.Marshal(groupLine{Flow: fg.flow, Keys: fg.keys, group: gr})
			if err != nil {
				return err
			}
			b = append(append(b, line...), '\n')
		}
	}
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err == nil {
		err = os.Rename(tmp, r.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(r.path))
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
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
