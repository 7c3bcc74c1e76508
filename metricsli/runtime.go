package metricsli

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
)

// Runtime turns OTLP data points into the good and bad event counts of
// the SLOs their Indicators measure, for slo.Engine.ObserveCounts. It is
// safe for concurrent use; batches are ingested one at a time.
//
// Per batch, each point goes to the Sources that name its metric and
// whose matchers its attributes pass; a cumulative point becomes the
// delta since its stream's previous point (see streams); each Source
// reads its events off the delta point. Per SLO and point time, the
// events of its two Sources are combined into good and bad counts.
//
// The combination keeps running sums of what each Source read since the
// Runtime began and hands out whole events, never taking back any: total
// events are the floor of the total sum; bad ones follow the bad sum
// (total - good for an Indicator of good and total) but never fall and
// never exceed what total allows. Fractions (a double counter's increase,
// an interpolated share of a bucket) carry over to later batches. The two
// Sources of an SLO should arrive in one batch, as an SDK's or a
// collector's export of one collection does; when the total comes a batch
// before its good, bad runs ahead by the good not yet seen and is then
// held back until the sums pass it, from when it follows them exactly.
//
// A point a Source cannot read (a threshold between explicit bounds, a
// histogram without buckets, a unit that is not a time) is a problem of
// its SLO: that SLO counts nothing from the batch, rather than count its
// total without its good, and Problems reports why. Everything not counted
// is counted in Stats by reason.
type Runtime struct {
	mu sync.Mutex
	// slos, byName and prom are the compiled Indicators; SetIndicators
	// replaces them, keeping streams and the sums of unchanged SLOs.
	slos   []*reader
	byName map[string][]sourceRef
	prom   []sourceRef
	// resolved caches which PromQL Sources read a metric of a name, unit
	// and type (up to maxResolved entries).
	resolved map[metricKey][]sourceRef
	labels   map[string]string // LabelName memo, up to maxResolved
	ints     map[int64]string  // formatted integer values, up to maxResolved
	streams  *streams
	stats    Stats
	group    func(string, []flows.Value) string
	tallyIDs int

	// Scratch, reused by every batch.
	refs      []sourceRef
	wrong     []sourceRef
	matched   []sourceRef
	key       []byte
	order     []int
	dp        Point
	contribs  []contrib
	input     flows.Input
	groupVals []flows.Value
	// pointLabels are the labels of the point labelsOf, translated.
	labelsOf    *Point
	pointLabels []promLabel
}

// Options tune a Runtime; the zero value gives the defaults.
type Options struct {
	// MaxStreams caps the cumulative streams whose last point is kept
	// (default 100,000); a new stream past it is refused and counted
	// (ReasonStreamOverflow).
	MaxStreams int
	// StaleAfter is how long a cumulative stream may send nothing before
	// it is forgotten (default 15m); if it comes back, its next point is
	// a baseline.
	StaleAfter time.Duration
	// Began is when Burnwatch began listening: a cumulative stream whose
	// start time is at or after it counts its first point in full.
	Began time.Time
	// Group names the flow that counts the events of a grouped SLO's
	// group (`sum by (labels)`), given the SLO's flow and the values of
	// the labels (absent where a point lacks one): the group's own flow,
	// or flow itself when none is present or the groups are full. Nil
	// sums every group into the SLO, as `sum without` always is.
	Group func(flow string, values []flows.Value) string
}

const (
	defaultMaxStreams = 100_000
	defaultStaleAfter = 15 * time.Minute
	maxResolved       = 10_000
)

// Stats are the Runtime's counters since it began.
type Stats struct {
	// Points counts every point given; Counted those some Source read;
	// Unused those no Source names or whose attributes no Source's
	// matchers pass; Baseline the first points of cumulative streams,
	// which count nothing (a new bucket layout is a baseline too, counted
	// as rejected by ReasonBucketsChanged).
	Points, Counted, Unused, Baseline uint64
	// Rejected counts points by reason (the Reason constants).
	Rejected map[string]uint64
	// Streams is the number of cumulative streams kept.
	Streams int
}

// Reasons lists every reason a point is rejected, for self-metrics.
var Reasons = []string{ReasonMalformed, ReasonUnsupportedType, ReasonBetweenBounds, ReasonNoBuckets, ReasonUnit,
	ReasonOutOfOrder, ReasonStreamOverflow, ReasonBucketsChanged}

