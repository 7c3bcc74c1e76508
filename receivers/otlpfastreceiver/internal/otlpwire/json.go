package otlpwire

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	jsoniter "github.com/json-iterator/go"

	"github.com/burnwatch/burnwatch/flows"
)

// OTLP/JSON (the protobuf JSON mapping with OTLP's exceptions: hex ids,
// field names in lowerCamelCase or as in the proto, enums as names or
// numbers, 64-bit integers as strings or numbers).
//
// The walk below makes the same json-iterator calls, in the same order and
// with the same configuration, as pdata's generated UnmarshalJSON methods
// (pdata/internal/generated_proto_*.go, json/iterator.go), so a document is
// accepted, and each value read, exactly as the upstream receiver does.
// The only calls it leaves out are the error reports for ids, whose spans
// it rejects on their own, and it stops values nested past maxDepth.

var jsonAPI = jsoniter.ConfigFastest

var (
	spanKinds   = map[string]int32{"SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3, "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5}
	statusCodes = map[string]int32{"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
)

// DecodeJSON decodes an ExportTraceServiceRequest in OTLP/JSON into b
// (which it resets first). The error wraps ErrMalformed when data cannot be
// decoded; b is then empty.
func (d *Decoder) DecodeJSON(b *Batch, data []byte) error {
	b.Reset()
	it := jsonAPI.BorrowIterator(data)
	defer jsonAPI.ReturnIterator(it)
	j := jsonWalk{d: d, b: b, it: it}
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "resourceSpans", "resource_spans":
			for it.ReadArray() {
				j.resourceSpans()
			}
		default:
			it.Skip()
		}
	}
	if it.Error != nil || j.deep {
		b.Reset()
		if j.deep {
			return errDepth
		}
		if errors.Is(it.Error, ErrMalformed) {
			return it.Error // set by the walk itself, already saying so
		}
		return fmt.Errorf("%w: %v", ErrMalformed, it.Error)
	}
	return nil
}

type jsonWalk struct {
	d  *Decoder
	b  *Batch
	it *jsoniter.Iterator
	// deep is set once a value nests past maxDepth; the walk then skips
	// what is left of it.
	deep bool
}

func (j *jsonWalk) resourceSpans() {
	it, b := j.it, j.b
	clear(b.res)
	b.pending = b.pending[:0]
	b.vals = b.vals[:0]
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "resource":
			j.resource()
		case "scopeSpans", "scope_spans":
			for it.ReadArray() {
				j.scopeSpans(true)
			}
		case "schemaUrl", "schema_url":
			it.ReadString()
		case "deprecatedScopeSpans", "deprecated_scope_spans":
			// pdata's JSON decoder reads them but never uses them.
			for it.ReadArray() {
				j.scopeSpans(false)
			}
		default:
			it.Skip()
		}
	}
	if it.Error != nil {
		return
	}
	n := len(j.d.keys)
	for i := range b.pending {
		s := &b.pending[i]
		j.d.finish(b, s, b.vals[s.off:s.off+n])
	}
}

func (j *jsonWalk) resource() {
	it := j.it
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "attributes":
			for it.ReadArray() {
				key, v := j.keyValue(0)
				j.d.resourceAttr(j.b, key, v)
			}
		case "droppedAttributesCount", "dropped_attributes_count":
			j.readUint32()
		case "entityRefs", "entity_refs":
			for it.ReadArray() {
				j.entityRef()
			}
		default:
			it.Skip()
		}
	}
}

func (j *jsonWalk) entityRef() {
	it := j.it
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "schemaUrl", "schema_url", "type":
			it.ReadString()
		case "idKeys", "id_keys", "descriptionKeys", "description_keys":
			for it.ReadArray() {
				it.ReadString()
			}
		default:
			it.Skip()
		}
	}
}

func (j *jsonWalk) scopeSpans(count bool) {
	it := j.it
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "scope":
			j.scope()
		case "spans":
			for it.ReadArray() {
				j.span()
				switch {
				case count:
					j.keep()
				case j.b.sp.badID && it.Error == nil:
					it.Error = errUnusedBadID
				}
			}
		case "schemaUrl", "schema_url":
			it.ReadString()
		default:
			it.Skip()
		}
	}
}

func (j *jsonWalk) scope() {
	it := j.it
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "name", "version":
			it.ReadString()
		case "attributes":
			for it.ReadArray() {
				j.keyValue(0)
			}
		case "droppedAttributesCount", "dropped_attributes_count":
			j.readUint32()
		default:
			it.Skip()
		}
	}
}

