package slo

import (
	"encoding"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

func appendStats(b []byte, st Stats) []byte {
	for _, v := range [...]uint64{st.Events, st.Late, st.TooLate, st.Future, st.Overflow} {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

func appendTime(b []byte, t int64) []byte {
	if t == noTime {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), t)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendHist(b []byte, h *sketch.Histogram) []byte {
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	b, _ = h.AppendBinary(b) // never fails
	binary.LittleEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

// appendValues appends latencies (never negative) for decoder.values.
func appendValues(b []byte, vs []int64) []byte {
	b = binary.AppendUvarint(b, uint64(len(vs)))
	for _, v := range vs {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return b
}

func appendExemplars(b []byte, x *exemplars) []byte {
	b = binary.AppendUvarint(b, uint64(x.n))
	for _, ex := range x.ex[:x.n] {
		b = append(b, ex.TraceID[:]...)
		b = append(b, ex.SpanID[:]...)
		b = binary.AppendVarint(b, ex.End)
		b = binary.AppendVarint(b, int64(ex.Duration))
	}
	return b
}

// decoder reads an encoding and remembers the first error; once it has
// failed every read returns zero, so decoding code checks once at the end
// of a record.
type decoder struct {
	b   []byte
	err error
	// version is the encoding's, read by header.
	version uint64
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorruptState, fmt.Sprintf(format, args...))
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated or overlong varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("truncated or overlong varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) flag() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("flag is neither 0 nor 1")
	return false
}

func (d *decoder) raw(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	r := d.b[:n:n]
	d.b = d.b[n:]
	return r
}

func (d *decoder) fixed64() uint64 {
	r := d.raw(8)
	if r == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(r)
}

// count reads a number of items that take at least size bytes each, so a
// corrupt count cannot make a caller allocate more than the input holds.
func (d *decoder) count(size int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/size) {
		d.fail("count %d exceeds the %d bytes left", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) str() string { return string(d.raw(d.count(1))) }

func (d *decoder) time() int64 {
	if !d.flag() {
		return noTime
	}
	t := d.varint()
	if t == noTime {
		d.fail("time out of range")
	}
	return t
}

func (d *decoder) hist(h encoding.BinaryUnmarshaler) {
	r := d.raw(4)
	if r == nil {
		return
	}
	body := d.raw(int(binary.LittleEndian.Uint32(r)))
	if d.err != nil {
		return
	}
	if err := h.UnmarshalBinary(body); err != nil {
		d.fail("histogram: %v", err)
	}
}

// entry reads a delta's latency entry into h: a histogram, or from
// version 4 on either that or the latencies to record (appendDelta).
func (d *decoder) entry(h *sketch.Histogram) {
	if d.version < 4 {
		d.hist(h)
		return
	}
	switch kind := d.byte(); kind {
	case entryHist:
		d.hist(h)
	case entryValues:
		n := d.count(1)
		if n == 0 {
			d.fail("no values")
		}
		for range n {
			v := d.uvarint()
			if v > math.MaxInt64 {
				d.fail("latency %d", v)
			}
			if d.err != nil {
				return
			}
			h.Record(int64(v))
		}
	default:
		d.fail("latency entry kind %d", kind)
	}
}

func (d *decoder) stats() Stats {
	return Stats{Events: d.uvarint(), Late: d.uvarint(), TooLate: d.uvarint(), Future: d.uvarint(), Overflow: d.uvarint()}
}

func (d *decoder) exemplars(x *exemplars) {
	n := d.count(26)
	if n > maxExemplars {
		d.fail("%d exemplars, at most %d", n, maxExemplars)
		return
	}
	x.n = n
	for i := range n {
		ex := &x.ex[i]
		copy(ex.TraceID[:], d.raw(16))
		copy(ex.SpanID[:], d.raw(8))
		ex.End = d.varint()
		ex.Duration = time.Duration(d.varint())
	}
	for i := 1; i < n; i++ {
		if x.ex[i].End > x.ex[i-1].End {
			d.fail("exemplars out of order")
		}
	}
}

// header checks the magic and version: this one, or an older one the
// decoder still reads (see the encodings in persist.go).
func (d *decoder) header(magic string) {
	if string(d.raw(len(magic))) != magic {
		d.fail("not a %q record", magic)
		return
	}
	d.version = d.uvarint()
	if (d.version < 1 || d.version > encodingVersion) && d.err == nil {
		d.fail("version %d, want 1 to %d", d.version, encodingVersion)
	}
}
