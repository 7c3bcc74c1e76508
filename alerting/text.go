package alerting

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Explain is one sentence saying what is wrong, for a page's body. For a
// burn alert:
//
//	checkout-availability burns its 30d error budget at 20.1x (1h) and 35.2x
//	(5m), factor 14.4; 97.3% budget left, exhausted in 1d 10h at this rate
//
// and for the other kinds:
//
//	checkout-availability has spent 52.3% of its month's error budget (threshold 50%)
//	checkout-availability will exhaust its error budget in 18h 20m at the 1h burn rate 3.2x (alert within 1d)
//	checkout has sent no events for 12m (alert after 10m)
func (a Alert) Explain() string {
	resolved := a.State == StateResolved
	switch a.Kind {
	case KindBudget:
		if resolved {
			return fmt.Sprintf("%s has spent %s of its %s error budget, below the %s threshold",
				a.SLO, formatPercent(a.Consumed), a.budgetOf(), formatTarget(a.ConsumedThreshold))
		}
		return fmt.Sprintf("%s has spent %s of its %s error budget (threshold %s)",
			a.SLO, formatPercent(a.Consumed), a.budgetOf(), formatTarget(a.ConsumedThreshold))
	case KindExhaustion:
		rate := fmt.Sprintf("the %s burn rate %s", FormatDuration(a.Long.Window), formatBurn(a.Long.Burn))
		switch {
		case resolved:
			lasts := "it lasts " + FormatDuration(a.TimeToExhaustion)
			if a.TimeToExhaustion >= NeverExhausted {
				lasts = "it does not run out"
			}
			return fmt.Sprintf("%s no longer exhausts its error budget within %s: %s at %s",
				a.SLO, FormatDuration(a.Within), lasts, rate)
		case a.BudgetLeft <= 0 || a.TimeToExhaustion <= 0:
			over := ""
			if a.BudgetLeft < 0 {
				over = " (" + formatPercent(-a.BudgetLeft) + " overspent)"
			}
			return fmt.Sprintf("%s has exhausted its %s error budget%s; the %s burn rate is %s (alert within %s)",
				a.SLO, a.budgetOf(), over, FormatDuration(a.Long.Window), formatBurn(a.Long.Burn), FormatDuration(a.Within))
		}
		return fmt.Sprintf("%s will exhaust its error budget in %s at %s (alert within %s)",
			a.SLO, FormatDuration(a.TimeToExhaustion), rate, FormatDuration(a.Within))
	case KindNoData:
		if resolved {
			return fmt.Sprintf("%s sends events again (alert after %s without any)", a.Flow, FormatDuration(a.After))
		}
		if a.Silence <= 0 || a.Silence >= NeverExhausted {
			return fmt.Sprintf("%s has sent no events (alert after %s)", a.Flow, FormatDuration(a.After))
		}
		return fmt.Sprintf("%s has sent no events for %s (alert after %s)", a.Flow, FormatDuration(a.Silence), FormatDuration(a.After))
	}
	var b strings.Builder
	if resolved {
		fmt.Fprintf(&b, "%s no longer burns its %s error budget above factor %s: %s (%s) and %s (%s)",
			a.SLO, a.budgetOf(), formatFactor(a.Factor),
			formatBurn(a.Long.Burn), FormatDuration(a.Long.Window),
			formatBurn(a.Short.Burn), FormatDuration(a.Short.Window))
	} else {
		fmt.Fprintf(&b, "%s burns its %s error budget at %s (%s) and %s (%s), factor %s",
			a.SLO, a.budgetOf(),
			formatBurn(a.Long.Burn), FormatDuration(a.Long.Window),
			formatBurn(a.Short.Burn), FormatDuration(a.Short.Window),
			formatFactor(a.Factor))
	}
	b.WriteString("; ")
	b.WriteString(a.budgetText())
	return b.String()
}

// budgetOf names the budget's period in "its ... error budget": "30d" or
// "month's".
func (a Alert) budgetOf() string {
	if a.Calendar != "" {
		return a.Calendar + "'s"
	}
	return FormatDuration(a.Period)
}

// PeriodText names the compliance period: "30d" for a rolling period,
// "month" or "week" for a calendar one.
func (a Alert) PeriodText() string {
	if a.Calendar != "" {
		return a.Calendar
	}
	return FormatDuration(a.Period)
}

// budgetText says how much budget is left and how long it lasts.
func (a Alert) budgetText() string {
	switch {
	case a.BudgetLeft <= 0:
		return fmt.Sprintf("budget exhausted (%s overspent)", formatPercent(-a.BudgetLeft))
	case a.TimeToExhaustion >= NeverExhausted:
		return fmt.Sprintf("%s budget left", formatPercent(a.BudgetLeft))
	}
	return fmt.Sprintf("%s budget left, exhausted in %s at this rate",
		formatPercent(a.BudgetLeft), FormatDuration(a.TimeToExhaustion))
}