// keep queues the span just read until its resource is known.
func (j *jsonWalk) keep() {
	b := j.b
	s := b.sp
	s.vals, s.set = nil, nil
	s.off = len(b.vals)
	b.vals = append(b.vals, b.sp.vals...)
	b.pending = append(b.pending, s)
}

func (j *jsonWalk) span() {
	it, s := j.it, &j.b.sp
	s.reset()
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "traceId", "trace_id":
			s.badID = !j.readID(s.traceID[:]) || s.badID
		case "spanId", "span_id":
			s.badID = !j.readID(s.spanID[:]) || s.badID
		case "traceState", "trace_state":
			it.ReadString()
		case "parentSpanId", "parent_span_id":
			s.badID = !j.readID(s.parent[:]) || s.badID
		case "flags":
			j.readUint32()
		case "name":
			s.name = it.ReadString()
		case "kind":
			s.kind = j.readEnum(spanKinds)
		case "startTimeUnixNano", "start_time_unix_nano":
			s.start = j.readUint64()
		case "endTimeUnixNano", "end_time_unix_nano":
			s.end = j.readUint64()
		case "attributes":
			for it.ReadArray() {
				key, v := j.keyValue(0)
				j.d.spanAttr(s, key, v)
			}
		case "droppedAttributesCount", "dropped_attributes_count",
			"droppedEventsCount", "dropped_events_count",
			"droppedLinksCount", "dropped_links_count":
			j.readUint32()
		case "events":
			for it.ReadArray() {
				j.event()
			}
		case "links":
			for it.ReadArray() {
				s.badID = !j.link() || s.badID
			}
		case "status":
			j.status(&s.status)
		default:
			it.Skip()
		}
	}
}

func (j *jsonWalk) event() {
	it := j.it
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "timeUnixNano", "time_unix_nano":
			j.readUint64()
		case "name":
			it.ReadString()
		case "attributes":
			for it.ReadArray() {
				j.keyValue(0)
			}
		case "droppedAttributesCount", "dropped_attributes_count":
			j.readUint32()
		default:
			it.Skip()
		}
	}
}

// link reads a link; it is false when an id is invalid.
func (j *jsonWalk) link() bool {
	it := j.it
	ok := true
	var id [16]byte
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "traceId", "trace_id":
			ok = j.readID(id[:]) && ok
		case "spanId", "span_id":
			ok = j.readID(id[:8]) && ok
		case "traceState", "trace_state":
			it.ReadString()
		case "attributes":
			for it.ReadArray() {
				j.keyValue(0)
			}
		case "droppedAttributesCount", "dropped_attributes_count", "flags":
			j.readUint32()
		default:
			it.Skip()
		}
	}
	return ok
}

func (j *jsonWalk) status(code *int32) {
	it := j.it
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "message":
			it.ReadString()
		case "code":
			*code = j.readEnum(statusCodes)
		default:
			it.Skip()
		}
	}
}

// keyValue reads a KeyValue: the last key wins, values merge.
func (j *jsonWalk) keyValue(depth int) (key []byte, v flows.Value) {
	it := j.it
	if j.tooDeep(depth) {
		return nil, v
	}
	depth++
	v.Kind = flows.ValueOther
	var k string
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "key":
			k = it.ReadString()
		case "value":
			j.anyValue(depth, &v)
		case "keyStrindex", "key_strindex":
			j.readInt32()
		default:
			it.Skip()
		}
	}
	return bytesOf(k), v
}

func (j *jsonWalk) anyValue(depth int, v *flows.Value) {
	it := j.it
	if j.tooDeep(depth) {
		return
	}
	depth++
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		switch f {
		case "stringValue", "string_value":
			*v = flows.StrValue(it.ReadString())
		case "boolValue", "bool_value":
			*v = flows.BoolValue(it.ReadBool())
		case "intValue", "int_value":
			*v = flows.IntValue(j.readInt64())
		case "doubleValue", "double_value":
			*v = flows.DoubleValue(j.readFloat64())
		case "arrayValue", "array_value":
			j.list(depth, false)
			*v = flows.Value{Kind: flows.ValueOther}
		case "kvlistValue", "kvlist_value":
			j.list(depth, true)
			*v = flows.Value{Kind: flows.ValueOther}
		case "bytesValue", "bytes_value":
			j.readBytes()
			*v = flows.Value{Kind: flows.ValueOther}
		case "stringValueStrindex", "string_value_strindex":
			j.readInt32()
			*v = flows.Value{Kind: flows.ValueOther}
		default:
			it.Skip()
		}
	}
}

