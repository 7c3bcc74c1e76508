package app

import "testing"

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ByteSize
		err  bool
	}{
		{"64MiB", 64 << 20, false}, {"512 KiB", 512 << 10, false}, {"1GiB", 1 << 30, false}, {"10MB", 10e6, false},
		{"4096", 4096, false}, {"100B", 100, false}, {"-1", -1, false},
		{"1.5GiB", 0, true}, {"lots", 0, true}, {"64Mb", 0, true}, {"9999999TiB", 0, true},
	} {
		var b ByteSize
		err := b.UnmarshalText([]byte(tc.in))
		if (err != nil) != tc.err || (!tc.err && b != tc.want) {
			t.Errorf("%q: %v, %v; want %v (error %v)", tc.in, b, err, tc.want, tc.err)
		}
	}
	if s := ByteSize(64 << 20).String(); s != "64MiB" {
		t.Errorf("String = %s", s)
	}
}
