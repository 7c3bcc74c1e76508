package otlpwiretest

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
)

// node is a JSON value that keeps its objects' key order.
type node struct {
	obj  []member // an object when isObj
	arr  []node   // an array when isArr
	lit  json.RawMessage
	kind byte // 'o' object, 'a' array, 'l' literal
}

type member struct {
	key string
	val node
}

// ScrambleJSON rewrites an OTLP/JSON request: keys reordered (a resource
// after its spans), renamed between lowerCamelCase and the proto's
// snake_case, numbers written as strings or numbers and enums as names or
// numbers, ids in upper case, unknown keys inserted, whitespace added. The
// result reads as req does, but for what unknown keys can change: nothing.
func ScrambleJSON(rng *rand.Rand, req []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(req))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		return req
	}
	scrambleNode(rng, &n, "")
	var b bytes.Buffer
	writeNode(rng, &b, n)
	return b.Bytes()
}

func readNode(dec *json.Decoder) (node, error) {
	tok, err := dec.Token()
	if err != nil {
		return node{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			n := node{kind: 'o'}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return n, err
				}
				v, err := readNode(dec)
				if err != nil {
					return n, err
				}
				n.obj = append(n.obj, member{key: k.(string), val: v})
			}
			_, err := dec.Token()
			return n, err
		}
		n := node{kind: 'a'}
		for dec.More() {
			v, err := readNode(dec)
			if err != nil {
				return n, err
			}
			n.arr = append(n.arr, v)
		}
		_, err := dec.Token()
		return n, err
	}
	b, err := json.Marshal(tok)
	return node{kind: 'l', lit: b}, err
}

var enumNames = map[string][]string{
	"kind": {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"},
	"code": {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"},
}

// integer keys pdata reads from a number or a decimal string.
var integers = map[string]bool{
	"startTimeUnixNano": true, "endTimeUnixNano": true, "timeUnixNano": true, "intValue": true,
	"droppedAttributesCount": true, "droppedEventsCount": true, "droppedLinksCount": true, "flags": true,
}

var ids = map[string]bool{"traceId": true, "spanId": true, "parentSpanId": true}

func scrambleNode(rng *rand.Rand, n *node, key string) {
	switch n.kind {
	case 'a':
		for i := range n.arr {
			scrambleNode(rng, &n.arr[i], key)
		}
	case 'o':
		for i := range n.obj {
			m := &n.obj[i]
			scrambleNode(rng, &m.val, m.key)
			switch lit := string(m.val.lit); {
			case m.val.kind != 'l':
			case integers[m.key] && rng.IntN(2) == 0:
				if u, err := strconv.Unquote(lit); err == nil {
					m.val.lit = json.RawMessage(u) // "123" → 123
				} else {
					m.val.lit = json.RawMessage(strconv.Quote(lit)) // 123 → "123"
				}
			case enumNames[m.key] != nil && rng.IntN(2) == 0:
				if i, err := strconv.Atoi(lit); err == nil && i >= 0 && i < len(enumNames[m.key]) {
					m.val.lit = json.RawMessage(strconv.Quote(enumNames[m.key][i]))
				}
			case ids[m.key] && rng.IntN(3) == 0:
				m.val.lit = json.RawMessage(strings.ToUpper(lit))
			}
			if rng.IntN(3) == 0 {
				m.key = snake(m.key)
			}
		}
		if rng.IntN(4) == 0 {
			n.obj = append(n.obj, member{key: "unknownField", val: node{kind: 'l', lit: json.RawMessage(`{"a":[1,"x",null,{"b":true}]}`)}})
		}
		if rng.IntN(3) == 0 {
			rng.Shuffle(len(n.obj), func(i, j int) { n.obj[i], n.obj[j] = n.obj[j], n.obj[i] })
		}
	}
}

// snake is the proto field name of a lowerCamelCase JSON name.
func snake(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func writeNode(rng *rand.Rand, b *bytes.Buffer, n node) {
	space := func() {
		if rng.IntN(8) == 0 {
			b.WriteString(" \n\t")
		}
	}
	switch n.kind {
	case 'l':
		b.Write(n.lit)
	case 'a':
		b.WriteByte('[')
		for i, v := range n.arr {
			if i > 0 {
				b.WriteByte(',')
			}
			space()
			writeNode(rng, b, v)
		}
		b.WriteByte(']')
	case 'o':
		b.WriteByte('{')
		for i, m := range n.obj {
			if i > 0 {
				b.WriteByte(',')
			}
			space()
			k, _ := json.Marshal(m.key)
			b.Write(k)
			b.WriteByte(':')
			space()
			writeNode(rng, b, m.val)
		}
		b.WriteByte('}')
	}
}
