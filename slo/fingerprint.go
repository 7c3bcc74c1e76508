package slo

// fingerprint is 64-bit FNV-1a.
type fingerprint struct{ h uint64 }

func newFingerprint() fingerprint { return fingerprint{h: 14695981039346656037} }

func (f *fingerprint) int(v int64) {
	for i := range 8 {
		f.h ^= uint64(byte(v >> (8 * i)))
		f.h *= 1099511628211
	}
}

func (f *fingerprint) str(s string) {
	f.int(int64(len(s)))
	for i := range len(s) {
		f.h ^= uint64(s[i])
		f.h *= 1099511628211
	}
}

func (f *fingerprint) sum() uint64 { return f.h }