// Problem is why an SLO counted nothing from its latest batch.
type Problem struct {
	SLO, Reason, Message string
}

// role is which of an Indicator's Sources a sourceRef is.
type role uint8

const (
	roleGood role = iota
	roleBad
	roleTotal
)

type reader struct {
	name, flow string
	in         *Indicator
	desc       string // in.String(), to tell an unchanged Indicator
	// by are the labels a `sum by` groups on, when the Runtime has a
	// Group func; nil sums every group into the SLO.
	by []string
	// tallies are the SLO's counts by the flow they go to: its own, or
	// one per group.
	tallies map[string]*tally
	// broken says a Source of the SLO could not read a point of the
	// batch; problem is the latest such, kept until a batch counts.
	broken  bool
	problem *Problem
}

// tally is what an SLO (or one group of it) counted: what each role's
// Source read since the Runtime began, and the whole events handed out.
type tally struct {
	id         int // for sorting contributions
	flow       string
	sum        [3]float64
	total, bad uint64
}

type sourceRef struct {
	slo  int
	role role
	src  *Source
	// match is the Source's match rules compiled (nil without rules).
	match *flows.Classifier
}

type metricKey struct {
	name, unit string
	t          MetricType
}

// contrib is what one Source read from one point.
type contrib struct {
	slo   int
	tally *tally
	role  role
	time  int64
	v     float64
}

// NewRuntime compiles indicators, keyed by SLO name.
func NewRuntime(indicators map[string]*Indicator, opts Options) (*Runtime, error) {
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = defaultMaxStreams
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = defaultStaleAfter
	}
	began := int64(0)
	if !opts.Began.IsZero() {
		began = opts.Began.UnixNano()
	}
	r := &Runtime{
		streams: newStreams(opts.MaxStreams, int64(opts.StaleAfter), began),
		labels:  map[string]string{},
		ints:    map[int64]string{},
		stats:   Stats{Rejected: map[string]uint64{}},
		group:   opts.Group,
	}
	if err := r.SetIndicators(indicators); err != nil {
		return nil, err
	}
	return r, nil
}

// SetIndicators replaces the Indicators, as a spec reload does. Streams
// are kept, and so are the sums of SLOs whose Indicator did not change.
func (r *Runtime) SetIndicators(indicators map[string]*Indicator) error {
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range indicators {
			if !yield(n) {
				return
			}
		}
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	old := make(map[string]*reader, len(r.slos))
	for _, rd := range r.slos {
		old[rd.name] = rd
	}
	var slos []*reader
	byName := map[string][]sourceRef{}
	var prom []sourceRef
	for _, name := range names {
		in := indicators[name]
		if err := in.Validate(); err != nil {
			return fmt.Errorf("slo %q: %w", name, err)
		}
		rd := &reader{name: name, flow: FlowName(name), in: in, desc: in.String(), tallies: map[string]*tally{}}
		if g := in.Grouping; r.group != nil && !g.Without && len(g.Labels) > 0 {
			rd.by = g.Labels
		}
		if o := old[name]; o != nil && o.desc == rd.desc {
			rd.tallies = o.tallies
		}
		idx := len(slos)
		slos = append(slos, rd)
		for ro, src := range []*Source{in.Good, in.Bad, in.Total} {
			if src == nil {
				continue
			}
			if err := checkSource(src); err != nil {
				return fmt.Errorf("slo %q: %w", name, err)
			}
			ref := sourceRef{slo: idx, role: role(ro), src: src}
			if len(src.Match) > 0 {
				cls, err := flows.NewClassifier([]flows.Spec{{Name: "match", Match: src.Match}})
				if err != nil {
					return fmt.Errorf("slo %q: %w", name, err)
				}
				ref.match = cls
			}
			if src.Metric != "" {
				byName[src.Metric] = append(byName[src.Metric], ref)
			} else {
				prom = append(prom, ref)
			}
		}
	}
	r.slos, r.byName, r.prom = slos, byName, prom
	r.resolved = map[metricKey][]sourceRef{}
	return nil
}