// Summary is a short title for the alert, such as a page's subject.
func (a Alert) Summary() string {
	resolved := a.State == StateResolved
	switch a.Kind {
	case KindBudget:
		if resolved {
			return fmt.Sprintf("%s: error budget spent back below %s (%s)", a.SLO, formatTarget(a.ConsumedThreshold), a.Tier)
		}
		return fmt.Sprintf("%s: %s of the %s error budget spent, over %s (%s)",
			a.SLO, formatPercent(a.Consumed), a.budgetOf(), formatTarget(a.ConsumedThreshold), a.Tier)
	case KindExhaustion:
		switch {
		case resolved:
			return fmt.Sprintf("%s: error budget lasts beyond %s again (%s)", a.SLO, FormatDuration(a.Within), a.Tier)
		case a.BudgetLeft <= 0 || a.TimeToExhaustion <= 0:
			return fmt.Sprintf("%s: error budget exhausted (%s)", a.SLO, a.Tier)
		}
		return fmt.Sprintf("%s: error budget exhausted in %s at the %s burn rate (%s)",
			a.SLO, FormatDuration(a.TimeToExhaustion), FormatDuration(a.Long.Window), a.Tier)
	case KindNoData:
		if resolved {
			return fmt.Sprintf("%s: flow %s sends events again (%s)", a.SLO, a.Flow, a.Tier)
		}
		if a.Silence <= 0 || a.Silence >= NeverExhausted {
			return fmt.Sprintf("%s: flow %s sends no events (%s)", a.SLO, a.Flow, a.Tier)
		}
		return fmt.Sprintf("%s: flow %s sent no events for %s (%s)", a.SLO, a.Flow, FormatDuration(a.Silence), a.Tier)
	}
	if resolved {
		return fmt.Sprintf("%s: error budget burn back below %sx (%s)", a.SLO, formatFactor(a.Factor), a.Tier)
	}
	return fmt.Sprintf("%s: error budget burn %s over %s, above %sx (%s)",
		a.SLO, formatBurn(a.Long.Burn), FormatDuration(a.Long.Window), formatFactor(a.Factor), a.Tier)
}

// ObjectiveText states the SLO, such as "99.9% of requests succeed", "99%
// of requests succeed within 300ms" or "99% of 1m slices have p99 latency
// within 300ms".
func (a Alert) ObjectiveText() string {
	switch {
	case a.Percentile > 0:
		return fmt.Sprintf("%s of %s slices have p%s latency within %s",
			formatTarget(a.Target), FormatDuration(a.Slice), strings.TrimSuffix(formatTarget(a.Percentile), "%"), a.Threshold)
	case a.Threshold > 0:
		return fmt.Sprintf("%s of requests succeed within %s", formatTarget(a.Target), a.Threshold)
	}
	return fmt.Sprintf("%s of requests succeed", formatTarget(a.Target))
}

// Annotations are Alertmanager-style annotations: summary, description,
// runbook_url and dashboard_url (when set), plus the numbers behind them as
// text, those of the alert's kind only. Empty values are left out.
func (a Alert) Annotations() map[string]string {
	ann := map[string]string{
		"summary":      a.Summary(),
		"description":  a.Explain(),
		"objective":    a.ObjectiveText(),
		"target":       formatTarget(a.Target),
		"period":       a.PeriodText(),
		"budget_left":  formatPercent(a.BudgetLeft),
		"events_good":  strconv.FormatUint(a.Good, 10),
		"events_total": strconv.FormatUint(a.Total, 10),
	}
	switch a.Kind {
	case KindBudget:
		ann["budget_consumed"] = formatPercent(a.Consumed)
		ann["budget_threshold"] = formatTarget(a.ConsumedThreshold)
	case KindExhaustion:
		ann["burn_rate"] = strconv.FormatFloat(a.Long.Burn, 'f', 2, 64)
		ann["window"] = FormatDuration(a.Long.Window)
		ann["time_to_exhaustion"] = FormatDuration(a.TimeToExhaustion)
		ann["within"] = FormatDuration(a.Within)
	case KindNoData:
		if a.Silence > 0 {
			ann["silence"] = FormatDuration(a.Silence)
		}
		ann["after"] = FormatDuration(a.After)
	default:
		ann["burn_rate_long"] = strconv.FormatFloat(a.Long.Burn, 'f', 2, 64)
		ann["burn_rate_short"] = strconv.FormatFloat(a.Short.Burn, 'f', 2, 64)
		ann["window_long"] = FormatDuration(a.Long.Window)
		ann["window_short"] = FormatDuration(a.Short.Window)
		ann["factor"] = formatFactor(a.Factor)
		ann["time_to_exhaustion"] = FormatDuration(a.TimeToExhaustion)
	}
	if a.Runbook != "" {
		ann["runbook_url"] = a.Runbook
	}
	if a.Dashboard != "" {
		ann["dashboard_url"] = a.Dashboard
	}
	if a.Description != "" {
		ann["slo_description"] = a.Description
	}
	if len(a.TraceIDs) > 0 {
		ann["trace_ids"] = strings.Join(a.TraceIDs, ",")
	}
	return ann
}

// FormatDuration renders d for people with its two largest units, days
// included, truncating the rest: "30d", "1h", "1d 10h", "6m 40s", "250ms".
// NeverExhausted renders as "never".
func FormatDuration(d time.Duration) string {
	if d >= NeverExhausted {
		return "never"
	}
	if d < 0 {
		if d == math.MinInt64 {
			d++ // -MinInt64 overflows back to itself
		}
		return "-" + FormatDuration(-d)
	}
	if d < time.Second {
		return d.String()
	}
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var parts []string
	for _, u := range units {
		if len(parts) == 2 {
			break
		}
		n := d / u.size
		d -= n * u.size
		if n > 0 {
			parts = append(parts, strconv.FormatInt(int64(n), 10)+u.name)
		} else if len(parts) > 0 {
			// Stop at the first zero unit after the largest: "1d" rather
			// than "1d 0h", and "1d 0h 5m" is not worth two units.
			break
		}
	}
	return strings.Join(parts, " ")
}

func formatBurn(b float64) string { return strconv.FormatFloat(b, 'f', 1, 64) + "x" }

func formatFactor(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// formatPercent renders a budget share as a percentage with one decimal:
// "97.3%".
func formatPercent(f float64) string {
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

// formatTarget renders a target with the digits it has: "99.9%", "99%",
// "99.95%".
func formatTarget(t float64) string {
	// Round away float noise (0.999*100 = 99.89999...) at 4 decimals.
	p := math.Round(t*100*1e4) / 1e4
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}
