package otlpwire

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/burnwatch/burnwatch/receivers/otlpfastreceiver/internal/otlpwiretest"
)

// FuzzDecode checks the decoder against the upstream model on any input:
// both refuse it, or both make the same events and counts (the documented
// differences aside). Its corpus is testdata/fuzz/FuzzDecode; CI runs it for
// a while:
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 20s ./receivers/otlpfastreceiver/internal/otlpwire
func FuzzDecode(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s.data, s.isJSON)
	}
	ds := decoders(f)
	bs := map[string]*Batch{}
	for name, d := range ds {
		bs[name] = d.NewBatch()
	}
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		for name, d := range ds {
			if err := check(d, bs[name], data, isJSON); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	})
}

type seed struct {
	name   string
	data   []byte
	isJSON bool
}

// seeds are generated requests (plain and scrambled) and hand-made ones
// for each rule of the wire format the decoder shares with pdata.
func seeds() []seed {
	rng := rand.New(rand.NewPCG(7, 8))
	var out []seed
	for i := range 12 {
		pb, js := otlpwiretest.Request(rng, otlpwiretest.Options{MaxResources: 2, MaxSpans: 4, Annotations: true, Backwards: i%3 == 0})
		out = append(out,
			seed{fmt.Sprintf("generated-%d", i), pb, false},
			seed{fmt.Sprintf("generated-%d-json", i), js, true},
			seed{fmt.Sprintf("scrambled-%d", i), otlpwiretest.Scramble(rng, pb, otlpwiretest.ScrambleOptions{BadIDs: true, Loose: i%2 == 1}), false},
			seed{fmt.Sprintf("scrambled-%d-json", i), otlpwiretest.ScrambleJSON(rng, js), true})
	}
	w := otlpwiretest.Field
	v := otlpwiretest.Varint
	kv := func(k string, val []byte) []byte { return w(w(nil, 1, []byte(k)), 2, val) }
	str := func(s string) []byte { return w(nil, 1, []byte(s)) }
	req := func(rs ...[]byte) []byte {
		var b []byte
		for _, r := range rs {
			b = w(b, 1, r)
		}
		return b
	}
	server := func(extra ...[]byte) []byte {
		s := w(nil, 1, make([]byte, 16))
		s = w(s, 2, []byte{1, 2, 3, 4, 5, 6, 7, 8})
		s = v(s, 6, 2)
		s = otlpwiretest.Fixed64(s, 7, 1_000)
		s = otlpwiretest.Fixed64(s, 8, 2_000)
		s = w(s, 9, kv("http.route", str("/checkout/1")))
		for _, e := range extra {
			s = append(s, e...)
		}
		return s
	}
	shop := w(nil, 1, w(nil, 1, kv("service.name", str("shop"))))
	scopeOf := func(spans ...[]byte) []byte {
		var b []byte
		for _, s := range spans {
			b = w(b, 2, s)
		}
		return b
	}
	rs := func(extra ...[]byte) []byte {
		b := append([]byte(nil), shop...)
		for _, e := range extra {
			b = append(b, e...)
		}
		return b
	}
	hand := []seed{
		{"checkout", req(rs(w(nil, 2, scopeOf(server())))), false},
		{"resource-after-spans", req(append(w(nil, 2, scopeOf(server())), shop...)), false},
		{"deprecated-scope-spans", req(rs(w(nil, 1000, scopeOf(server())))), false},
		{"both-scope-spans", req(rs(w(nil, 2, scopeOf(server())), w(nil, 1000, scopeOf(server())))), false},
		{"end-before-start", req(rs(w(nil, 2, scopeOf(server(otlpwiretest.Fixed64(nil, 8, 500)))))), false},
		{"deprecated-short-span-id", req(rs(w(nil, 2, scopeOf(server())), w(nil, 1000, scopeOf(server(w(nil, 2, []byte{1})))))), false},
		{"short-trace-id", req(rs(w(nil, 2, scopeOf(server(w(nil, 1, []byte{1})), server())))), false},
		{"status-error-twice", req(rs(w(nil, 2, scopeOf(server(w(nil, 15, v(nil, 3, 2)), w(nil, 15, w(nil, 2, []byte("m")))))))), false},
		{"kind-high-bits", req(rs(w(nil, 2, scopeOf(server(v(nil, 6, 1<<32|2)))))), false},
		{"field-number-truncated", req(rs(w(nil, 2, scopeOf(server(append(otlpwiretest.RawTag(nil, (1<<32|6)<<3), 3)))))), false},
		{"repeated-key", req(rs(w(nil, 2, scopeOf(server(w(nil, 9, kv("http.route", str("/cart")))))), w(nil, 1, w(nil, 1, kv("service.name", str("x")))))), false},
		{"two-keys-one-kv", req(rs(w(nil, 2, scopeOf(server(w(nil, 9, w(kv("http.route", str("/checkout")), 1, []byte("tenant.id")))))))), false},
		{"value-fields-merge", req(rs(w(nil, 2, scopeOf(server(w(nil, 9, append(kv("tenant.id", str("acme")), w(nil, 2, v(nil, 3, 42))...))))))), false},
		{"deep-array", req(rs(w(nil, 2, scopeOf(server(w(nil, 9, kv("a", nest(120)))))))), false},
		{"group-then-field", req(rs(w(nil, 2, scopeOf(server(otlpwiretest.Raw(nil, 30, 3), otlpwiretest.Raw(nil, 30, 4)))))), false},
		{"stray-end-group", req(rs(w(nil, 2, scopeOf(server(otlpwiretest.Raw(nil, 30, 4), v(nil, 10, 1)))))), false},
		{"overlong-varint", append(otlpwiretest.Raw(nil, 20, 0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), false},
		{"too-long-varint", append(otlpwiretest.Raw(nil, 20, 0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), false},
		{"length-past-end", []byte{0x0a, 0x05, 0x0a}, false},
		{"field-zero", []byte{0x02, 0x00}, false},
		{"trusted", req(rs(w(nil, 2, scopeOf(server(w(nil, 9, kv("burnwatch.flow", str("login"))), w(nil, 9, kv("burnwatch.error", v(nil, 2, 1)))))))), false},
		{"empty", nil, false},
		{"empty-json", []byte("{}"), true},
		{"json-resource-after-spans", []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","kind":"SPAN_KIND_SERVER","startTimeUnixNano":"1000","endTimeUnixNano":2000,"attributes":[{"key":"http.route","value":{"stringValue":"/checkout"}}]}]}],"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]}}]}`), true},
		{"json-snake-case", []byte(`{"resource_spans":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"shop"}}]},"scope_spans":[{"spans":[{"kind":2,"start_time_unix_nano":1000,"end_time_unix_nano":"2000","status":{"code":"STATUS_CODE_ERROR"},"attributes":[{"key":"http.route","value":{"string_value":"/checkout"}}]}]}]}]}`), true},
		{"json-bad-id", []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","kind":2},{"traceId":"0102","kind":2},{"kind":2}]}]}]}`), true},
		{"json-deprecated-bad-id", []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":2}]}],"deprecatedScopeSpans":[{"spans":[{"spanId":"01","kind":2}]}]}]}`), true},
		{"json-empty-key", []byte(`{"resourceSpans":[{"":1,"scopeSpans":[]}]}`), true},
		{"json-null", []byte(`{"resourceSpans":null}`), true},
		{"json-garbage", []byte("\xff\xfe{not json"), true},
		{"json-deep", []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"a","value":` + deepJSON(120) + `}]}]}]}]}`), true},
	}
	return append(out, hand...)
}

// nest is an AnyValue of arrays n deep.
func nest(n int) []byte {
	b := otlpwiretest.Varint(nil, 3, 1)
	for range n {
		b = otlpwiretest.Field(nil, 5, otlpwiretest.Field(nil, 1, b))
	}
	return b
}

func deepJSON(n int) string {
	s := `{"intValue":"1"}`
	for range n {
		s = `{"arrayValue":{"values":[` + s + `]}}`
	}
	return s
}

var writeCorpus = flag.Bool("write-corpus", false, "write the seeds to testdata/fuzz/FuzzDecode")

// TestSeeds runs every seed through check, and with -write-corpus writes
// them as the checked-in corpus.
func TestSeeds(t *testing.T) {
	ds := decoders(t)
	for _, s := range seeds() {
		for name, d := range ds {
			if err := check(d, d.NewBatch(), s.data, s.isJSON); err != nil {
				t.Errorf("%s, %s: %v", s.name, name, err)
			}
		}
		if *writeCorpus {
			dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbool(%t)\n", s.data, s.isJSON)
			if err := os.WriteFile(filepath.Join(dir, "seed-"+s.name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