// Ingest reads a batch of points received at now and appends the SLOs'
// counts to dst, at the points' times. Points may borrow from the request
// they came in: nothing of them is kept.
func (r *Runtime) Ingest(now time.Time, pts []Point, dst []slo.Counts) []slo.Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.streams.now = now.UnixNano()
	r.contribs = r.contribs[:0]
	for _, rd := range r.slos {
		rd.broken = false
	}
	for i := range pts {
		r.point(&pts[i])
	}
	// The next batch may reuse the points' memory: forget them.
	r.labelsOf = nil
	clear(r.pointLabels)
	r.streams.maybeSweep()
	r.stats.Streams = r.streams.len()
	return r.emit(dst)
}

func (r *Runtime) reject(reason string) { r.stats.Rejected[reason]++ }

// point reads one point into r.contribs.
func (r *Runtime) point(p *Point) {
	r.stats.Points++
	refs := r.sourcesFor(p)
	for _, ref := range r.wrong {
		msg := fmt.Sprintf("%s is a %s, which counts no events: name a monotonic sum or a histogram", p.Metric, p.Type)
		if p.Type.counting() {
			msg = fmt.Sprintf("%s is a %s, not a histogram: the indicator reads its %s", p.Metric, p.Type, ref.src.Kind)
		}
		r.fail(ref.slo, ReasonUnsupportedType, msg)
	}
	if len(refs) == 0 {
		if len(r.wrong) > 0 {
			r.reject(ReasonUnsupportedType)
		} else {
			r.stats.Unused++
		}
		return
	}
	r.matched = r.matched[:0]
	for _, ref := range refs {
		if r.matches(&ref, p) {
			r.matched = append(r.matched, ref)
		}
	}
	if len(r.matched) == 0 {
		r.stats.Unused++
		return
	}
	// A point an SLO should count but cannot makes the SLO count nothing
	// from the batch: its other Source alone would count wrong.
	if err := p.check(); err != nil {
		for _, ref := range r.matched {
			r.fail(ref.slo, ReasonMalformed, fmt.Sprintf("%s: %v", p.Metric, err))
		}
		r.reject(ReasonMalformed)
		return
	}
	dp := p
	if p.Temporality == Cumulative {
		var plen int
		r.key, plen = streamKey(r.key[:0], p, &r.order)
		switch o, reason := r.streams.delta(r.key, plen, p, &r.dp); o {
		case refused:
			if reason == ReasonStreamOverflow {
				for _, ref := range r.matched {
					r.fail(ref.slo, reason, fmt.Sprintf("%s: %d cumulative streams are kept already, a new one is not counted", p.Metric, r.streams.max))
				}
			}
			r.reject(reason)
			return
		case baseline:
			if reason != "" {
				r.reject(reason)
			} else {
				r.stats.Baseline++
			}
			return
		}
		dp = &r.dp
	}
	var failed string
	for _, ref := range r.matched {
		v, err := ref.src.read(dp)
		if err != nil {
			r.fail(ref.slo, err.reason, err.msg)
			failed = err.reason
			continue
		}
		if v > 0 {
			r.contribs = append(r.contribs, contrib{slo: ref.slo, tally: r.tallyOf(ref.slo, p), role: ref.role, time: p.Time, v: v})
		}
	}
	if failed != "" {
		r.reject(failed)
		return
	}
	r.stats.Counted++
}

// tallyOf returns the tally of SLO slo that p counts in: the SLO's own,
// or that of p's group.
func (r *Runtime) tallyOf(slo int, p *Point) *tally {
	rd := r.slos[slo]
	flow := rd.flow
	if rd.by != nil {
		vals := r.groupVals[:0]
		for _, l := range rd.by {
			v := flows.Value{}
			if s := r.label(p, l); s != "" {
				v = flows.StrValue(s)
			}
			vals = append(vals, v)
		}
		r.groupVals = vals
		flow = r.group(rd.flow, vals)
	}
	t := rd.tallies[flow]
	if t == nil {
		r.tallyIDs++
		t = &tally{id: r.tallyIDs, flow: flow}
		rd.tallies[flow] = t
	}
	return t
}

// fail marks an SLO as counting nothing from this batch.
func (r *Runtime) fail(slo int, reason, msg string) {
	rd := r.slos[slo]
	rd.broken = true
	if rd.problem == nil || rd.problem.Message != msg {
		rd.problem = &Problem{SLO: rd.name, Reason: reason, Message: msg}
	}
}

