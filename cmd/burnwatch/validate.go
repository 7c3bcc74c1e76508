package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/burnwatch/burnwatch/specs"
)

const validateLong = `Validate spec files (flows and SLOs: Burnwatch's own, OpenSLO v1 and Sloth
prometheus/v1) without running anything. FILES are files or globs, or
builtin: names such as builtin:examples.yaml, as in the burnwatch
extension's files.

Every problem of every file is printed once, sorted by file and line, as
  FILE:LINE[:COLUMN]: key.path: what is wrong (what is allowed)
including the checks across files (an SLO naming a flow no file defines,
names given twice), also for documents that have other problems.

With --config, the collector configuration is validated too, as the
collector's own validate subcommand does (which this one replaces);
without FILES, only the configuration is.

--schema prints the JSON Schema of Burnwatch's spec documents, for editors:
  # yaml-language-server: $schema=burnwatch.schema.json

Exit status 0 when everything is valid (a one-line summary per file is
printed), 1 otherwise.

Examples:
  burnwatch validate 'specs/*.yaml'
  burnwatch validate builtin:examples.yaml slos/checkout.yaml
  burnwatch validate --config burnwatch.yaml specs/*.yaml
  burnwatch validate --schema > burnwatch.schema.json`

// errInvalid says validate found problems; they are already printed.
var errInvalid = errors.New("validation failed")

// newValidateCommand is "burnwatch validate": spec files alone, and the
// collector configuration with --config. It takes the place of the
// collector's validate subcommand on root, which it runs for --config.
func newValidateCommand(root *cobra.Command) *cobra.Command {
	var collector *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "validate" {
			collector = c
			root.RemoveCommand(c)
		}
	}
	var schema bool
	cmd := &cobra.Command{
		Use:   "validate [FILES...]",
		Short: "Validate spec files, and the collector configuration with --config",
		Long:  validateLong,
		// Problems are printed once, here; main reports only that it failed.
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			if schema {
				_, err := out.Write(specs.Schema())
				return err
			}
			withConfig := collector != nil && cmd.Flags().Changed("config")
			if len(args) == 0 && !withConfig {
				return fmt.Errorf("give spec files to validate, or --config (see burnwatch validate --help)")
			}
			ok := true
			if len(args) > 0 {
				ok = validateSpecs(args, out, errOut)
			}
			if withConfig {
				if err := collector.RunE(cmd, nil); err != nil {
					fmt.Fprintf(errOut, "collector configuration: %v\n", err)
					ok = false
				} else {
					fmt.Fprintln(out, "collector configuration: valid")
				}
			}
			if !ok {
				return errInvalid
			}
			return nil
		},
	}
	if collector != nil {
		cmd.Flags().AddFlagSet(collector.Flags())
	}
	cmd.Flags().BoolVar(&schema, "schema", false, "print the JSON Schema of spec documents and exit")
	return cmd
}

// validateSpecs loads the spec files and prints their problems, or a
// summary of what they define.
func validateSpecs(patterns []string, out, errOut io.Writer) bool {
	set, err := specs.Load(patterns...)
	if err != nil {
		printProblems(errOut, err)
		return false
	}
	var flows, slos int
	var parts []string
	for _, c := range set.Counts() {
		flows += c.Flows
		slos += c.SLOs
		parts = append(parts, fmt.Sprintf("%s: %d %s, %d %s", c.File, c.Flows, plural(c.Flows, "flow"), c.SLOs, plural(c.SLOs, "SLO")))
	}
	fmt.Fprintf(out, "valid: %d %s, %d %s (%s)\n", flows, plural(flows, "flow"), slos, plural(slos, "SLO"), strings.Join(parts, "; "))
	return true
}

// printProblems prints the problems of specs.Load, each once, and their
// count.
func printProblems(errOut io.Writer, err error) {
	seen := map[string]bool{}
	n := 0
	for _, e := range unjoin(err) {
		if msg := e.Error(); !seen[msg] {
			seen[msg] = true
			n++
			fmt.Fprintln(errOut, msg)
		}
	}
	fmt.Fprintf(errOut, "%d %s\n", n, plural(n, "problem"))
}

// unjoin flattens errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
