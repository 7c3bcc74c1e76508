package otlpwire

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/receivers/otlpfastreceiver/internal/otlpwiretest"
	"github.com/burnwatch/burnwatch/specs"
)

// specFiles are the receiver's test flows: every operator, span and
// resource attributes, span name and kind.
const specFiles = "../../testdata/specs/*.yaml"

func testClassifier(tb testing.TB, patterns ...string) *flows.Classifier {
	tb.Helper()
	if len(patterns) == 0 {
		patterns = []string{specFiles}
	}
	set, err := specs.Load(patterns...)
	if err != nil {
		tb.Fatal(err)
	}
	cls, err := set.Classifier()
	if err != nil {
		tb.Fatal(err)
	}
	return cls
}

// decoders are the ways a receiver may be set up: trusting annotations or
// not, and with many keys (looked up in a map) or few (scanned).
func decoders(tb testing.TB) map[string]*Decoder {
	tb.Helper()
	many := testClassifier(tb)
	few, err := flows.NewClassifier([]flows.Spec{
		{Name: "checkout", EntryOnly: true, Match: []flows.Rule{{Attribute: "service.name", Op: flows.OpEquals, Value: "shop"}},
			Errors: flows.DefaultErrors()},
		{Name: "routes", Match: []flows.Rule{{Attribute: "http.route", Op: flows.OpRegex, Value: "/.*"}}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return map[string]*Decoder{
		"many keys":          NewDecoder(many, Options{}),
		"many keys, trusted": NewDecoder(many, Options{TrustAnnotations: true}),
		"few keys":           NewDecoder(few, Options{}),
		"few keys, trusted":  NewDecoder(few, Options{TrustAnnotations: true}),
	}
}

// check decodes data with d and with the upstream model and says how they
// differ, if they do in a way not documented.
func check(d *Decoder, b *Batch, data []byte, isJSON bool) error {
	var err error
	if isJSON {
		err = d.DecodeJSON(b, data)
	} else {
		err = d.DecodeProto(b, data)
	}
	want, werr := upstream(d.cls, d.trust, data, isJSON)
	switch {
	case werr != nil && err != nil:
		if !errors.Is(err, ErrMalformed) {
			return fmt.Errorf("error %v does not wrap ErrMalformed", err)
		}
		return nil
	case werr != nil:
		// The one thing pdata refuses and the fast path takes: ids of the
		// wrong length (or not hex), whose spans alone it rejects.
		if b.Counts.InvalidID == 0 {
			return fmt.Errorf("pdata refuses the request (%v), the fast path takes it: %d events, counts %+v", werr, len(b.Events), b.Counts)
		}
		return nil
	case err != nil:
		if isJSON && errors.Is(err, errDepth) && jsonDepth(data) >= maxDepth {
			return nil // the limit pdata's JSON decoder does not have
		}
		return fmt.Errorf("the fast path refuses a request pdata takes: %v", err)
	}
	got := upstreamResult{events: b.Events, flow: b.Flow, counts: b.Counts}
	if len(got.events) == 0 {
		got.events, got.flow = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("fast path:\n%+v\nupstream:\n%+v", got, want)
	}
	return nil
}

// TestEquivalence: for generated requests, and for the same requests
// scrambled (fields reordered, unknown fields and groups, split messages,
// repeated attributes, padded varints; JSON keys reordered and renamed,
// numbers as strings, enums as names), the fast path makes exactly the
// upstream path's events and counts.
func TestEquivalence(t *testing.T) {
	const requests = 400
	for name, d := range decoders(t) {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			b := d.NewBatch()
			events := 0
			for i := range requests {
				o := otlpwiretest.Options{Backwards: i%2 == 0, Annotations: i%3 != 0, Huge: i%17 == 0}
				pb, js := otlpwiretest.Request(rng, o)
				for _, c := range []struct {
					what   string
					data   []byte
					isJSON bool
				}{
					{"protobuf", pb, false},
					{"json", js, true},
					{"scrambled protobuf", otlpwiretest.Scramble(rng, pb, otlpwiretest.ScrambleOptions{}), false},
					{"scrambled json", otlpwiretest.ScrambleJSON(rng, js), true},
				} {
					if err := check(d, b, c.data, c.isJSON); err != nil {
						t.Fatalf("request %d, %s: %v", i, c.what, err)
					}
					if _, err := upstream(d.cls, d.trust, c.data, c.isJSON); err != nil {
						t.Fatalf("request %d, %s: pdata refuses it (%v): the scrambler should keep requests valid", i, c.what, err)
					}
					events += len(b.Events)
				}
			}
			if events < requests/4 {
				t.Errorf("only %d events from %d requests: the generator misses the flows", events, requests)
			}
		})
	}
}

// TestEquivalenceLoose: scrambled past what pdata accepts (wire types it
// refuses, cut messages, ids of the wrong length), both paths refuse the
// same requests, but for the spans with bad ids the fast path rejects
// alone.
func TestEquivalenceLoose(t *testing.T) {
	d := decoders(t)["many keys"]
	b := d.NewBatch()
	rng := rand.New(rand.NewPCG(3, 4))
	refused, badIDs := 0, 0
	for i := range 1000 {
		pb, _ := otlpwiretest.Request(rng, otlpwiretest.Options{Annotations: true})
		data := otlpwiretest.Scramble(rng, pb, otlpwiretest.ScrambleOptions{BadIDs: true, Loose: i%2 == 0})
		if err := check(d, b, data, false); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if _, err := upstream(d.cls, false, data, false); err != nil {
			refused++
		}
		badIDs += b.Counts.InvalidID
	}
	if refused == 0 || badIDs == 0 {
		t.Errorf("the scrambler made %d requests pdata refuses and %d bad ids: it tests nothing", refused, badIDs)
	}
}
