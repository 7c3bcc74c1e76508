package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/burnwatch/burnwatch/app"
)

// defaultURL is where `burnwatch status` looks for the daemon: the default
// config's HTTP endpoint.
const defaultURL = "http://localhost:9464"

const statusLong = `Show a running Burnwatch's SLOs and active alerts at a glance, read from its
HTTP API (/api/v1): per SLO the error budget left, the burn rates of its page
tiers over their long and short windows against the tiers' factors, and the
tiers that fire; then the active alerts, with those a silence or an
inhibition mutes marked.

The daemon is found at --url, by default $BURNWATCH_URL or ` + defaultURL + `.

Examples:
  burnwatch status
  burnwatch status --url http://burnwatch.monitoring:9464 -o json

Exit status 0 with the status, 1 when the daemon cannot be reached or does
not answer as Burnwatch.`

// newStatusCommand is "burnwatch status": the SLOs and active alerts of a
// running daemon at a glance.
func newStatusCommand() *cobra.Command {
	var url, output string
	cmd := &cobra.Command{
		Use:           "status",
		Short:         "Show a running daemon's SLOs and active alerts at a glance",
		Long:          statusLong,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true, // main prints the error once
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			st, err := fetchStatus(ctx, http.DefaultClient, url)
			if err != nil {
				return fmt.Errorf("burnwatch status: %w", err)
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return renderStatus(cmd.OutOrStdout(), st, time.Now())
		},
	}
	env := os.Getenv("BURNWATCH_URL")
	if env == "" {
		env = defaultURL
	}
	cmd.Flags().StringVar(&url, "url", env, "the daemon's HTTP endpoint (default from $BURNWATCH_URL)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// daemonState is what `burnwatch status` shows, and prints with -o json.
type daemonState struct {
	URL         string          `json:"url"`
	EvaluatedAt *time.Time      `json:"evaluated_at"`
	SLOs        []app.SLOView   `json:"slos"`
	Alerts      []app.AlertView `json:"alerts"`
}

// fetchStatus reads the SLOs and the active alerts of the daemon at base.
func fetchStatus(ctx context.Context, client *http.Client, base string) (daemonState, error) {
	base = strings.TrimRight(base, "/")
	var slos app.SLOList
	if err := getAPI(ctx, client, base+"/api/v1/slos", &slos); err != nil {
		return daemonState{}, err
	}
	var alerts app.AlertList
	if err := getAPI(ctx, client, base+"/api/v1/alerts", &alerts); err != nil {
		return daemonState{}, err
	}
	return daemonState{URL: base, EvaluatedAt: slos.EvaluatedAt, SLOs: slos.SLOs, Alerts: alerts.Alerts}, nil
}

func getAPI(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the daemon at %s (is it running? set --url or $BURNWATCH_URL): %w", req.URL.Host, unwrapURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: not a Burnwatch answer: %w", url, err)
	}
	return nil
}

// unwrapURL drops the *url.Error's repetition of method and URL.
func unwrapURL(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// renderStatus prints the SLO table and the active alerts, as of now.
func renderStatus(w io.Writer, st daemonState, now time.Time) error {
	evaluated := "not evaluated yet"
	if st.EvaluatedAt != nil {
		evaluated = "evaluated " + ago(now, *st.EvaluatedAt) + " ago"
	}
	burning := 0
	for _, s := range st.SLOs {
		if s.State == "firing" {
			burning++
		}
	}
	fmt.Fprintf(w, "Burnwatch at %s: %d SLOs, %d burning, %s\n\n", st.URL, len(st.SLOs), burning, evaluated)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLO\tBUDGET LEFT\t\tPAGE TIERS: BURN LONG / SHORT (FACTOR)\tFIRING\tSTATE")
	for _, s := range st.SLOs {
		var pages []string
		var firing []string
		for _, t := range s.Tiers {
			if t.Severity == "page" {
				pages = append(pages, fmt.Sprintf("%s %s / %s (%s)", t.Name, burnText(t.Long.Burn), burnText(t.Short.Burn), factorText(t.Factor)))
			}
			if t.State == app.TierFiring {
				firing = append(firing, t.Name)
			}
		}
		for _, c := range s.Conditions {
			if c.Firing {
				firing = append(firing, c.Name)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, percent(s.BudgetLeft), bar(s.BudgetLeft, 10),
			orDash(strings.Join(pages, ", ")), orDash(strings.Join(firing, ", ")), stateText(s.State, s.Severity))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(st.Alerts) == 0 {
		_, err := fmt.Fprintln(w, "\nNo alert is firing.")
		return err
	}
	fmt.Fprintf(w, "\nActive alerts (%d):\n", len(st.Alerts))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tSLO\tTIER\tSINCE\tSTATE\tSUMMARY")
	for _, a := range st.Alerts {
		state := a.State
		switch {
		case len(a.SilencedBy) > 0:
			state += " (silenced)"
		case len(a.InhibitedBy) > 0:
			state += " (inhibited)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Severity, a.SLO, a.Tier, ago(now, a.StartsAt), state, a.Summary)
	}
	return tw.Flush()
}

// bar draws a budget left in width cells; a spent budget is all empty.
func bar(budget float64, width int) string {
	n := int(budget*float64(width) + 0.5)
	n = max(0, min(width, n))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func percent(f float64) string {
	if f <= -10 || f >= 10 {
		return fmt.Sprintf("%.0f%%", f*100)
	}
	return fmt.Sprintf("%.1f%%", f*100)
}

func burnText(b float64) string {
	switch {
	case b >= 100:
		return fmt.Sprintf("%.0fx", b)
	case b >= 10:
		return fmt.Sprintf("%.1fx", b)
	}
	return fmt.Sprintf("%.2fx", b)
}

func factorText(f float64) string { return fmt.Sprintf("%gx", f) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func stateText(state, severity string) string {
	switch state {
	case "firing":
		return "BURNING (" + severity + ")"
	case "warming_up":
		return "warming up"
	case "no_data":
		return "no data"
	}
	return state
}

// ago renders how long before now t was, in its two largest units.
func ago(now, t time.Time) string {
	d := now.Sub(t).Round(time.Second)
	if d <= 0 {
		return "0s"
	}
	var parts []string
	for _, u := range []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if len(parts) == 2 {
			break
		}
		if n := d / u.size; n > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", n, u.name))
			d -= n * u.size
		} else if len(parts) > 0 {
			break
		}
	}
	return strings.Join(parts, " ")
}
