package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/sources"
	"github.com/berth-io/berth/workloads"
)

func newDiffCommand(env *clientEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff [PATH...]",
		Short: "Show what applying PATH (default: each source's latest revision) would change",
		Long: `Show, as unified diffs, what applying manifests would change on the
server: PATH (files and folders read recursively like 'berth validate':
*.yaml, *.yml, *.json; "-" is standard input), or without PATH each
source's latest revision. Secret values are masked.

Exit status: 0 no change, 1 changes found, 2 an error (the manifests do
not validate, a file cannot be read, the server cannot be reached).`,
		Example: `  berth diff
  berth diff deploy/
  kustomize build overlays/prod | berth diff -`,
		RunE: func(cmd *cobra.Command, paths []string) error {
			var files []sources.File
			if len(paths) > 0 {
				var err error
				if files, err = readManifestFiles(paths, cmd.InOrStdin()); err != nil {
					return fail(cmd, 2, "%v", err)
				}
				if len(files) == 0 {
					return fail(cmd, 2, "no manifests under %s (berth reads *.yaml, *.yml and *.json)", strings.Join(paths, " "))
				}
			}
			c, err := env.client(cmd)
			if err != nil {
				return err
			}
			var diffs []api.ObjectDiff
			if files != nil {
				diffs, err = c.DiffFiles(cmd.Context(), files)
			} else {
				diffs, err = c.Diff(cmd.Context(), "")
			}
			if err != nil {
				if isConnectionError(err) {
					return fail(cmd, 2, "cannot reach the berth server: %v; check --server (or the config it is read from) and that `berth server` is running", err)
				}
				return fail(cmd, 2, "%v", err)
			}
			printDiffs(cmd.OutOrStdout(), diffs)
			if len(diffs) > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	return cmd
}

// printDiffs writes each object's diff under a line naming it.
func printDiffs(w io.Writer, diffs []api.ObjectDiff) {
	for _, d := range diffs {
		id := d.Name
		if d.Namespace != "" {
			id = d.Namespace + "/" + d.Name
		}
		fmt.Fprintf(w, "diff %s %s (%s)\n", d.Kind, id, d.Action)
		fmt.Fprint(w, d.Diff)
		if d.Diff != "" && !strings.HasSuffix(d.Diff, "\n") {
			fmt.Fprintln(w)
		}
	}
}

// readManifestFiles reads paths as `berth validate` does (see
// workloads.ReadFiles), for the server to decode.
func readManifestFiles(paths []string, stdin io.Reader) ([]sources.File, error) {
	read, err := workloads.ReadFiles(paths, stdin)
	if err != nil {
		return nil, err
	}
	files := make([]sources.File, len(read))
	for i, f := range read {
		files[i] = sources.File{Path: f.Path, Data: f.Data}
	}
	return files, nil
}
