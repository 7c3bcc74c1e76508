package otlpwire

import (
	"math"

	"github.com/burnwatch/burnwatch/flows"
)

// Field numbers of the OTLP trace messages (opentelemetry-proto
// collector/trace/v1, trace/v1, resource/v1, common/v1). Every message
// lists the fields pdata knows, each with the wire type pdata insists on;
// other fields are skipped whatever their wire type.

// DecodeProto decodes an ExportTraceServiceRequest in protobuf into b
// (which it resets first). The error wraps ErrMalformed when buf cannot be
// decoded; b is then empty. The strings b refers to point into buf.
func (d *Decoder) DecodeProto(b *Batch, buf []byte) error {
	b.Reset()
	if err := d.request(b, buf); err != nil {
		b.Reset()
		return err
	}
	return nil
}

// request is ExportTraceServiceRequest: 1 resource_spans.
func (d *Decoder) request(b *Batch, buf []byte) error {
	for pos := 0; pos < len(buf); {
		f, wt, p, err := tag(buf, pos)
		if err != nil {
			return err
		}
		if f == 1 {
			s, e, err := lenField(buf, p, wt, "ExportTraceServiceRequest.resource_spans")
			if err != nil {
				return err
			}
			if err := d.resourceSpans(b, buf[s:e]); err != nil {
				return err
			}
			pos = e
			continue
		}
		if pos, err = skip(buf, p, wt); err != nil {
			return err
		}
	}
	return nil
}

// resourceSpans is ResourceSpans: 1 resource, 2 scope_spans, 3
// schema_url, 1000 the deprecated instrumentation_library_spans, which pdata
// reads as scope spans when there are none. Fields may come in any order
// and resource may repeat (its attributes add up), so a first pass reads the
// resource and a second the spans.
func (d *Decoder) resourceSpans(b *Batch, buf []byte) error {
	clear(b.res)
	scopes := false
	for pos := 0; pos < len(buf); {
		f, wt, p, err := tag(buf, pos)
		if err != nil {
			return err
		}
		switch f {
		case 1:
			s, e, err := lenField(buf, p, wt, "ResourceSpans.resource")
			if err != nil {
				return err
			}
			if err := d.resource(b, buf[s:e]); err != nil {
				return err
			}
			pos = e
		case 2, 3, 1000:
			_, e, err := lenField(buf, p, wt, "ResourceSpans field")
			if err != nil {
				return err
			}
			scopes = scopes || f == 2
			pos = e
		default:
			if pos, err = skip(buf, p, wt); err != nil {
				return err
			}
		}
	}
	for pos := 0; pos < len(buf); {
		// The first pass checked every tag and length.
		f, wt, p, _ := tag(buf, pos)
		if wt != wireLen {
			pos, _ = skip(buf, p, wt)
			continue
		}
		s, e, _ := length(buf, p)
		pos = e
		switch f {
		case 2:
			if err := d.scopeSpans(b, buf[s:e], true); err != nil {
				return err
			}
		case 1000:
			if err := d.scopeSpans(b, buf[s:e], !scopes); err != nil {
				return err
			}
		}
	}
	return nil
}