// list reads an ArrayValue or a KeyValueList.
func (j *jsonWalk) list(depth int, kv bool) {
	it := j.it
	if j.tooDeep(depth) {
		return
	}
	depth++
	var scratch flows.Value
	for f := it.ReadObject(); f != ""; f = it.ReadObject() {
		if f != "values" {
			it.Skip()
			continue
		}
		for it.ReadArray() {
			if kv {
				j.keyValue(depth)
			} else {
				j.anyValue(depth, &scratch)
			}
		}
	}
}

// tooDeep reports a value nested past maxDepth, and skips it.
func (j *jsonWalk) tooDeep(depth int) bool {
	if depth < maxDepth {
		return false
	}
	j.deep = true
	j.it.Skip()
	return true
}

// The readers below behave as pdata's json.Iterator methods of the same
// names: a number or a decimal string, anything else an error.

func (j *jsonWalk) readUint32() uint32 {
	switch j.it.WhatIsNext() {
	case jsoniter.NumberValue:
		return j.it.ReadUint32()
	case jsoniter.StringValue:
		n, err := strconv.ParseUint(j.it.ReadString(), 10, 32)
		if err != nil {
			j.it.ReportError("ReadUint32", err.Error())
			return 0
		}
		return uint32(n)
	}
	j.it.ReportError("ReadUint32", "unsupported value type")
	return 0
}

func (j *jsonWalk) readInt32() int32 {
	switch j.it.WhatIsNext() {
	case jsoniter.NumberValue:
		return j.it.ReadInt32()
	case jsoniter.StringValue:
		n, err := strconv.ParseInt(j.it.ReadString(), 10, 32)
		if err != nil {
			j.it.ReportError("ReadInt32", err.Error())
			return 0
		}
		return int32(n)
	}
	j.it.ReportError("ReadInt32", "unsupported value type")
	return 0
}

func (j *jsonWalk) readInt64() int64 {
	switch j.it.WhatIsNext() {
	case jsoniter.NumberValue:
		return j.it.ReadInt64()
	case jsoniter.StringValue:
		n, err := strconv.ParseInt(j.it.ReadString(), 10, 64)
		if err != nil {
			j.it.ReportError("ReadInt64", err.Error())
			return 0
		}
		return n
	}
	j.it.ReportError("ReadInt64", "unsupported value type")
	return 0
}

func (j *jsonWalk) readUint64() uint64 {
	switch j.it.WhatIsNext() {
	case jsoniter.NumberValue:
		return j.it.ReadUint64()
	case jsoniter.StringValue:
		n, err := strconv.ParseUint(j.it.ReadString(), 10, 64)
		if err != nil {
			j.it.ReportError("ReadUint64", err.Error())
			return 0
		}
		return n
	}
	j.it.ReportError("ReadUint64", "unsupported value type")
	return 0
}

func (j *jsonWalk) readFloat64() float64 {
	switch j.it.WhatIsNext() {
	case jsoniter.NumberValue:
		return j.it.ReadFloat64()
	case jsoniter.StringValue:
		f, err := strconv.ParseFloat(j.it.ReadString(), 64)
		if err != nil {
			j.it.ReportError("ReadFloat64", err.Error())
			return 0
		}
		return f
	}
	j.it.ReportError("ReadFloat64", "unsupported value type")
	return 0
}

// readEnum reads an enum by name or number.
func (j *jsonWalk) readEnum(names map[string]int32) int32 {
	switch j.it.WhatIsNext() {
	case jsoniter.NumberValue:
		return j.readInt32()
	case jsoniter.StringValue:
		n, ok := names[j.it.ReadString()]
		if !ok {
			j.it.ReportError("ReadEnumValue", "unknown string value")
		}
		return n
	}
	j.it.ReportError("ReadEnumValue", "unsupported value type")
	return 0
}

// readBytes checks base64 bytes.
func (j *jsonWalk) readBytes() {
	src := j.it.ReadStringAsSlice()
	if len(src) == 0 {
		return
	}
	b := j.b
	n := base64.StdEncoding.DecodedLen(len(src))
	if cap(b.scratch) < n {
		b.scratch = make([]byte, n)
	}
	if _, err := base64.StdEncoding.Decode(b.scratch[:n], src); err != nil {
		j.it.ReportError("base64.Decode", err.Error())
	}
}

// readID reads a hex id into dst (an empty string is the zero id). It is
// false when the id has the wrong length or is not hex: its span is
// rejected on its own, where pdata fails the whole request.
func (j *jsonWalk) readID(dst []byte) bool {
	clear(dst)
	src := j.it.ReadStringAsSlice()
	if len(src) == 0 {
		return true
	}
	if hex.DecodedLen(len(src)) != len(dst) {
		return false
	}
	_, err := hex.Decode(dst, src)
	return err == nil
}
