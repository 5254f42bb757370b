package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/api/printers"
	"github.com/berth-io/berth/sources"
)

func newSyncCommand(env *clientEnv) *cobra.Command {
	var (
		revision string
		latest   bool
	)
	cmd := &cobra.Command{
		Use:   "sync [SOURCE]",
		Short: "Fetch and apply a source now, or pin it to a commit",
		Long: `Fetch and apply a source now (every source without SOURCE), and print
how each stands afterwards.

--revision SHA pins the source to that commit until 'berth sync --latest'
lifts the pin.

Exit status: 0 every source is Ready, 1 one is not (its message says why:
the file and line that failed, or the fetch error), 2 usage or connection
error.`,
		Example: `  berth sync
  berth sync apps --revision 3f2a91c
  berth sync apps --latest`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			source := ""
			if len(args) == 1 {
				source = args[0]
			}
			if revision != "" && latest {
				return fail(cmd, 2, "--revision and --latest contradict each other; give one")
			}
			if revision != "" && source == "" {
				return fail(cmd, 2, "--revision pins one source: name it (berth sync SOURCE --revision %s)", revision)
			}
			c, err := env.client(cmd)
			if err != nil {
				return err
			}
			srcs, err := c.Sync(cmd.Context(), source, revision, latest)
			if err != nil {
				k, _ := printers.LookupKind("sources")
				return serverError(cmd, err, k, source)
			}
			if !printSyncResult(cmd.OutOrStdout(), srcs) {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&revision, "revision", "", "pin the source to this commit (a SHA, at least 7 hex digits)")
	cmd.Flags().BoolVar(&latest, "latest", false, "lift a pin: follow the source's branch, tag or folder again")
	return cmd
}

// printSyncResult writes one line per source and reports whether all
// are Ready.
func printSyncResult(w io.Writer, srcs []*sources.Resource) bool {
	ok := true
	for _, s := range srcs {
		line, ready := syncLine(s)
		ok = ok && ready
		fmt.Fprintf(w, "source/%s: %s\n", s.Name, line)
	}
	return ok
}

// syncLine says how a source stands: the revision applied (and whether
// it is pinned), or why the last attempt failed.
func syncLine(s *sources.Resource) (string, bool) {
	var ready *metav1.Condition
	for i := range s.Status.Conditions {
		if s.Status.Conditions[i].Type == sources.ConditionReady {
			ready = &s.Status.Conditions[i]
		}
	}
	if ready != nil && ready.Status == metav1.ConditionTrue {
		line := "applied revision " + s.Status.LastAppliedRevision
		if s.Spec.PinnedRevision != "" {
			line += " (pinned)"
		}
		return line, true
	}
	msg := "not ready"
	if ready != nil && ready.Message != "" {
		msg = ready.Message
	} else if ready != nil && ready.Reason != "" {
		msg = ready.Reason
	}
	if s.Status.LastAppliedRevision != "" {
		msg += "; still running revision " + s.Status.LastAppliedRevision
	}
	return msg, false
}