// resource is Resource: 1 attributes, 2 dropped_attributes_count, 3
// entity_refs.
func (d *Decoder) resource(b *Batch, buf []byte) error {
	for pos := 0; pos < len(buf); {
		f, wt, p, err := tag(buf, pos)
		if err != nil {
			return err
		}
		switch f {
		case 1:
			s, e, err := lenField(buf, p, wt, "Resource.attributes")
			if err != nil {
				return err
			}
			key, v, err := keyValue(buf[s:e], 0)
			if err != nil {
				return err
			}
			d.resourceAttr(b, key, v)
			pos = e
		case 2:
			_, pos, err = varintField(buf, p, wt, "Resource.dropped_attributes_count")
		case 3:
			var s, e int
			if s, e, err = lenField(buf, p, wt, "Resource.entity_refs"); err == nil {
				err = entityRef(buf[s:e])
				pos = e
			}
		default:
			pos, err = skip(buf, p, wt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// entityRef is EntityRef: 1 schema_url, 2 type, 3 id_keys, 4
// description_keys, all strings.
func entityRef(buf []byte) error {
	for pos := 0; pos < len(buf); {
		f, wt, p, err := tag(buf, pos)
		if err != nil {
			return err
		}
		if f >= 1 && f <= 4 {
			_, pos, err = lenField(buf, p, wt, "EntityRef field")
		} else {
			pos, err = skip(buf, p, wt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scopeSpans is ScopeSpans: 1 scope, 2 spans, 3 schema_url. Spans are
// counted when count is set, only checked otherwise.
func (d *Decoder) scopeSpans(b *Batch, buf []byte, count bool) error {
	for pos := 0; pos < len(buf); {
		f, wt, p, err := tag(buf, pos)
		if err != nil {
			return err
		}
		switch f {
		case 1:
			var s, e int
			if s, e, err = lenField(buf, p, wt, "ScopeSpans.scope"); err == nil {
				err = scope(buf[s:e])
				pos = e
			}
		case 2:
			var s, e int
			if s, e, err = lenField(buf, p, wt, "ScopeSpans.spans"); err == nil {
				err = d.span(&b.sp, buf[s:e])
				pos = e
			}
			switch {
			case err != nil:
			case count:
				d.finish(b, &b.sp, b.sp.vals)
			case b.sp.badID:
				err = errUnusedBadID
			}
		case 3:
			_, pos, err = lenField(buf, p, wt, "ScopeSpans.schema_url")
		default:
			pos, err = skip(buf, p, wt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scope is InstrumentationScope: 1 name, 2 version, 3 attributes, 4
// dropped_attributes_count.
func scope(buf []byte) error {
	for pos := 0; pos < len(buf); {
		f, wt, p, err := tag(buf, pos)
		if err != nil {
			return err
		}
		switch f {
		case 1, 2:
			_, pos, err = lenField(buf, p, wt, "InstrumentationScope field")
		case 3:
			var s, e int
			if s, e, err = lenField(buf, p, wt, "InstrumentationScope.attributes"); err == nil {
				_, _, err = keyValue(buf[s:e], 0)
				pos = e
			}
		case 4:
			_, pos, err = varintField(buf, p, wt, "InstrumentationScope.dropped_attributes_count")
		default:
			pos, err = skip(buf, p, wt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// span is Span: 1 trace_id, 2 span_id, 3 trace_state, 4 parent_span_id, 5
// name, 6 kind, 7 start_time_unix_nano, 8 end_time_unix_nano, 9
// attributes, 10 dropped_attributes_count, 11 events, 12
// dropped_events_count, 13 links, 14 dropped_links_count, 15 status, 16
// flags. Repeated singular fields: the last wins.
func (d *Decoder) span(s *span, buf []byte) error {
	s.reset()
	for pos := 0; pos < len(buf); {
		// Most tags are one byte: read those here, the call costs more.
		var f int32
		var wt int8
		var p int
		var err error
		if c := buf[pos]; c < 0x80 && c >= 8 {
			f, wt, p = int32(c>>3), int8(c&7), pos+1
		} else if f, wt, p, err = tag(buf, pos); err != nil {
			return err
		}
		var n uint64
		switch f {
		case 1:
			var st, e int
			if st, e, err = lenField(buf, p, wt, "Span.trace_id"); err == nil {
				s.badID = !setID(s.traceID[:], buf[st:e]) || s.badID
				pos = e
			}
		case 2:
			var st, e int
			if st, e, err = lenField(buf, p, wt, "Span.span_id"); err == nil {
				s.badID = !setID(s.spanID[:], buf[st:e]) || s.badID
				pos = e
			}
		case 4:
			var st, e int
			if st, e, err = lenField(buf, p, wt, "Span.parent_span_id"); err == nil {
				s.badID = !setID(s.parent[:], buf[st:e]) || s.badID
				pos = e
			}
		case 3:
			_, pos, err = lenField(buf, p, wt, "Span.trace_state")
		case 5:
			var st, e int
			if st, e, err = lenField(buf, p, wt, "Span.name"); err == nil {
				s.name = str(buf[st:e])
				pos = e
			}
		case 6:
			// pdata keeps an enum's low 32 bits.
			n, pos, err = varintField(buf, p, wt, "Span.kind")
			s.kind = int32(n)
		case 7:
			s.start, pos, err = fixed64Field(buf, p, wt, "Span.start_time_unix_nano")
		case 8:
			s.end, pos, err = fixed64Field(buf, p, wt, "Span.end_time_unix_nano")
		case 9:
			var st, e int
			if st, e, err = lenField(buf, p, wt, "Span.attributes"); err == nil {
				var key []byte
				var v flows.Value
				if key, v, err = keyValue(buf[st:e], 0); err == nil {
					d.spanAttr(s, key, v)
				}
				pos = e
			}
		case 10:
			_, pos, err = varintField(buf, p, wt, "Span.dropped_attributes_count")
		case 11:
			var st, e int
			if st, e, err = lenField(buf, p, wt, "Span.events"); err == nil {
				err = event(buf[st:e])
				pos = e
			}
		case 12:
			_, pos, err = varintField(buf, p, wt, "Span.dropped_events_count")
		case 13:
			var st, e int
			if st, e, err = lenField(buf, p, wt, "Span.links"); err == nil {
				var ok bool
				ok, err = link(buf[st:e])
				s.badID = !ok || s.badID
				pos = e
			}
		case 14:
			_, pos, err = varintField(buf, p, wt, "Span.dropped_links_count")
		case 15:
			var st, e int
			if st, e, err = lenField(buf, p, wt, "Span.status"); err == nil {
				err = status(buf[st:e], &s.status)
				pos = e
			}
		case 16:
			pos, err = fixed32Field(buf, p, wt, "Span.flags")
		default:
			pos, err = skip(buf, p, wt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// setID sets an id from its bytes: none is the zero id; any other length
// but the id's is invalid.
func setID(dst, b []byte) bool {
	switch len(b) {
	case 0:
		clear(dst)
	case len(dst):
		copy(dst, b)
	default:
		return false
	}
	return true
}

// event is Span.Event: 1 time_unix_nano, 2 name, 3 attributes, 4
// dropped_attributes_count.
func event(buf []byte) error {
	for pos := 0; pos < len(buf); {
		f, wt, p, err := tag(buf, pos)
		if err != nil {
			return err
		}
		switch f {
		case 1:
			_, pos, err = fixed64Field(buf, p, wt, "Span.Event.time_unix_nano")
		case 2:
			_, pos, err = lenField(buf, p, wt, "Span.Event.name")
		case 3:
			var s, e int
			if s, e, err = lenField(buf, p, wt, "Span.Event.attributes"); err == nil {
				_, _, err = keyValue(buf[s:e], 0)
				pos = e
			}
		case 4:
			_, pos, err = varintField(buf, p, wt, "Span.Event.dropped_attributes_count")
		default:
			pos, err = skip(buf, p, wt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// link is Span.Link: 1 trace_id, 2 span_id, 3 trace_state, 4 attributes, 5
// dropped_attributes_count, 6 flags. ok is false when an id is invalid.
func link(buf []byte) (ok bool, err error) {
	ok = true
	for pos := 0; pos < len(buf); {
		f, wt, p, err := tag(buf, pos)
		if err != nil {
			return false, err
		}
		switch f {
		case 1, 2:
			var s, e int
			if s, e, err = lenField(buf, p, wt, "Span.Link id"); err == nil {
				want := 16
				if f == 2 {
					want = 8
				}
				ok = ok && (e-s == 0 || e-s == want)
				pos = e
			}
		case 3:
			_, pos, err = lenField(buf, p, wt, "Span.Link.trace_state")
		case 4:
			var s, e int
			if s, e, err = lenField(buf, p, wt, "Span.Link.attributes"); err == nil {
				_, _, err = keyValue(buf[s:e], 0)
				pos = e
			}
		case 5:
			_, pos, err = varintField(buf, p, wt, "Span.Link.dropped_attributes_count")
		case 6:
			pos, err = fixed32Field(buf, p, wt, "Span.Link.flags")
		default:
			pos, err = skip(buf, p, wt)
		}
		if err != nil {
			return false, err
		}
	}
	return ok, nil
}

// status is Status: 2 message, 3 code (field 1, the deprecated code, is
// unknown to pdata). Fields not given leave code as it was: a repeated
// status merges.
func status(buf []byte, code *int32) error {
	for pos := 0; pos < len(buf); {
		f, wt, p, err := tag(buf, pos)
		if err != nil {
			return err
		}
		switch f {
		case 2:
			_, pos, err = lenField(buf, p, wt, "Status.message")
		case 3:
			var n uint64
			n, pos, err = varintField(buf, p, wt, "Status.code")
			*code = int32(n)
		default:
			pos, err = skip(buf, p, wt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// keyValue is KeyValue: 1 key, 2 value, 3 key_strindex. The last key wins;
// repeated values merge (the last of their fields wins). A key-value with no
// value is present but empty, which rules see as neither string nor number.
func keyValue(buf []byte, depth int) (key []byte, v flows.Value, err error) {
	if depth >= maxDepth {
		return nil, v, errDepth
	}
	depth++
	v.Kind = flows.ValueOther
	for pos := 0; pos < len(buf); {
		// Most tags are one byte: read those here, the call costs more.
		var f int32
		var wt int8
		var p int
		var err error
		if c := buf[pos]; c < 0x80 && c >= 8 {
			f, wt, p = int32(c>>3), int8(c&7), pos+1
		} else if f, wt, p, err = tag(buf, pos); err != nil {
			return nil, v, err
		}
		switch f {
		case 1:
			var s, e int
			if s, e, err = lenField(buf, p, wt, "KeyValue.key"); err == nil {
				key = buf[s:e]
				pos = e
			}
		case 2:
			var s, e int
			if s, e, err = lenField(buf, p, wt, "KeyValue.value"); err == nil {
				err = anyValue(buf[s:e], depth, &v)
				pos = e
			}
		case 3:
			_, pos, err = varintField(buf, p, wt, "KeyValue.key_strindex")
		default:
			pos, err = skip(buf, p, wt)
		}
		if err != nil {
			return nil, v, err
		}
	}
	return key, v, nil
}

// anyValue is AnyValue, a oneof: 1 string, 2 bool, 3 int, 4 double, 5
// array, 6 kvlist, 7 bytes, 8 string_value_strindex. Each field replaces v;
// a value with none leaves it as it was.
func anyValue(buf []byte, depth int, v *flows.Value) error {
	if depth >= maxDepth {
		return errDepth
	}
	depth++
	for pos := 0; pos < len(buf); {
		// Most tags are one byte: read those here, the call costs more.
		var f int32
		var wt int8
		var p int
		var err error
		if c := buf[pos]; c < 0x80 && c >= 8 {
			f, wt, p = int32(c>>3), int8(c&7), pos+1
		} else if f, wt, p, err = tag(buf, pos); err != nil {
			return err
		}
		var n uint64
		switch f {
		case 1:
			var s, e int
			if s, e, err = lenField(buf, p, wt, "AnyValue.string_value"); err == nil {
				*v = flows.Value{Kind: flows.ValueStr, Str: str(buf[s:e])}
				pos = e
			}
		case 2:
			if n, pos, err = varintField(buf, p, wt, "AnyValue.bool_value"); err == nil {
				*v = flows.Value{Kind: flows.ValueBool, Bool: n != 0}
			}
		case 3:
			if n, pos, err = varintField(buf, p, wt, "AnyValue.int_value"); err == nil {
				*v = flows.Value{Kind: flows.ValueInt, Int: int64(n)}
			}
		case 4:
			if n, pos, err = fixed64Field(buf, p, wt, "AnyValue.double_value"); err == nil {
				*v = flows.Value{Kind: flows.ValueDouble, Double: math.Float64frombits(n)}
			}
		case 5, 6:
			var s, e int
			if s, e, err = lenField(buf, p, wt, "AnyValue.array_value or kvlist_value"); err == nil {
				err = list(buf[s:e], depth, f == 6)
				pos = e
			}
			*v = flows.Value{Kind: flows.ValueOther}
		case 7:
			_, pos, err = lenField(buf, p, wt, "AnyValue.bytes_value")
			*v = flows.Value{Kind: flows.ValueOther}
		case 8:
			_, pos, err = varintField(buf, p, wt, "AnyValue.string_value_strindex")
			*v = flows.Value{Kind: flows.ValueOther}
		default:
			pos, err = skip(buf, p, wt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// list is ArrayValue (1 values, each an AnyValue) or KeyValueList (1
// values, each a KeyValue): checked, never read.
func list(buf []byte, depth int, kv bool) error {
	if depth >= maxDepth {
		return errDepth
	}
	depth++
	var scratch flows.Value
	for pos := 0; pos < len(buf); {
		f, wt, p, err := tag(buf, pos)
		if err != nil {
			return err
		}
		if f != 1 {
			if pos, err = skip(buf, p, wt); err != nil {
				return err
			}
			continue
		}
		s, e, err := lenField(buf, p, wt, "values")
		if err != nil {
			return err
		}
		if kv {
			_, _, err = keyValue(buf[s:e], depth)
		} else {
			err = anyValue(buf[s:e], depth, &scratch)
		}
		if err != nil {
			return err
		}
		pos = e
	}
	return nil
}
