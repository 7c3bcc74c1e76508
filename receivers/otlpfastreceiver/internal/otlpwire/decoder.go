package otlpwire

import (
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
)

// statusError is OTLP's STATUS_CODE_ERROR.
const statusError = 2

// Options tune a Decoder.
type Options struct {
	// TrustAnnotations takes a span's own burnwatch.flow (a non-empty
	// string) and burnwatch.error (a bool) attributes as its
	// classification, as the flow processor's trust_annotations does for a
	// gateway whose agents classified the spans. Off, they are ignored.
	TrustAnnotations bool
	// Group names the event flow of a span of a grouped flow (see
	// flows.Spec.GroupBy); nil names every span by its flow alone.
	Group func(flow int, in *flows.Input) string
}

// Decoder turns OTLP trace requests into events with one flows.Classifier.
// It is immutable and safe for concurrent use; each request needs its own
// Batch.
type Decoder struct {
	cls   *flows.Classifier
	group func(flow int, in *flows.Input) string
	keys  []string
	index map[string]int // key → index; nil when a scan is as quick
	// lens has bit min(len(key), 63) set for every key the decoder looks
	// at (the classifier's and the two annotations), so most attributes
	// are passed over after a length test.
	lens  uint64
	trust bool
}

// indexFrom is the number of keys from which a map beats a scan.
const indexFrom = 8

// NewDecoder returns a Decoder that classifies with cls.
func NewDecoder(cls *flows.Classifier, opts Options) *Decoder {
	d := &Decoder{cls: cls, keys: cls.Keys(), trust: opts.TrustAnnotations}
	if cls.AnyGrouped() {
		d.group = opts.Group // nil otherwise: no question per span
	}
	if len(d.keys) >= indexFrom {
		d.index = make(map[string]int, len(d.keys))
		for i, k := range d.keys {
			d.index[k] = i
		}
	}
	for _, k := range append([]string{flows.FlowAttribute, flows.ErrorAttribute}, d.keys...) {
		d.lens |= 1 << min(len(k), 63)
	}
	return d
}

// Batch is what one request decoded to, and the scratch to decode it; a
// caller reuses Batches (Decode resets it). A Batch must not be shared
// between goroutines.
type Batch struct {
	// Events are the events of the spans flows took (or, trusting
	// annotations, that an agent classified), in request order.
	Events []slo.Event
	// Flow[i] is the classifier's index of Events[i]'s flow, or -1 for an
	// event named by a trusted annotation (the flow processor does not
	// count those as classified either).
	Flow []int32
	// Counts are the request's classification counts.
	Counts Counts

	in  flows.Input
	res []flows.Value // the resource's values of the classifier's keys
	sp  span          // the span being decoded
	// JSON may give a resource after its spans: they wait here, their
	// values in vals at their off.
	pending []span
	vals    []flows.Value
	scratch []byte
}

// Counts are one request's span counts. Received, Entry, Unmatched and
// Removed mean what the app.Tally fields of the same names mean; invalid
// spans are counted apart and in none of them.
type Counts struct {
	Received, Entry, Unmatched, Removed int
	// EndBeforeStart counts spans rejected because they end before they
	// start; InvalidID those with a trace, span or parent id (or a link's)
	// of the wrong length, or not hex in JSON.
	EndBeforeStart, InvalidID int
}

// Rejected is the number of spans rejected as invalid.
func (c Counts) Rejected() int { return c.EndBeforeStart + c.InvalidID }

// span is what the decoder keeps of a span.
type span struct {
	traceID       [16]byte
	spanID        [8]byte
	parent        [8]byte
	start, end    uint64
	name          string
	kind, status  int32
	vals          []flows.Value // by key index; the first occurrence wins
	set           []int32       // the indexes of vals that are set
	off           int           // where a pending span's vals are in Batch.vals
	flow, errAnno flows.Value   // the first burnwatch.flow and burnwatch.error
	annotated     bool          // either attribute occurs
	badID         bool
}

// NewBatch returns an empty Batch sized for d.
func (d *Decoder) NewBatch() *Batch {
	n := len(d.keys)
	return &Batch{
		in:  flows.Input{},
		res: make([]flows.Value, n),
		sp:  span{vals: make([]flows.Value, n)},
	}
}

// Reset empties b and drops its references to the last request.
func (b *Batch) Reset() {
	clear(b.Events)
	b.Events = b.Events[:0]
	b.Flow = b.Flow[:0]
	b.Counts = Counts{}
	b.in.Span, b.in.Resource, b.in.Name = nil, nil, ""
	clear(b.res)
	b.sp.reset()
	b.sp.name = ""
	clear(b.pending)
	b.pending = b.pending[:0]
	clear(b.vals)
	b.vals = b.vals[:0]
}

