package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/burnwatch/burnwatch/promrules"
	"github.com/burnwatch/burnwatch/specs"
)

const rulesLong = `Write Prometheus recording and alerting rules for the SLOs of spec files
(Burnwatch's own, OpenSLO v1 and Sloth prometheus/v1), for teams that also
run Prometheus, Thanos or Mimir. FILES are as for burnwatch validate.

One rule group per SLO: the error ratio over each window of its tiers, as
sum(increase(bad[w])) / sum(increase(total[w])) (a ratio of sums, never an
average of ratios), and one SLOBurnRate alert per tier that fires when both
its long and its short window burn faster than the tier's factor, with the
labels the daemon's own alerts carry. PromQL indicators read your own
series with {{.window}} replaced by each window; other SLOs read the
daemon's burnwatch_slo_events_total. Time-slice SLOs get no rules: why is
printed on stderr, as is each annotation template left out. docs/rules.md
says more.

Spec files with problems are reported as burnwatch validate reports them;
the exit status is then 1, and 1 too when no SLO gets rules.

Examples:
  burnwatch rules 'specs/*.yaml' > burnwatch.rules.yaml
  burnwatch rules -o /etc/prometheus/rules/burnwatch.yaml specs/slos.yaml
  promtool check rules burnwatch.rules.yaml`

// errNoRules says rules wrote nothing; why is already printed.
var errNoRules = errors.New("no rules")

// newRulesCommand is "burnwatch rules".
func newRulesCommand() *cobra.Command {
	var (
		out  string
		opts promrules.Options
	)
	cmd := &cobra.Command{
		Use:   "rules FILES...",
		Short: "Write Prometheus recording and multi-window alert rules for the SLOs of spec files",
		Long:  rulesLong,
		Args:  cobra.MinimumNArgs(1),
		// Problems are printed once, here; main reports only that it failed.
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			errOut := cmd.ErrOrStderr()
			set, err := specs.Load(args...)
			if err != nil {
				printProblems(errOut, err)
				return errInvalid
			}
			f, notes, err := promrules.Generate(set, opts)
			if err != nil {
				return err
			}
			for _, n := range notes {
				fmt.Fprintln(errOut, n)
			}
			if len(f.Groups) == 0 {
				fmt.Fprintln(errOut, "no SLO of these files gets Prometheus rules")
				return errNoRules
			}
			data, err := f.Marshal(args)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			if err := writeFile(out, data); err != nil {
				return err
			}
			fmt.Fprintf(errOut, "wrote %d rule %s to %s\n", len(f.Groups), plural(len(f.Groups), "group"), out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the rules to this file (replaced whole, never half written) instead of stdout")
	cmd.Flags().BoolVar(&opts.NoKeepFiringFor, "no-keep-firing-for", false, "leave keep_firing_for (each tier's hold) out, for rulers older than Prometheus 2.42")
	return cmd
}

// writeFile replaces path with data through a temporary file in the same
// folder, so a ruler that reloads meanwhile reads the old file or the new
// one, never a part.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
