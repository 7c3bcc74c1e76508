package otlpwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// ErrMalformed is wrapped by every error that makes a whole request
// undecodable: the OTLP answer is 400 / InvalidArgument.
var ErrMalformed = errors.New("malformed OTLP request")

// Protobuf wire types.
const (
	wireVarint     = 0
	wireI64        = 1
	wireLen        = 2
	wireStartGroup = 3
	wireEndGroup   = 4
	wireI32        = 5
)

// maxDepth is how deep attribute values may nest (a key-value counts as a
// level, as do a value, an array and a key-value list), as in pdata.
const maxDepth = 100

var (
	errTruncated = fmt.Errorf("%w: unexpected end of data", ErrMalformed)
	errOverflow  = fmt.Errorf("%w: varint longer than 64 bits", ErrMalformed)
	errNegLength = fmt.Errorf("%w: negative length", ErrMalformed)
	errFieldZero = fmt.Errorf("%w: field number 0", ErrMalformed)
	errEndGroup  = fmt.Errorf("%w: end group without a start", ErrMalformed)
	errDepth     = fmt.Errorf("%w: attribute values nested deeper than %d", ErrMalformed, maxDepth)
	// errUnusedBadID: a span that is read but never used (deprecated scope
	// spans beside scope spans) has an id of the wrong length. Such a span
	// cannot be rejected on its own, as it is not counted; pdata refuses
	// the request, and so does the fast path.
	errUnusedBadID = fmt.Errorf("%w: an id of the wrong length in deprecated scope spans", ErrMalformed)
)

func errWireType(field string, wt int8) error {
	return fmt.Errorf("%w: wrong wire type %d for %s", ErrMalformed, wt, field)
}

// The helpers below accept and reject exactly what pdata's
// (internal/proto) do, so that both decoders agree on every input.

// varint reads a varint at pos. Like pdata, it takes up to ten bytes and
// ignores bits past the 64th.
func varint(buf []byte, pos int) (uint64, int, error) {
	if pos < len(buf) && buf[pos] < 0x80 {
		return uint64(buf[pos]), pos + 1, nil
	}
	return varintSlow(buf, pos)
}

func varintSlow(buf []byte, pos int) (uint64, int, error) {
	var x uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= 64 {
			return 0, 0, errOverflow
		}
		if pos >= len(buf) {
			return 0, 0, errTruncated
		}
		c := buf[pos]
		pos++
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x, pos, nil
		}
	}
}

// tag reads a field tag. The field number is the tag's top bits truncated
// to 32, as pdata reads it; zero or negative is malformed.
func tag(buf []byte, pos int) (int32, int8, int, error) {
	if pos < len(buf) && buf[pos] < 0x80 && buf[pos] >= 8 {
		return int32(buf[pos] >> 3), int8(buf[pos] & 7), pos + 1, nil
	}
	return tagSlow(buf, pos)
}

func tagSlow(buf []byte, pos int) (int32, int8, int, error) {
	t, pos, err := varint(buf, pos)
	if err != nil {
		return 0, 0, 0, err
	}
	field := int32(t >> 3)
	if field <= 0 {
		return 0, 0, 0, errFieldZero
	}
	return field, int8(t & 7), pos, nil
}

// length reads a length prefix and returns the bounds of what it covers.
func length(buf []byte, pos int) (start, end int, err error) {
	if pos < len(buf) && buf[pos] < 0x80 {
		if end := pos + 1 + int(buf[pos]); end <= len(buf) {
			return pos + 1, end, nil
		}
	}
	return lengthSlow(buf, pos)
}

func lengthSlow(buf []byte, pos int) (start, end int, err error) {
	n, pos, err := varint(buf, pos)
	if err != nil {
		return 0, 0, err
	}
	l := int(n)
	if l < 0 {
		return 0, 0, errNegLength
	}
	end = pos + l
	if end < 0 || end > len(buf) {
		return 0, 0, errTruncated
	}
	return pos, end, nil
}

// fixed64 reads a little-endian 64-bit value.
func fixed64(buf []byte, pos int) (uint64, int, error) {
	end := pos + 8
	if end < 0 || end > len(buf) {
		return 0, 0, errTruncated
	}
	return binary.LittleEndian.Uint64(buf[pos:end]), end, nil
}

// fixed32 skips a 32-bit value.
func fixed32(buf []byte, pos int) (int, error) {
	end := pos + 4
	if end < 0 || end > len(buf) {
		return 0, errTruncated
	}
	return end, nil
}

// skip skips an unknown field of wire type wt. Like pdata's, it skips a
// group only up to the first field in it that is not a group: what follows
// is read as fields of the enclosing message (and is usually malformed
// there). It is pdata's rule, kept so that both refuse the same requests.
func skip(buf []byte, pos int, wt int8) (int, error) {
	var err error
	depth := 0
	for pos < len(buf) {
		switch wt {
		case wireVarint:
			_, pos, err = varint(buf, pos)
			return pos, err
		case wireI64:
			_, pos, err = fixed64(buf, pos)
			return pos, err
		case wireLen:
			_, pos, err = length(buf, pos)
			return pos, err
		case wireStartGroup:
			depth++
		case wireEndGroup:
			if depth == 0 {
				return 0, errEndGroup
			}
			depth--
		case wireI32:
			return fixed32(buf, pos)
		default:
			return 0, fmt.Errorf("%w: illegal wire type %d", ErrMalformed, wt)
		}
		if depth == 0 {
			return pos, nil
		}
		if _, wt, pos, err = tag(buf, pos); err != nil {
			return 0, err
		}
	}
	return 0, errTruncated
}

// lenField reads a length-delimited field's bounds; name says which field
// for the error when the wire type is not length-delimited.
func lenField(buf []byte, pos int, wt int8, name string) (start, end int, err error) {
	if wt != wireLen {
		return 0, 0, errWireType(name, wt)
	}
	return length(buf, pos)
}

// varintField reads a varint field.
func varintField(buf []byte, pos int, wt int8, name string) (uint64, int, error) {
	if wt != wireVarint {
		return 0, 0, errWireType(name, wt)
	}
	return varint(buf, pos)
}

// fixed64Field reads a fixed64 (or double) field.
func fixed64Field(buf []byte, pos int, wt int8, name string) (uint64, int, error) {
	if wt != wireI64 {
		return 0, 0, errWireType(name, wt)
	}
	return fixed64(buf, pos)
}

// fixed32Field skips a fixed32 field.
func fixed32Field(buf []byte, pos int, wt int8, name string) (int, error) {
	if wt != wireI32 {
		return 0, errWireType(name, wt)
	}
	return fixed32(buf, pos)
}

// str makes a string of b without copying: it lives as long as the request
// buffer, which the caller keeps until it is done with what refers to it.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// bytesOf is s as a byte slice, without copying; it must not be written.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