// sourcesFor returns the Sources that read p's metric. Sources that name
// it by its OTLP name but cannot read its type go to r.wrong, to report.
func (r *Runtime) sourcesFor(p *Point) []sourceRef {
	r.refs, r.wrong = r.refs[:0], r.wrong[:0]
	for _, ref := range r.byName[p.Metric] {
		if ref.src.MatchesMetric(p.Metric, p.Unit, p.Type) {
			r.refs = append(r.refs, ref)
		} else {
			r.wrong = append(r.wrong, ref)
		}
	}
	if len(r.prom) == 0 || !p.Type.counting() {
		return r.refs
	}
	k := metricKey{p.Metric, p.Unit, p.Type}
	refs, ok := r.resolved[k]
	if !ok {
		for _, ref := range r.prom {
			if ref.src.MatchesMetric(p.Metric, p.Unit, p.Type) {
				refs = append(refs, ref)
			}
		}
		if len(r.resolved) < maxResolved {
			// The key's strings may borrow from the request.
			r.resolved[metricKey{clone(p.Metric), clone(p.Unit), p.Type}] = refs
		}
	}
	r.refs = append(r.refs, refs...)
	return r.refs
}

func clone(s string) string { return string([]byte(s)) }

// matches reports whether p's attributes pass the Source's matchers.
func (r *Runtime) matches(ref *sourceRef, p *Point) bool {
	if ref.match != nil {
		keys := ref.match.Keys()
		in := &r.input
		in.Span, in.Resource = in.Span[:0], in.Resource[:0]
		for _, k := range keys {
			in.Span = append(in.Span, attr(p.Attrs, k))
			in.Resource = append(in.Resource, attr(p.Resource, k))
		}
		return ref.match.Classify(in).Matched()
	}
	for i := range ref.src.Labels {
		m := &ref.src.Labels[i]
		if !m.Matches(r.label(p, m.Label)) {
			return false
		}
	}
	return true
}

func attr(as []Attr, key string) flows.Value {
	for i := range as {
		if as[i].Key == key {
			return as[i].Value
		}
	}
	return flows.Value{}
}

// label reads a Prometheus label of p: a point attribute whose translated
// key is the label, else a resource attribute, else job or instance. The
// point's labels are translated once, at its first matcher.
func (r *Runtime) label(p *Point, label string) string {
	if r.labelsOf != p {
		r.labelsOf = p
		r.pointLabels = r.pointLabels[:0]
		for _, as := range [2][]Attr{p.Attrs, p.Resource} {
			for i := range as {
				r.pointLabels = append(r.pointLabels, promLabel{r.labelName(as[i].Key), &as[i].Value})
			}
		}
	}
	for _, l := range r.pointLabels {
		if l.name == label {
			return r.valueString(*l.value)
		}
	}
	switch label {
	case "job", "instance":
		job, inst := ResourceLabels(attr(p.Resource, ServiceNamespace).Str, attr(p.Resource, ServiceName).Str,
			attr(p.Resource, ServiceInstanceID).Str)
		if label == "job" {
			return job
		}
		return inst
	}
	return ""
}

// promLabel is a point's attribute under its Prometheus label name.
type promLabel struct {
	name  string
	value *flows.Value
}

func (r *Runtime) labelName(key string) string {
	if n, ok := r.labels[key]; ok {
		return n
	}
	n := LabelName(key)
	if len(r.labels) < maxResolved {
		r.labels[clone(key)] = n
	}
	return n
}

// valueString is an attribute value as a Prometheus label value. Integers
// (status codes, mostly) are formatted once each.
func (r *Runtime) valueString(v flows.Value) string {
	switch v.Kind {
	case flows.ValueStr:
		return v.Str
	case flows.ValueInt:
		if s, ok := r.ints[v.Int]; ok {
			return s
		}
		s := strconv.FormatInt(v.Int, 10)
		if len(r.ints) < maxResolved {
			r.ints[v.Int] = s
		}
		return s
	}
	// As pdata's AsString writes them, as Prometheus's OTLP endpoint does.
	return v.Text()
}

