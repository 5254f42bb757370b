package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/sources"
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

// readManifestFiles reads paths as `berth validate` walks them: a file
// as given, a folder recursively (*.yaml, *.yml, *.json, dot-folders
// skipped, in lexical order), "-" from stdin. A file's Path is relative to
// the folder it was found under, slash-separated.
func readManifestFiles(paths []string, stdin io.Reader) ([]sources.File, error) {
	var files []sources.File
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("cannot read standard input: %w", err)
			}
			files = append(files, sources.File{Path: "<stdin>", Data: data})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err))
		}
		if !info.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err))
			}
			files = append(files, sources.File{Path: filepath.ToSlash(p), Data: data})
			continue
		}
		var found []sources.File
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
			default:
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
			}
			rel, err := filepath.Rel(p, path)
			if err != nil {
				rel = path
			}
			found = append(found, sources.File{Path: filepath.ToSlash(rel), Data: data})
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Slice(found, func(i, j int) bool { return found[i].Path < found[j].Path })
		files = append(files, found...)
	}
	return files, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