// reset readies s for the next span.
func (s *span) reset() {
	for _, i := range s.set {
		s.vals[i] = flows.Value{}
	}
	s.set = s.set[:0]
	s.traceID, s.spanID, s.parent = [16]byte{}, [8]byte{}, [8]byte{}
	s.start, s.end, s.name, s.kind, s.status = 0, 0, "", 0, 0
	s.off, s.flow, s.errAnno, s.annotated, s.badID = 0, flows.Value{}, flows.Value{}, false, false
}

// keyIndex returns the index of key among the classifier's keys, or -1.
func (d *Decoder) keyIndex(key []byte) int {
	if d.index != nil {
		if i, ok := d.index[string(key)]; ok {
			return i
		}
		return -1
	}
	for i, k := range d.keys {
		if string(key) == k {
			return i
		}
	}
	return -1
}

// wanted is a quick test that may let an attribute key through that no
// one reads, but never stops one that is read.
func (d *Decoder) wanted(key []byte) bool { return d.lens&(1<<min(len(key), 63)) != 0 }

// spanAttr keeps a span attribute if it is read; the first occurrence of a
// key wins, as pcommon.Map.Get finds it.
func (d *Decoder) spanAttr(s *span, key []byte, v flows.Value) {
	if !d.wanted(key) {
		return
	}
	switch string(key) {
	case flows.FlowAttribute:
		if !s.annotatedFlow() {
			s.flow = v
		}
		s.annotated = true
	case flows.ErrorAttribute:
		if s.errAnno.Kind == flows.ValueAbsent {
			s.errAnno = v
		}
		s.annotated = true
	}
	if i := d.keyIndex(key); i >= 0 && s.vals[i].Kind == flows.ValueAbsent {
		s.vals[i] = v
		s.set = append(s.set, int32(i))
	}
}

func (s *span) annotatedFlow() bool { return s.flow.Kind != flows.ValueAbsent }

// resourceAttr keeps a resource attribute if a rule reads it; the first
// occurrence wins.
func (d *Decoder) resourceAttr(b *Batch, key []byte, v flows.Value) {
	if !d.wanted(key) {
		return
	}
	if i := d.keyIndex(key); i >= 0 && b.res[i].Kind == flows.ValueAbsent {
		b.res[i] = v
	}
}

// finish classifies a decoded span, whose values of the classifier's keys
// are vals, and counts it; b.res holds its resource's.
func (d *Decoder) finish(b *Batch, s *span, vals []flows.Value) {
	c := &b.Counts
	switch {
	case s.badID:
		c.InvalidID++
		return
	case s.end < s.start:
		c.EndBeforeStart++
		return
	}
	c.Received++
	ev := slo.Event{End: int64(s.end), TraceID: s.traceID, SpanID: s.spanID}
	if s.end > s.start {
		ev.Duration = time.Duration(s.end - s.start)
	}
	if d.trust && s.flow.Kind == flows.ValueStr && s.flow.Str != "" {
		// An agent classified it; the processor passes it on as is.
		ev.Flow = d.flowName(s.flow.Str)
		ev.Error = s.errAnno.Kind == flows.ValueBool && s.errAnno.Bool
		b.Events = append(b.Events, ev)
		b.Flow = append(b.Flow, -1)
		return
	}
	in := &b.in
	in.Span, in.Resource, in.Name = vals, b.res, s.name
	// OTLP, pdata and package flows number span kinds alike.
	in.Kind = flows.SpanKind(s.kind)
	in.Root = s.parent == [8]byte{}
	in.StatusError = s.status == statusError
	r := d.cls.Classify(in)
	if r.Entry {
		c.Entry++
	}
	if !r.Matched() {
		if r.Entry {
			c.Unmatched++
		}
		if s.annotated {
			c.Removed++
		}
		return
	}
	if d.group != nil && d.cls.Grouped(r.Flow) {
		ev.Flow = d.group(r.Flow, in)
	} else {
		// Ref spares the engine hashing the name (slo.Engine.IndexFlows).
		ev.Flow, ev.Ref = d.cls.Name(r.Flow), uint32(r.Flow)+1
	}
	ev.Error = r.Error
	b.Events = append(b.Events, ev)
	b.Flow = append(b.Flow, int32(r.Flow))
}

// flowName is the classifier's own string for a flow an annotation names,
// or a copy of name (which points into the request) for a flow the specs
// do not define: the App counts and drops those.
func (d *Decoder) flowName(name string) string {
	if i, ok := d.cls.Index(name); ok {
		return d.cls.Name(i)
	}
	return strings.Clone(name)
}
