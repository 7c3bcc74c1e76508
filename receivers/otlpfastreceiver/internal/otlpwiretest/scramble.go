package otlpwiretest

import (
	"math/rand/v2"
)

// msg names the OTLP trace messages.
type msg uint8

const (
	mRequest msg = iota
	mResourceSpans
	mResource
	mEntityRef
	mScopeSpans
	mScope
	mSpan
	mEvent
	mLink
	mStatus
	mKeyValue
	mAnyValue
	mArray
	mKVList
)

// children are the message-typed fields of each message.
var children = map[msg]map[int32]msg{
	mRequest:       {1: mResourceSpans},
	mResourceSpans: {1: mResource, 2: mScopeSpans, 1000: mScopeSpans},
	mResource:      {1: mKeyValue, 3: mEntityRef},
	mScopeSpans:    {1: mScope, 2: mSpan},
	mScope:         {3: mKeyValue},
	mSpan:          {9: mKeyValue, 11: mEvent, 13: mLink, 15: mStatus},
	mEvent:         {3: mKeyValue},
	mLink:          {4: mKeyValue},
	mKeyValue:      {2: mAnyValue},
	mAnyValue:      {5: mArray, 6: mKVList},
	mArray:         {1: mAnyValue},
	mKVList:        {1: mKeyValue},
}

