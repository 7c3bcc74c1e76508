package otlpwire

import (
	"strings"
	"testing"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/specs"
)

// TestGroupedFlowNames: a span of a grouped flow gets the event flow
// Options.Group names; with no grouped flow, Group is never asked.
func TestGroupedFlowNames(t *testing.T) {
	var s seed
	for _, c := range seeds() {
		if c.name == "checkout" {
			s = c
		}
	}
	set, err := specs.Load(specFiles)
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	decode := func(cls *flows.Classifier) string {
		d := NewDecoder(cls, Options{Group: func(flow int, in *flows.Input) string {
			asked++
			return flows.GroupName(cls.Name(flow), cls.Spec(flow).GroupBy, cls.GroupValues(flow, in, nil))
		}})
		b := d.NewBatch()
		if err := d.DecodeProto(b, s.data); err != nil {
			t.Fatal(err)
		}
		if len(b.Events) != 1 {
			t.Fatalf("%d events", len(b.Events))
		}
		return b.Events[0].Flow
	}
	plain, err := flows.NewClassifier(set.Flows)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(plain); got != "checkout" || asked != 0 {
		t.Errorf("no grouped flow: %q, Group asked %d times; want checkout, never", got, asked)
	}
	for i := range set.Flows {
		if set.Flows[i].Name == "checkout" {
			set.Flows[i].GroupBy = []string{flows.KeySpanKind}
		}
	}
	grouped, err := flows.NewClassifier(set.Flows)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(grouped); !strings.HasPrefix(got, `checkout{span.kind="`) || asked != 1 {
		t.Errorf("checkout grouped by span.kind: %q, Group asked %d times", got, asked)
	}
}
