package app

import (
	"fmt"
	"strconv"
	"strings"
)

// ByteSize is a size in a config, written as people write sizes: 64MiB,
// 512KiB, 1GiB, 10MB, or a plain number of bytes. A negative size turns
// the limit it sets off.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	size   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// UnmarshalText reads a size with its unit.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	mult := int64(1)
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(n), u.size
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || (n > 0 && n > (1<<62)/mult) {
		return fmt.Errorf("%q is not a size: write a whole number with KiB, MiB, GiB (or KB, MB, GB, B), e.g. 64MiB", string(text))
	}
	*b = ByteSize(n * mult)
	return nil
}

// String writes the size with the largest binary unit that divides it.
func (b ByteSize) String() string {
	for i := 3; i >= 0; i-- {
		u := byteUnits[i]
		if b != 0 && int64(b)%u.size == 0 {
			return strconv.FormatInt(int64(b)/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}
