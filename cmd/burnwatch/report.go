package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/burnwatch/burnwatch/storage/journal"

	"github.com/spf13/cobra"

	"github.com/burnwatch/burnwatch/alerting/history"
	"github.com/burnwatch/burnwatch/specs"
)

const reportLong = `Report on the alert history: how often each SLO's alerts fired, for how long,
and how much of it woke someone up. Read it to tune SLOs: tiers that flap or
page for less than a minute are noise, tiers that never fire may be dead.

Per SLO and tier (or other alert: budget-50, exhaustion-1d, no-data):
  episodes             firing to resolved; one still firing counts to --until
                       (marked "open"), one that started before --since, or
                       whose firing was rotated out of the history, counts
                       from the period's start
  firing total         time firing within the period
  median               the median episode's length
  flaps                episodes that started less than --flap-window after
                       the alert's previous episode resolved
  night/weekend pages  page episodes that started between --night-start and
                       --night-end, or on a Saturday or Sunday, in --tz
  <1m                  episodes resolved less than a minute after they started
Then the totals, the alerts of the --specs files that never fired in the
period, and the history lines the report could not use (malformed lines,
unknown events, records out of order, repeated transitions): counted, never
fatal.

The history is read from --history, files or globs; rotated files
(alerts-<time>.jsonl.zst, .gz) are read like plain ones. By default:
$BURNWATCH_DATA_DIR/history/alerts*.jsonl*, with ./data when unset. For a
storage.history.path of your own, give it with --history.

Examples:
  burnwatch report --since 7d
  burnwatch report --since 30d --specs 'slos/*.yaml' --tz Europe/Berlin
  burnwatch report --history '/var/lib/burnwatch/history/alerts*' -o json
  burnwatch report --since 2026-03-01T00:00:00Z --until 2026-04-01T00:00:00Z

Exit status 0 with a report, 1 on an error (a bad flag, no history files,
spec files that do not load).`

// newReportCommand is "burnwatch report": the alert-quality report over
// the alert history.
func newReportCommand() *cobra.Command {
	var (
		flags         history.Flags
		files, spec   []string
		output        string
		defaultFiles  = filepath.Join(cmp.Or(os.Getenv("BURNWATCH_DATA_DIR"), "data"), "history", "alerts*.jsonl*")
		outputFormats = map[string]func(*cobra.Command, history.Report) error{
			"table": func(c *cobra.Command, r history.Report) error { return history.WriteText(c.OutOrStdout(), r) },
			"json":  func(c *cobra.Command, r history.Report) error { return history.WriteJSON(c.OutOrStdout(), r) },
		}
	)
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Report how the alerts of the alert history fired: episodes, flaps, night pages, tiers that never fired",
		Long:  reportLong,
		Args:  cobra.NoArgs,
		// main prints the error RunE returns; cobra would print it too.
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			write := outputFormats[output]
			if write == nil {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			opts, err := flags.Options(time.Now())
			if err != nil {
				return err
			}
			if len(spec) > 0 {
				set, err := specs.Load(spec...)
				if err != nil {
					return fmt.Errorf("--specs: %w", err)
				}
				opts.Expected, opts.CheckNeverFired = history.SpecAlerts(set.SLOs), true
			}
			names, err := history.Files(files)
			if err != nil && !cmd.Flags().Changed("history") {
				return fmt.Errorf("--history: %w (the daemon writes it under $BURNWATCH_DATA_DIR/history, ./data/history when unset; give another place with --history)", err)
			}
			if err != nil {
				return fmt.Errorf("--history: %w", err)
			}
			log, err := history.Read(names, journal.ReadFile)
			if err != nil {
				return fmt.Errorf("read alert history: %w", err)
			}
			return write(cmd, history.Analyze(log, opts))
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&files, "history", []string{defaultFiles}, "alert history files or globs, read in this order")
	f.StringSliceVar(&spec, "specs", nil, "spec files or globs, for the alerts that never fired (left out without them)")
	f.StringVar(&flags.Since, "since", "", "start of the period: a duration before --until (7d, 30d) or an RFC 3339 time (default: the history's first record)")
	f.StringVar(&flags.Until, "until", "", "end of the period, an RFC 3339 time (default: now)")
	f.StringVar(&flags.TimeZone, "tz", history.DefaultTimeZone, "time zone of nights and weekends (an IANA name: Europe/Berlin)")
	f.StringVar(&flags.FlapWindow, "flap-window", history.DefaultFlapWindow, "an episode starting this soon after the previous one resolved is a flap")
	f.StringVar(&flags.NightStart, "night-start", history.DefaultNightStart, "start of the night, HH:MM in --tz")
	f.StringVar(&flags.NightEnd, "night-end", history.DefaultNightEnd, "end of the night, HH:MM in --tz")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}