// streamKey identifies a cumulative stream: metric, unit, type, scope and
// the resource's and point's attributes, each set in key order. The first
// plen bytes, up to the point's attributes, identify its producer.
func streamKey(b []byte, p *Point, order *[]int) (_ []byte, plen int) {
	b = append(b, p.Metric...)
	b = append(b, 0)
	b = append(b, p.Unit...)
	b = append(b, 0, byte(p.Type), 0)
	b = append(b, p.Scope...)
	for n, as := range [2][]Attr{p.Resource, p.Attrs} {
		if n == 1 {
			plen = len(b)
		}
		b = append(b, 1)
		o := (*order)[:0]
		for i := range as {
			o = append(o, i)
		}
		slices.SortFunc(o, func(i, j int) int { return cmp.Compare(as[i].Key, as[j].Key) })
		for _, i := range o {
			a := &as[i]
			b = append(b, a.Key...)
			b = append(b, 0, byte(a.Value.Kind))
			switch a.Value.Kind {
			case flows.ValueStr:
				b = append(b, a.Value.Str...)
			case flows.ValueInt:
				b = strconv.AppendInt(b, a.Value.Int, 10)
			case flows.ValueDouble:
				b = strconv.AppendFloat(b, a.Value.Double, 'g', -1, 64)
			case flows.ValueBool:
				b = strconv.AppendBool(b, a.Value.Bool)
			}
			b = append(b, 0)
		}
		*order = o
	}
	return b, plen
}

// emit combines the batch's contributions per SLO, group and time into
// counts.
func (r *Runtime) emit(dst []slo.Counts) []slo.Counts {
	cs := r.contribs
	slices.SortFunc(cs, func(a, b contrib) int {
		return cmp.Or(cmp.Compare(a.slo, b.slo), cmp.Compare(a.tally.id, b.tally.id), cmp.Compare(a.time, b.time))
	})
	for i := 0; i < len(cs); {
		j := i
		rd, t := r.slos[cs[i].slo], cs[i].tally
		for j < len(cs) && cs[j].tally == t && cs[j].time == cs[i].time {
			if !rd.broken {
				t.sum[cs[j].role] += cs[j].v
			}
			j++
		}
		if !rd.broken {
			// Counted: whatever stopped it before is over.
			rd.problem = nil
			if c, ok := t.take(rd.in, cs[i].time); ok {
				dst = append(dst, c)
			}
		}
		i = j
	}
	clear(cs) // drop the tallies of a reader SetIndicators may replace
	return dst
}

// take hands out the whole events the sums hold beyond those handed out.
func (t *tally) take(in *Indicator, at int64) (slo.Counts, bool) {
	var total, bad float64
	switch {
	case in.Total != nil && in.Good != nil:
		total, bad = t.sum[roleTotal], t.sum[roleTotal]-t.sum[roleGood]
	case in.Total != nil:
		total, bad = t.sum[roleTotal], t.sum[roleBad]
	default:
		total, bad = t.sum[roleGood]+t.sum[roleBad], t.sum[roleBad]
	}
	newTotal := max(whole(total), t.total)
	good := t.total - t.bad
	newBad := min(max(whole(bad), t.bad), newTotal-good)
	c := slo.Counts{Flow: t.flow, Time: at, Bad: newBad - t.bad}
	c.Good = newTotal - t.total - c.Bad
	t.total, t.bad = newTotal, newBad
	return c, c.Good+c.Bad > 0
}

// whole is the whole events in x: its floor, forgiving the rounding of
// sums of fractions (0.1+0.2+0.7 is one event), and 0 below zero.
func whole(x float64) uint64 {
	if x <= 0 || math.IsNaN(x) {
		return 0
	}
	return uint64(math.Floor(x + 1e-9))
}

// Stats returns the Runtime's counters.
func (r *Runtime) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.stats
	st.Rejected = make(map[string]uint64, len(r.stats.Rejected))
	for k, v := range r.stats.Rejected {
		st.Rejected[k] = v
	}
	return st
}

// Problems returns, per SLO that has one, why it counted nothing from its
// latest batch that had points for it, sorted by SLO.
func (r *Runtime) Problems() []Problem {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Problem
	for _, rd := range r.slos {
		if rd.problem != nil {
			out = append(out, *rd.problem)
		}
	}
	return out
}
