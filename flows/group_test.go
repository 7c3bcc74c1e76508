package flows

import "testing"

// TestGroupValues: a flow's GroupBy keys read the span's attribute, else
// the resource's, and pseudo keys; GroupName writes them as a series.
func TestGroupValues(t *testing.T) {
	c, err := NewClassifier([]Spec{
		{Name: "plain", Match: []Rule{{Attribute: "service.name", Op: OpEquals, Value: "a"}}},
		{Name: "api", Match: []Rule{{Attribute: "service.name", Op: OpEquals, Value: "shop"}},
			GroupBy: []string{"http.route", "region", KeySpanKind}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Grouped(0) || !c.Grouped(1) {
		t.Fatalf("grouped: plain %v, api %v", c.Grouped(0), c.Grouped(1))
	}
	in := &Input{Kind: SpanKindServer, Span: make([]Value, len(c.Keys())), Resource: make([]Value, len(c.Keys()))}
	for i, k := range c.Keys() {
		switch k {
		case "service.name":
			in.Resource[i] = StrValue("shop")
		case "http.route":
			in.Span[i] = StrValue(`/a "b"`)
		case "region":
			in.Resource[i] = IntValue(7) // the span lacks it: the resource's
		}
	}
	vals := c.GroupValues(1, in, nil)
	if len(vals) != 3 || vals[0].Str != `/a "b"` || vals[1].Int != 7 || vals[2].Str != "server" {
		t.Fatalf("values %+v", vals)
	}
	keys := c.Spec(1).GroupBy
	if got, want := GroupName("api", keys, vals), `api{http.route="/a \"b\"",region="7",span.kind="server"}`; got != want {
		t.Errorf("name %s, want %s", got, want)
	}
	vals[1] = Value{}
	if got, want := GroupName("api", keys, vals), `api{http.route="/a \"b\"",span.kind="server"}`; got != want {
		t.Errorf("name without region %s, want %s", got, want)
	}
	if got := GroupName("api", keys[:1], []Value{{}}); got != "api" {
		t.Errorf("name with no value %s, want the flow's", got)
	}
	for v, want := range map[Value]string{DoubleValue(0.5): "0.5", BoolValue(true): "true", IntValue(-3): "-3", {Kind: ValueOther}: ""} {
		if got := v.Text(); got != want {
			t.Errorf("%+v: text %q, want %q", v, got, want)
		}
	}
}
