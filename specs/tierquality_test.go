package specs

import (
	"reflect"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// TestParseTierQuality: a tier's warm_up, hold and resolve_factor reach
// the engine's tier; left out, they stay zero, which the engine fills with
// its defaults (long/60 up to short, short, factor).
func TestParseTierQuality(t *testing.T) {
	doc := tierDoc("warm_up: 3m, hold: 20m, resolve_factor: 10") + "      - {name: u, severity: ticket, long: 3d, short: 6h, factor: 1}\n"
	set, err := Parse("x.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got := set.SLOs[0].Tiers
	want := []slo.Tier{
		{Name: "t", Severity: slo.Page, Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4, WarmUp: 3 * time.Minute, Hold: 20 * time.Minute, ResolveFactor: 10},
		{Name: "u", Severity: slo.Ticket, Long: 72 * time.Hour, Short: 6 * time.Hour, Factor: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tiers\n%+v, want\n%+v", got, want)
	}
	e, err := slo.NewEngine([]slo.Spec{set.SLOs[0]}, slo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if u := e.Specs()[0].Tiers[1]; u.WarmUp != 72*time.Minute || u.Hold != 6*time.Hour || u.ResolveFactor != 1 {
		t.Errorf("defaults of u: warm-up %v hold %v resolve factor %v, want 72m, 6h, 1", u.WarmUp, u.Hold, u.ResolveFactor)
	}
}
