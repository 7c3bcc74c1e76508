package console

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
)

// DefaultName is the receiver name of a Notifier created without one.
const DefaultName = "console"

// Notifier writes notifications to an io.Writer. It is safe for concurrent
// use: each block is written with one Write under a lock, so blocks from
// concurrent calls never interleave.
type Notifier struct {
	name string

	mu sync.Mutex // serialises writes to w
	w  io.Writer
}

// New returns a Notifier writing to w; an empty name means DefaultName.
func New(name string, w io.Writer) *Notifier {
	if name == "" {
		name = DefaultName
	}
	return &Notifier{name: name, w: w}
}

// Name is the receiver's name.
func (n *Notifier) Name() string { return n.name }

// Notify writes a header line for the group, then one block per alert. A
// failed write is permanent: retrying would repeat the blocks already
// written, and a closed stdout does not come back.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	if err := ctx.Err(); err != nil {
		return notify.Retryable(err, 0)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "== %s %s: %d of %d alerts firing ==\n", strings.ToUpper(string(m.Status())), m.GroupKey, m.Firing(), len(m.Alerts))
	for i := range m.Alerts {
		b.WriteString(Format(m, &m.Alerts[i]))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := io.WriteString(n.w, b.String()); err != nil {
		return notify.Permanent(fmt.Errorf("write %s: %w", n.name, err))
	}
	return nil
}

// Format renders one alert of m as a block ending in a blank line, its
// description as m renders it (the receiver's templates, if any):
//
//	FIRING page checkout-availability / page-fast (fingerprint 5eb672bf510f22f8)
//	  checkout-availability burns its 30d error budget at 20.1x (1h) and ...
//	  objective:  99.9% of requests succeed over 30d, flow checkout
//	  burn rate:  20.1x over 1h (201 bad of 10000), 35.2x over 5m (35 bad of 1000), factor 14.4
//	  ...
//
// The rows after the objective are those of the alert's kind.
func Format(m *notify.Message, a *alerting.Alert) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s / %s (fingerprint %s)\n",
		strings.ToUpper(string(a.State)), a.Severity, a.SLO, a.Tier, a.Fingerprint)
	fmt.Fprintf(&b, "  %s\n", m.Description(a))
	row := func(name, format string, args ...any) {
		fmt.Fprintf(&b, "  %-12s%s\n", name+":", fmt.Sprintf(format, args...))
	}
	over := alerting.FormatDuration(a.Period)
	if a.Calendar != "" {
		over = "the calendar " + a.Calendar
	}
	row("objective", "%s over %s, flow %s", a.ObjectiveText(), over, a.Flow)
	exhaust := "never at this rate"
	if a.TimeToExhaustion < alerting.NeverExhausted {
		exhaust = "in " + alerting.FormatDuration(a.TimeToExhaustion)
	}
	switch a.Kind {
	case alerting.KindBudget:
		// Rounded so that a threshold of 0.07 reads 7%, not 7.000000000000001%.
		threshold := strconv.FormatFloat(math.Round(a.ConsumedThreshold*100*1e4)/1e4, 'f', -1, 64)
		row("budget", "%.1f%% spent, alert at %s%%; %.1f%% left", a.Consumed*100, threshold, a.BudgetLeft*100)
	case alerting.KindExhaustion:
		row("burn rate", "%.1fx over %s", a.Long.Burn, alerting.FormatDuration(a.Long.Window))
		row("budget", "%.1f%% left, exhausted %s, alert within %s", a.BudgetLeft*100, exhaust, alerting.FormatDuration(a.Within))
	case alerting.KindNoData:
		silence := "no events"
		if a.Silence > 0 && a.Silence < alerting.NeverExhausted {
			silence += " for " + alerting.FormatDuration(a.Silence)
		}
		row("silence", "%s, alert after %s", silence, alerting.FormatDuration(a.After))
	default:
		row("burn rate", "%.1fx over %s (%d bad of %d), %.1fx over %s (%d bad of %d), factor %g",
			a.Long.Burn, alerting.FormatDuration(a.Long.Window), a.Long.Bad, a.Long.Total,
			a.Short.Burn, alerting.FormatDuration(a.Short.Window), a.Short.Bad, a.Short.Total, a.Factor)
		row("budget", "%.1f%% left, exhausted %s", a.BudgetLeft*100, exhaust)
	}
	row("events", "%d good of %d over %s", a.Good, a.Total, over)
	since := "since " + a.StartsAt.UTC().Format(time.RFC3339)
	if a.State == alerting.StateResolved {
		since = fmt.Sprintf("from %s to %s (%s)", a.StartsAt.UTC().Format(time.RFC3339),
			a.EndsAt.UTC().Format(time.RFC3339), alerting.FormatDuration(a.EndsAt.Sub(a.StartsAt)))
	}
	row("firing", "%s, last evaluated %s", since, a.LastEvaluated.UTC().Format(time.RFC3339))
	if a.Description != "" {
		row("about", "%s", a.Description)
	}
	if a.Runbook != "" {
		row("runbook", "%s", a.Runbook)
	}
	if a.Dashboard != "" {
		row("dashboard", "%s", a.Dashboard)
	}
	if len(a.TraceIDs) > 0 {
		row("traces", "%s", strings.Join(a.TraceIDs, ", "))
	}
	b.WriteByte('\n')
	return b.String()
}
