package otlpwire

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestHandMade pins what the decoder makes of the hand-made seeds, on top
// of their agreement with the upstream model (TestSeeds).
func TestHandMade(t *testing.T) {
	bySeed := map[string]seed{}
	for _, s := range seeds() {
		bySeed[s.name] = s
	}
	type want struct {
		flows   []string // the events' flows
		errs    []bool   // and whether each is an error
		counts  Counts
		invalid error // when the request is malformed
	}
	one := func(flow string, isErr bool) want {
		return want{flows: []string{flow}, errs: []bool{isErr}, counts: Counts{Received: 1, Entry: 1}}
	}
	tests := []struct {
		seed    string
		trusted bool
		want    want
	}{
		{seed: "checkout", want: one("checkout", false)},
		{seed: "resource-after-spans", want: one("checkout", false)},
		{seed: "deprecated-scope-spans", want: one("checkout", false)},
		{seed: "both-scope-spans", want: one("checkout", false)}, // the deprecated field is ignored
		{seed: "end-before-start", want: want{counts: Counts{EndBeforeStart: 1}}},
		{seed: "short-trace-id", want: want{flows: []string{"checkout"}, errs: []bool{false}, counts: Counts{Received: 1, Entry: 1, InvalidID: 1}}},
		{seed: "status-error-twice", want: one("checkout", true)}, // the second status has no code: they merge
		{seed: "kind-high-bits", want: one("checkout", false)},
		{seed: "repeated-key", want: one("checkout", false)},
		{seed: "trusted", want: one("checkout", false)},
		{seed: "trusted", trusted: true, want: want{flows: []string{"login"}, errs: []bool{true}, counts: Counts{Received: 1}}},
		{seed: "deep-array", want: want{invalid: errDepth}},
		{seed: "stray-end-group", want: want{invalid: errEndGroup}},
		{seed: "too-long-varint", want: want{invalid: errOverflow}},
		{seed: "length-past-end", want: want{invalid: errTruncated}},
		{seed: "field-zero", want: want{invalid: errFieldZero}},
		{seed: "empty", want: want{}},
		{seed: "empty-json", want: want{}},
		{seed: "json-resource-after-spans", want: one("checkout", false)},
		{seed: "json-snake-case", want: one("checkout", true)},
		{seed: "json-bad-id", want: want{counts: Counts{Received: 1, Entry: 1, Unmatched: 1, InvalidID: 2}}},
		{seed: "json-garbage", want: want{invalid: ErrMalformed}},
		{seed: "json-deep", want: want{invalid: errDepth}},
	}
	cls := testClassifier(t)
	for _, tt := range tests {
		name := tt.seed
		if tt.trusted {
			name += "/trusted"
		}
		t.Run(name, func(t *testing.T) {
			s, ok := bySeed[tt.seed]
			if !ok {
				t.Fatalf("no seed %q", tt.seed)
			}
			d := NewDecoder(cls, Options{TrustAnnotations: tt.trusted})
			b := d.NewBatch()
			var err error
			if s.isJSON {
				err = d.DecodeJSON(b, s.data)
			} else {
				err = d.DecodeProto(b, s.data)
			}
			if tt.want.invalid != nil {
				if !errors.Is(err, tt.want.invalid) || !errors.Is(err, ErrMalformed) {
					t.Fatalf("error = %v, want %v", err, tt.want.invalid)
				}
				if len(b.Events) != 0 || b.Counts != (Counts{}) {
					t.Errorf("a refused request left %d events, counts %+v", len(b.Events), b.Counts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Counts != tt.want.counts {
				t.Errorf("counts = %+v, want %+v", b.Counts, tt.want.counts)
			}
			if len(b.Events) != len(tt.want.flows) {
				t.Fatalf("%d events %+v, want flows %v", len(b.Events), b.Events, tt.want.flows)
			}
			for i, ev := range b.Events {
				if ev.Flow != tt.want.flows[i] || ev.Error != tt.want.errs[i] {
					t.Errorf("event %d = %s error %t, want %s error %t", i, ev.Flow, ev.Error, tt.want.flows[i], tt.want.errs[i])
				}
			}
		})
	}
}

// TestEventFields: an event carries the span's end, duration, ids.
func TestEventFields(t *testing.T) {
	var s seed
	for _, c := range seeds() {
		if c.name == "checkout" {
			s = c
		}
	}
	d := NewDecoder(testClassifier(t), Options{})
	b := d.NewBatch()
	if err := d.DecodeProto(b, s.data); err != nil {
		t.Fatal(err)
	}
	ev := b.Events[0]
	if ev.End != 2000 || ev.Duration != time.Microsecond || ev.SpanID != [8]byte{1, 2, 3, 4, 5, 6, 7, 8} || ev.TraceID != [16]byte{} {
		t.Errorf("event = %+v", ev)
	}
	if b.Flow[0] != 0 {
		t.Errorf("flow index = %d, want 0 (checkout)", b.Flow[0])
	}
}

// TestUnusedBadIDError: a request refused for a bad id in deprecated scope
// spans says why, once, in protobuf and in JSON.
func TestUnusedBadIDError(t *testing.T) {
	d := decoders(t)["many keys"]
	for _, s := range seeds() {
		if s.name != "deprecated-short-span-id" && s.name != "json-deprecated-bad-id" {
			continue
		}
		b := d.NewBatch()
		err := d.DecodeProto(b, s.data)
		if s.isJSON {
			err = d.DecodeJSON(b, s.data)
		}
		if !errors.Is(err, ErrMalformed) || strings.Count(err.Error(), "malformed OTLP request") != 1 ||
			!strings.Contains(err.Error(), "deprecated scope spans") {
			t.Errorf("%s: %v, want one malformed request naming the deprecated scope spans", s.name, err)
		}
	}
}
