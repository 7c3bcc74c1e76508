package specs

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/slo"
)

// Default alert names and settings of the conditions beyond the tiers.
const (
	noDataName = "no-data"
	// defaultExhaustionWindow is the burn window an exhaustion alert
	// projects from when it names none: the page-fast long window.
	defaultExhaustionWindow = time.Hour
)

// alerting reads spec.alerting into s and returns where each annotation is
// written.
func (p *parser) alerting(n *yaml.Node, s *slo.Spec) map[string]position {
	f, ok := p.fields(n, "spec.alerting", "min_events", "disable", "tiers", "budget", "exhaustion", "no_data", "labels", "annotations")
	if !ok {
		return nil
	}
	if m := f["min_events"]; m != nil {
		s.MinEvents, _ = p.count(m, "spec.alerting.min_events")
	}
	p.tiers(f, s)
	// Every alert of an SLO is keyed (SLO, name), so names are unique
	// across tiers and conditions; owners says who has a name, for the
	// message about a clash.
	owners := make(map[string]string, len(s.Tiers)+1)
	for _, t := range s.Tiers {
		owners[t.Name] = "tier " + t.Name
	}
	if b := f["budget"]; b != nil {
		if items, ok := p.list(b, "spec.alerting.budget"); ok {
			for i, item := range items {
				path := index("spec.alerting.budget", i)
				a, nameAt, ok := p.budgetAlert(item, path)
				if ok && p.claim(owners, a.Name, path, nameAt) {
					s.BudgetAlerts = append(s.BudgetAlerts, a)
				}
			}
		}
	}
	if e := f["exhaustion"]; e != nil {
		if items, ok := p.list(e, "spec.alerting.exhaustion"); ok {
			for i, item := range items {
				path := index("spec.alerting.exhaustion", i)
				a, nameAt, ok := p.exhaustionAlert(item, path, s.Period)
				if ok && p.claim(owners, a.Name, path, nameAt) {
					s.ExhaustionAlerts = append(s.ExhaustionAlerts, a)
				}
			}
		}
	}
	if nd := f["no_data"]; nd != nil {
		p.noData(nd, s, owners)
	}
	if l := f["labels"]; l != nil {
		s.AlertLabels = p.labels(l, "spec.alerting.labels", true)
	}
	var annotationsAt map[string]position
	if a := f["annotations"]; a != nil {
		s.AlertAnnotations, annotationsAt = p.annotations(a, "spec.alerting.annotations")
	}
	return annotationsAt
}

// claim gives name to the alert at path, or reports that another alert of
// the SLO has it. n is the alert's name, or the alert itself when its name
// is a default.
func (p *parser) claim(owners map[string]string, name, path string, n *yaml.Node) bool {
	if other, taken := owners[name]; taken {
		at := path
		if n.Kind == yaml.ScalarNode {
			at = join(path, "name")
		}
		p.errorf(n, at, "alert name %q is already used by %s (names are unique per SLO across tiers, budget, exhaustion and no_data alerts; set name: to tell them apart)", name, other)
		return false
	}
	owners[name] = path
	return true
}

// alertName reads the name of the alert n, or gives it def when it names
// none; at is where to report a name clash (the name, or n for a default).
func (p *parser) alertName(f map[string]*yaml.Node, n *yaml.Node, path, def string) (name string, at *yaml.Node, ok bool) {
	v := f["name"]
	if v == nil {
		return def, n, true
	}
	name, ok = p.name(v, join(path, "name"))
	return name, v, ok
}

// budgetAlert reads one spec.alerting.budget item; nameAt is where to
// report a name clash (the name, or the item when the name is a default).
func (p *parser) budgetAlert(n *yaml.Node, path string) (a slo.BudgetAlert, nameAt *yaml.Node, good bool) {
	f, ok := p.fields(n, path, "name", "consumed", "severity")
	if !ok {
		return a, n, false
	}
	good = true
	a.Severity = slo.Ticket
	var pct float64
	if v := f["consumed"]; v == nil {
		p.errorf(n, join(path, "consumed"), "missing: the percentage of the period's error budget spent that fires the alert, e.g. consumed: 50")
		good = false
	} else if pct, ok = p.consumed(v, join(path, "consumed")); ok {
		a.Consumed = share(v, pct)
	} else {
		good = false
	}
	if v := f["severity"]; v != nil {
		a.Severity, ok = p.severity(v, join(path, "severity"))
		good = good && ok
	}
	// The default name has the percentage as read, not Consumed*100:
	// 0.07*100 is 7.000000000000001. Equal percentages give equal names
	// however they are written, so the alert's fingerprint survives "50.0"
	// becoming "50".
	a.Name, nameAt, ok = p.alertName(f, n, path, fmt.Sprintf("budget-%g", pct))
	return a, nameAt, good && ok
}

