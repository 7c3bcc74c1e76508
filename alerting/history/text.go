package history

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// WriteText writes r as a table for people: a row per alert, the totals,
// the alerts that never fired and what of the input was not used.
func WriteText(w io.Writer, r Report) error {
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	const stamp = "2006-01-02 15:04"
	var b strings.Builder
	fmt.Fprintf(&b, "Alert report %s to %s %s (%s)\n", r.Since.In(loc).Format(stamp), r.Until.In(loc).Format(stamp),
		r.TimeZone, alerting.FormatDuration(r.Until.Sub(r.Since)))
	fmt.Fprintf(&b, "Flap: fired again within %s of resolving. Night: %s %s, and weekends.\n\n",
		alerting.FormatDuration(time.Duration(r.FlapWindow)), r.Night, r.TimeZone)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLO\tTIER\tSEVERITY\tEPISODES\tFIRING TOTAL\tMEDIAN\tFLAPS\tNIGHT/WEEKEND PAGES\t<1M")
	for _, a := range r.Alerts {
		episodes := strconv.Itoa(a.Episodes)
		if a.Open > 0 {
			episodes += " (" + strconv.Itoa(a.Open) + " open)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", a.SLO, a.Tier, a.Severity, episodes,
			alerting.FormatDuration(time.Duration(a.Firing)), alerting.FormatDuration(time.Duration(a.Median)),
			a.Flaps, a.OffHoursPages, a.ShortEpisodes)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Alerts) == 0 {
		b.WriteString("(no alert fired in the period)\n")
	}

	t := r.Total
	fmt.Fprintf(&b, "\nTotal: %s of %s, %s firing, %s, %s at night or on weekends, %s within a minute.\n",
		count(t.Episodes, "episode", "episodes"), count(t.Alerts, "alert", "alerts"), alerting.FormatDuration(time.Duration(t.Firing)),
		count(t.Flaps, "flap", "flaps"), count(t.OffHoursPages, "page", "pages"), count(t.ShortEpisodes, "episode", "episodes")+" resolved")
	for _, a := range r.Alerts {
		if a.FiringSince != nil {
			fmt.Fprintf(&b, "Still firing at the end: %s/%s since %s.\n", a.SLO, a.Tier, a.FiringSince.In(loc).Format(stamp))
		}
	}

	switch {
	case !r.SpecsChecked:
		b.WriteString("\nNever fired: not checked (give the spec files with --specs).\n")
	case len(r.NeverFired) == 0:
		fmt.Fprintf(&b, "\nNever fired: none of the %s in the spec files.\n", count(r.SpecAlerts, "alert", "alerts"))
	default:
		fmt.Fprintf(&b, "\nNever fired (%d of the %s in the spec files):\n", len(r.NeverFired), count(r.SpecAlerts, "alert", "alerts"))
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, a := range r.NeverFired {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.SLO, a.Tier, a.Severity)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	in := r.Input
	fmt.Fprintf(&b, "\nInput: %s, %s (%s, %s, %s).\n", count(len(in.Files), "file", "files"), count(in.Records, "record", "records"),
		count(in.Transitions, "transition", "transitions"), count(in.Attempts, "delivery attempt", "delivery attempts"), count(in.DeadLetters, "dead letter", "dead letters"))
	if in.Malformed > 0 {
		fmt.Fprintf(&b, "  %s, skipped", count(in.Malformed, "malformed line", "malformed lines"))
		if len(in.MalformedExamples) > 0 {
			fmt.Fprintf(&b, ": %s", strings.Join(in.MalformedExamples, "; "))
		}
		b.WriteString("\n")
	}
	for _, p := range []struct {
		n               int
		one, many, then string
	}{
		{in.Invalid, "invalid record", "invalid records", "skipped (no time, or a transition without slo, tier or state)"},
		{in.UnknownEvents, "record of an unknown event", "records of unknown events", "skipped"},
		{in.OutOfOrder, "record out of order", "records out of order", "placed by its time"},
		{in.Repeated, "repeated transition", "repeated transitions", "ignored (firing while firing, or resolved while resolved)"},
		{in.ResolvedWithoutFiring, "resolved without its firing", "resolved without their firing", "counted from the period's start (the firing was rotated away)"},
	} {
		if p.n > 0 {
			fmt.Fprintf(&b, "  %s, %s\n", count(p.n, p.one, p.many), p.then)
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// count writes "1 flap" or "2 flaps".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