// known are the field numbers pdata knows in each message.
var known = map[msg][]int32{
	mRequest:       {1},
	mResourceSpans: {1, 2, 3, 1000},
	mResource:      {1, 2, 3},
	mEntityRef:     {1, 2, 3, 4},
	mScopeSpans:    {1, 2, 3},
	mScope:         {1, 2, 3, 4},
	mSpan:          {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	mEvent:         {1, 2, 3, 4},
	mLink:          {1, 2, 3, 4, 5, 6},
	mStatus:        {2, 3},
	mKeyValue:      {1, 2, 3},
	mAnyValue:      {1, 2, 3, 4, 5, 6, 7, 8},
	mArray:         {1},
	mKVList:        {1},
}

// ScrambleOptions choose what Scramble may do.
type ScrambleOptions struct {
	// BadIDs lets it give trace, span and parent ids the wrong length,
	// which pdata refuses.
	BadIDs bool
	// Loose lets it move fields between the scope spans' two field numbers,
	// set wire types pdata refuses and drop bytes: the result may be
	// malformed.
	Loose bool
}

// field is one field of an encoded message.
type field struct {
	num  int32
	wt   int8
	data []byte // a length-delimited payload, or the encoded value
}

// Scramble rewrites an encoded ExportTraceServiceRequest: fields
// reordered, unknown fields (groups too) inserted, messages split in two
// and fields repeated, varints padded, attributes added with keys the
// message already has, and, as o allows, worse. The result is valid
// protobuf unless o.Loose; what it means may differ from req.
func Scramble(rng *rand.Rand, req []byte, o ScrambleOptions) []byte {
	return scramble(rng, req, mRequest, o)
}

func scramble(rng *rand.Rand, buf []byte, t msg, o ScrambleOptions) []byte {
	fields, ok := parse(buf)
	if !ok {
		return buf
	}
	for i := range fields {
		f := &fields[i]
		if c, ok := children[t][f.num]; ok && f.wt == 2 {
			f.data = scramble(rng, f.data, c, o)
		}
	}
	var out []field
	for _, f := range fields {
		switch rng.IntN(12) {
		case 0: // repeat it
			out = append(out, f, f)
		case 1: // split a message in two
			if _, ok := children[t][f.num]; ok && f.wt == 2 {
				if parts, ok := parse(f.data); ok && len(parts) > 1 {
					k := 1 + rng.IntN(len(parts)-1)
					out = append(out, field{f.num, 2, encode(parts[:k], rng)}, field{f.num, 2, encode(parts[k:], rng)})
					continue
				}
			}
			out = append(out, f)
		case 2: // an unknown field before it
			out = append(out, unknown(rng, t, o.Loose), f)
		default:
			out = append(out, f)
		}
	}
	if rng.IntN(4) == 0 {
		out = append(out, unknown(rng, t, o.Loose))
	}
	if (t == mSpan || t == mResource) && rng.IntN(3) == 0 {
		out = append(out, field{num: map[msg]int32{mSpan: 9, mResource: 1}[t], wt: 2, data: keyValue(rng)})
	}
	if t == mSpan && o.BadIDs && rng.IntN(10) == 0 {
		out = append(out, field{num: []int32{1, 2, 4}[rng.IntN(3)], wt: 2, data: make([]byte, 1+rng.IntN(20))})
	}
	if t == mResourceSpans && o.Loose && rng.IntN(3) == 0 {
		for i := range out {
			if out[i].num == 2 || out[i].num == 1000 {
				out[i].num = 1002 - out[i].num
			}
		}
	}
	if o.Loose && rng.IntN(20) == 0 && len(out) > 0 {
		out[rng.IntN(len(out))].wt = int8(rng.IntN(6))
	}
	if rng.IntN(3) == 0 {
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	b := encode(out, rng)
	if o.Loose && rng.IntN(30) == 0 && len(b) > 0 {
		b = b[:rng.IntN(len(b))]
	}
	return b
}

// keyValue is a KeyValue with a key the test flows read and a random value.
func keyValue(rng *rand.Rand) []byte {
	key := []string{"service.name", "http.route", "burnwatch.flow", "burnwatch.error", "tenant.id", "sample.rate"}[rng.IntN(6)]
	var v []byte
	switch rng.IntN(5) {
	case 0:
		v = appendField(nil, 1, 2, []byte(strs[rng.IntN(len(strs))]), 0)
	case 1:
		v = appendVarintField(nil, 3, uint64(ints[rng.IntN(len(ints))]))
	case 2:
		v = appendVarintField(nil, 2, uint64(rng.IntN(2)))
	case 3:
		v = appendField(nil, 1, 2, []byte("shop"), 0)
		v = appendVarintField(v, 3, 404) // two oneof fields: the last wins
	}
	kv := appendField(nil, 1, 2, []byte(key), 0)
	return appendField(kv, 2, 2, v, 0)
}

// unknown is a field pdata does not know in t, of any wire type.
func unknown(rng *rand.Rand, t msg, loose bool) field {
	num := int32(17 + rng.IntN(40))
	switch rng.IntN(4) {
	case 0:
		num = 536870911 // the largest field number
	case 1:
		num = int32(1001 + rng.IntN(10))
	}
	for _, k := range known[t] {
		if k == num {
			num = 99
		}
	}
	if t == mStatus && rng.IntN(3) == 0 {
		num = 1 // the deprecated code pdata ignores
	}
	switch rng.IntN(5) {
	case 0:
		return field{num, 0, appendVarint(nil, rng.Uint64(), 0)}
	case 1:
		return field{num, 1, []byte{1, 2, 3, 4, 5, 6, 7, 8}}
	case 2:
		return field{num, 5, []byte{1, 2, 3, 4}}
	case 3:
		// pdata skips a group only up to its first field that is not a
		// group (it reads the rest as fields of the message around it),
		// and refuses one that ends its message: only loose scrambling
		// makes groups.
		if loose {
			inner := appendTag(nil, 2, 3)
			inner = appendTag(inner, 2, 4)
			if rng.IntN(2) == 0 {
				inner = appendVarintField(inner, 1, 7)
			}
			return field{num, 3, inner}
		}
	}
	return field{num, 2, []byte("unknown")}
}

// parse splits an encoded message into fields; ok is false when it is not
// valid protobuf (a scrambled request is scrambled no further).
func parse(buf []byte) (fields []field, ok bool) {
	for pos := 0; pos < len(buf); {
		t, n := uvarint(buf[pos:])
		if n <= 0 || t>>3 == 0 {
			return nil, false
		}
		pos += n
		f := field{num: int32(t >> 3), wt: int8(t & 7)}
		start := pos
		switch f.wt {
		case 0:
			_, n := uvarint(buf[pos:])
			if n <= 0 {
				return nil, false
			}
			pos += n
			f.data = buf[start:pos]
		case 1, 5:
			w := 8
			if f.wt == 5 {
				w = 4
			}
			if pos+w > len(buf) {
				return nil, false
			}
			pos += w
			f.data = buf[start:pos]
		case 2:
			l, n := uvarint(buf[pos:])
			if n <= 0 || l > uint64(len(buf)-pos-n) {
				return nil, false
			}
			pos += n
			f.data = buf[pos : pos+int(l)]
			pos += int(l)
		default:
			return nil, false // groups are left alone
		}
		fields = append(fields, f)
	}
	return fields, true
}

func encode(fields []field, rng *rand.Rand) []byte {
	var b []byte
	for _, f := range fields {
		pad := 0
		if rng.IntN(16) == 0 {
			pad = 1 + rng.IntN(3)
		}
		switch f.wt {
		case 2:
			b = appendField(b, f.num, 2, f.data, pad)
		case 3:
			b = appendTag(b, f.num, 3)
			b = append(b, f.data...)
			b = appendTag(b, f.num, 4)
		default:
			b = appendTag(b, f.num, f.wt)
			b = append(b, f.data...)
		}
	}
	return b
}

func appendTag(b []byte, num int32, wt int8) []byte {
	return appendVarint(b, uint64(num)<<3|uint64(wt), 0)
}

func appendField(b []byte, num int32, wt int8, data []byte, pad int) []byte {
	b = appendTag(b, num, wt)
	b = appendVarint(b, uint64(len(data)), pad)
	return append(b, data...)
}

func appendVarintField(b []byte, num int32, v uint64) []byte {
	return appendVarint(appendTag(b, num, 0), v, 0)
}

// appendVarint appends v as a varint, with pad needless continuation bytes
// (within ten bytes), which decoders must accept.
func appendVarint(b []byte, v uint64, pad int) []byte {
	var tmp []byte
	for v >= 0x80 {
		tmp = append(tmp, byte(v)|0x80)
		v >>= 7
	}
	tmp = append(tmp, byte(v))
	for ; pad > 0 && len(tmp) < 10; pad-- {
		tmp[len(tmp)-1] |= 0x80
		tmp = append(tmp, 0)
	}
	return append(b, tmp...)
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	for i := 0; i < len(b) && i < 10; i++ {
		x |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}

// Field appends a length-delimited field to b, for hand-made requests.
func Field(b []byte, num int32, data []byte) []byte { return appendField(b, num, 2, data, 0) }

// Varint appends a varint field to b.
func Varint(b []byte, num int32, v uint64) []byte { return appendVarintField(b, num, v) }

// Fixed64 appends a fixed64 field to b.
func Fixed64(b []byte, num int32, v uint64) []byte {
	b = appendTag(b, num, 1)
	for i := range 8 {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// Raw appends a tag of any wire type to b, for malformed requests.
func Raw(b []byte, num int32, wt int8) []byte { return appendTag(b, num, wt) }

// RawTag appends a tag given as a number, field number and wire type
// together, which may overflow what a field number holds.
func RawTag(b []byte, tag uint64) []byte { return appendVarint(b, tag, 0) }
