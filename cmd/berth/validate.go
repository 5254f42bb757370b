package main

import (
	"github.com/spf13/cobra"

	"github.com/berth-io/berth/workloads"
	"github.com/berth-io/berth/workloads/report"
)

func newValidateCommand() *cobra.Command {
	var (
		output  string
		strict  bool
		summary bool
	)
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check manifests offline, as berth checks every Git revision before applying it",
		Long: `Decode, default and validate Kubernetes manifests without a server.

PATH is a file or a folder (read recursively: *.yaml, *.yml, *.json; folders
whose name starts with a dot are skipped); "-" reads standard input. The
default PATH is ".".

Each finding is printed as
  FILE:LINE:COL: error|warning: MESSAGE (FIELD.PATH) [RULE]

Exit status: 0 all valid (warnings allowed unless --strict), 1 at least one
invalid document (or no documents at all), 2 usage or I/O error.`,
		Example: `  berth validate deploy/
  berth validate --strict -o junit manifests/ > report.xml
  kustomize build overlays/prod | berth validate -`,
		RunE: func(cmd *cobra.Command, paths []string) error {
			format, err := report.ParseFormat(output)
			if err != nil {
				return err
			}
			if len(paths) == 0 {
				paths = []string{"."}
			}
			w := report.New(cmd.OutOrStdout(), format, report.Options{
				Strict: strict, Summary: summary, Version: version, Rules: workloads.Rules(),
			})
			sum := workloads.Validate(paths, workloads.ValidateOptions{Stdin: cmd.InOrStdin(), Strict: strict}, w)
			if err := w.Close(sum); err != nil {
				return exitError{2}
			}
			return validateExit(sum, strict)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json, junit or sarif")
	cmd.Flags().BoolVar(&strict, "strict", false, "treat warnings as errors")
	cmd.Flags().BoolVar(&summary, "summary", false, "print a summary of what was checked")
	return cmd
}

// validateExit maps a run's summary to SPEC.md's exit codes.
func validateExit(sum workloads.Summary, strict bool) error {
	switch {
	case sum.Unreadable > 0:
		return exitError{2}
	case sum.Invalid > 0 || sum.Errors > 0 || (strict && sum.Warnings > 0):
		return exitError{1}
	}
	return nil
}