// consumed reads a budget share as a percentage in (0, 100].
func (p *parser) consumed(n *yaml.Node, path string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && strings.HasSuffix(strings.TrimSpace(n.Value), "%") {
		p.errorf(n, path, "%q: write the percentage as a plain number, e.g. consumed: 50 for 50%%", n.Value)
		return 0, false
	}
	pct, ok := p.number(n, path)
	if !ok {
		return 0, false
	}
	if !(pct > 0 && pct <= 100) {
		p.errorf(n, path, "%s is not a percentage in (0, 100] (e.g. 50 for half the budget)", n.Value)
		return 0, false
	}
	return pct, true
}

// exhaustionAlert reads one spec.alerting.exhaustion item, like
// budgetAlert.
func (p *parser) exhaustionAlert(n *yaml.Node, path string, period time.Duration) (a slo.ExhaustionAlert, nameAt *yaml.Node, good bool) {
	f, ok := p.fields(n, path, "name", "within", "window", "severity")
	if !ok {
		return a, n, false
	}
	good = true
	a.Severity = slo.Ticket
	if v := f["within"]; v == nil {
		p.errorf(n, join(path, "within"), "missing: alert when the budget left runs out within this long, e.g. within: 1d")
		good = false
	} else {
		a.Within, ok = p.duration(v, join(path, "within"))
		good = good && ok
	}
	a.Window = defaultExhaustionWindow
	windowAt := n
	if v := f["window"]; v != nil {
		windowAt = v
		a.Window, ok = p.duration(v, join(path, "window"))
		good = good && ok
	}
	if a.Window > period {
		p.errorf(windowAt, join(path, "window"), "%s is longer than the period %s", FormatDuration(a.Window), FormatDuration(period))
		good = false
	}
	if v := f["severity"]; v != nil {
		a.Severity, ok = p.severity(v, join(path, "severity"))
		good = good && ok
	}
	a.Name, nameAt, ok = p.alertName(f, n, path, "exhaustion-"+FormatDuration(a.Within))
	return a, nameAt, good && ok
}

func (p *parser) noData(n *yaml.Node, s *slo.Spec, owners map[string]string) {
	const path = "spec.alerting.no_data"
	f, ok := p.fields(n, path, "after", "severity")
	if !ok {
		return
	}
	good := true
	var after time.Duration
	if v := f["after"]; v == nil {
		p.errorf(n, join(path, "after"), "missing: how long the flow may send no events before the alert fires, e.g. after: 10m")
		good = false
	} else {
		after, ok = p.duration(v, join(path, "after"))
		good = good && ok
	}
	sev := slo.Ticket
	if v := f["severity"]; v != nil {
		sev, ok = p.severity(v, join(path, "severity"))
		good = good && ok
	}
	if good && p.claim(owners, noDataName, path, n) {
		s.NoData, s.NoDataSeverity = after, sev
	}
}

// tiers reads spec.alerting.tiers and spec.alerting.disable into s.Tiers.
func (p *parser) tiers(f map[string]*yaml.Node, s *slo.Spec) {
	// Tiers with errors are already reported; disabling one is not a second
	// mistake.
	var broken []string
	if t := f["tiers"]; t != nil {
		if items, ok := p.list(t, "spec.alerting.tiers"); ok {
			s.Tiers = make([]slo.Tier, 0, len(items))
			seen := map[string]bool{}
			for i, item := range items {
				path := index("spec.alerting.tiers", i)
				tier, ok := p.tier(item, path, s.Period)
				if !ok {
					if tier.Name != "" {
						broken = append(broken, tier.Name)
					}
					continue
				}
				if seen[tier.Name] {
					p.errorf(item, join(path, "name"), "tier %q is given twice", tier.Name)
					continue
				}
				seen[tier.Name] = true
				s.Tiers = append(s.Tiers, tier)
			}
		}
	}
	if d := f["disable"]; d != nil {
		items, ok := p.list(d, "spec.alerting.disable")
		if !ok {
			return
		}
		drop := map[string]bool{}
		for i, item := range items {
			path := index("spec.alerting.disable", i)
			name, ok := p.scalar(item, path)
			if !ok {
				continue
			}
			if slices.Contains(broken, name) {
				continue
			}
			if !slices.ContainsFunc(s.Tiers, func(t slo.Tier) bool { return t.Name == name }) {
				p.errorf(item, path, "no tier %q (tiers: %s)", name, tierNames(s.Tiers, broken))
				continue
			}
			drop[name] = true
		}
		// Keep Tiers non-nil even when every tier is dropped: nil means
		// "the default tiers" to the engine.
		kept := make([]slo.Tier, 0, len(s.Tiers))
		for _, t := range s.Tiers {
			if !drop[t.Name] {
				kept = append(kept, t)
			}
		}
		s.Tiers = kept
	}
}

