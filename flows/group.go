package flows

import (
	"strconv"
	"strings"
)

// groupByKey is one GroupBy key of a flow: an index into Classifier.Keys, or
// a pseudo key.
type groupByKey struct {
	pseudo pseudoKey
	key    int
}

// Grouped says flow i is split by GroupBy keys.
func (c *Classifier) Grouped(i int) bool { return len(c.groups[i]) > 0 }

// AnyGrouped says some flow is split by GroupBy keys, so that producers
// can skip the question per span when none is.
func (c *Classifier) AnyGrouped() bool { return c.grouped }

// GroupValues appends to dst the values of flow i's GroupBy keys for the
// span, in GroupBy order (ValueAbsent where the span and its resource lack
// one). It does not allocate when dst has room.
func (c *Classifier) GroupValues(i int, in *Input, dst []Value) []Value {
	for _, g := range c.groups[i] {
		dst = append(dst, lookup(g.pseudo, g.key, in))
	}
	return dst
}

// GroupName is the name of the group of flow that vals (the values of its
// keys) select: the flow's name followed by its keys and values in the
// notation of a Prometheus series, `checkout{http.route="/cart"}`. A key
// the span lacks is left out; with none present the name is the flow's
// own, and the span stays in the flow itself.
func GroupName(flow string, keys []string, vals []Value) string {
	var b strings.Builder
	n := 0
	for i, v := range vals {
		if v.Kind == ValueAbsent {
			continue
		}
		if n == 0 {
			b.WriteString(flow)
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		n++
		b.WriteString(keys[i])
		b.WriteByte('=')
		b.WriteString(strconv.Quote(v.Text()))
	}
	if n == 0 {
		return flow
	}
	b.WriteByte('}')
	return b.String()
}

// Text is the value as people write it: a string as is, numbers as pdata's
// AsString writes them, true or false; empty for an absent or other value.
func (v Value) Text() string {
	switch v.Kind {
	case ValueStr:
		return v.Str
	case ValueInt:
		return strconv.FormatInt(v.Int, 10)
	case ValueDouble:
		return string(appendDouble(nil, v.Double))
	case ValueBool:
		return strconv.FormatBool(v.Bool)
	}
	return ""
}