func tierNames(tiers []slo.Tier, broken []string) string {
	var names []string
	for _, t := range tiers {
		names = append(names, t.Name)
	}
	names = append(names, broken...)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (p *parser) tier(n *yaml.Node, path string, period time.Duration) (slo.Tier, bool) {
	f, ok := p.fields(n, path, "name", "severity", "long", "short", "factor", "min_events", "warm_up", "hold", "resolve_factor")
	if !ok {
		return slo.Tier{}, false
	}
	var t slo.Tier
	good := true
	need := func(key, example string) *yaml.Node {
		v := f[key]
		if v == nil {
			p.errorf(n, join(path, key), "missing (e.g. %s: %s)", key, example)
			good = false
		}
		return v
	}
	if v := need("name", "page-fast"); v != nil {
		t.Name, ok = p.name(v, join(path, "name"))
		good = good && ok
	}
	if v := need("severity", "page"); v != nil {
		t.Severity, ok = p.severity(v, join(path, "severity"))
		good = good && ok
	}
	var longN, shortN *yaml.Node
	if longN = need("long", "1h"); longN != nil {
		t.Long, ok = p.duration(longN, join(path, "long"))
		good = good && ok
	}
	if shortN = need("short", "5m"); shortN != nil {
		t.Short, ok = p.duration(shortN, join(path, "short"))
		good = good && ok
	}
	if v := need("factor", "14.4"); v != nil {
		t.Factor, ok = p.number(v, join(path, "factor"))
		if ok && (!(t.Factor > 0) || math.IsInf(t.Factor, 0)) {
			p.errorf(v, join(path, "factor"), "%s is not a positive burn rate factor (e.g. 14.4)", v.Value)
			ok = false
		}
		good = good && ok
	}
	if v := f["min_events"]; v != nil {
		t.MinEvents, ok = p.count(v, join(path, "min_events"))
		good = good && ok
	}
	good = p.tierQuality(f, path, &t) && good
	if t.Long > 0 && t.Short > t.Long {
		p.errorf(shortN, join(path, "short"), "%s is longer than long %s (short must be <= long)", FormatDuration(t.Short), FormatDuration(t.Long))
		good = false
	}
	if t.Long > period {
		p.errorf(longN, join(path, "long"), "%s is longer than the period %s", FormatDuration(t.Long), FormatDuration(period))
		good = false
	}
	return t, good
}

// tierQuality reads a tier's warm_up, hold and resolve_factor; a tier
// that leaves them out gets the engine's defaults (slo.Tier). Zero is not
// written: it would mean the default.
func (p *parser) tierQuality(f map[string]*yaml.Node, path string, t *slo.Tier) bool {
	good := true
	if v := f["warm_up"]; v != nil {
		at := join(path, "warm_up")
		d, ok := p.duration(v, at)
		switch {
		case !ok:
			good = false
		case t.Long > 0 && d > t.Long:
			p.errorf(v, at, "%s is longer than long %s (the tier may fire once Burnwatch has observed the SLO this long; at most long, default long/60 up to short)", FormatDuration(d), FormatDuration(t.Long))
			good = false
		default:
			t.WarmUp = d
		}
	}
	if v := f["hold"]; v != nil {
		d, ok := p.duration(v, join(path, "hold"))
		t.Hold, good = d, good && ok
	}
	if v := f["resolve_factor"]; v != nil {
		at := join(path, "resolve_factor")
		rf, ok := p.number(v, at)
		switch {
		case !ok:
			good = false
		case !(rf > 0) || math.IsInf(rf, 0):
			p.errorf(v, at, "%s is not a positive burn rate (e.g. resolve_factor: 10 with factor: 14.4)", v.Value)
			good = false
		case t.Factor > 0 && rf > t.Factor:
			p.errorf(v, at, "%s is above factor %s (a firing tier resolves once both windows burn at most this for its hold: want a number in (0, factor])", v.Value, formatFactor(t.Factor))
			good = false
		default:
			t.ResolveFactor = rf
		}
	}
	return good
}

// formatFactor writes a burn rate factor as a spec file would: 14.4, 6.
func formatFactor(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (p *parser) severity(n *yaml.Node, path string) (slo.Severity, bool) {
	i, ok := p.choice(n, path, "a severity", string(slo.Page), string(slo.Ticket))
	if !ok {
		return "", false
	}
	return [...]slo.Severity{slo.Page, slo.Ticket}[i], true
}
