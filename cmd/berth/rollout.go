package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/api/printers"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

func newRolloutCommand(env *clientEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Manage the rollout of a deployment or daemon set: status, history, undo, pause, resume, restart",
		Long: `Manage the rollout of a deployment or daemon set, as kubectl rollout does.

'rollout undo' rolls back to an earlier revision's template and pins the
object: it stays on that revision, shown as Pinned and out of sync with
Git, until a new Git revision changes it or 'rollout resume' lifts the pin.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newRolloutStatusCommand(env),
		newRolloutHistoryCommand(env),
		newRolloutUndoCommand(env),
		newRolloutActionCommand(env, "pause", "Pause a deployment's rollout: template changes are recorded but not rolled out", serverClient.RolloutPause),
		newRolloutActionCommand(env, "resume", "Resume a paused deployment, and lift a pin that 'rollout undo' set", serverClient.RolloutResume),
		newRolloutActionCommand(env, "restart", "Restart a deployment's pods with a rolling update", serverClient.RolloutRestart),
	)
	return cmd
}

// rolloutTarget reads KIND/NAME (or KIND NAME) for a rollout command;
// only deployments have rollouts in berth so far.
func rolloutTarget(args []string) (printers.Kind, string, error) {
	k, name, err := kindAndName(args)
	if err != nil {
		return k, name, err
	}
	if k.Kind != "Deployment" && k.Kind != "DaemonSet" {
		return k, name, fmt.Errorf("no rollout for %s: berth rolls out deployments (deploy/NAME) and daemon sets (ds/NAME)", k.Resource)
	}
	return k, name, nil
}

// rolloutStatusOf is kubectl's status viewer for obj's kind.
func rolloutStatusOf(obj store.Object) (msg string, done bool, err error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return rollouts.DeploymentRolloutStatus(o)
	case *appsv1.DaemonSet:
		return rollouts.DaemonSetRolloutStatus(o)
	}
	return "", false, fmt.Errorf("no rollout status for %T", obj)
}

func newRolloutStatusCommand(env *clientEnv) *cobra.Command {
	var (
		ns      namespaceFlags
		timeout time.Duration
		watch   bool
	)
	cmd := &cobra.Command{
		Use:   "status KIND/NAME",
		Short: "Follow a rollout until it completes",
		Long: `Follow a rollout, printing what it waits for, until it completes.

Exit status: 0 rolled out (or, with --watch=false, the status printed), 1
the rollout exceeded its progress deadline, the timeout passed or the
object is gone, 2 usage or connection error.`,
		Example: `  berth rollout status deploy/web
  berth rollout status deploy/web --timeout 5m`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, name, err := rolloutTarget(args)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			c, err := env.client(cmd)
			if err != nil {
				return err
			}
			return rolloutStatus(cmd, env, c, k, ns.objectNamespace(k), name, timeout, watch)
		},
	}
	ns.add(cmd, false)
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "how long to wait before giving up (0: wait forever)")
	cmd.Flags().BoolVarP(&watch, "watch", "w", true, "follow the rollout until it completes")
	return cmd
}

// errTimedOut is kubectl's wait timeout message.
var errTimedOut = errors.New("timed out waiting for the condition")

// rolloutStatus prints each new status message of the deployment as a
// watch delivers changes, until it is done, fails or times out.
func rolloutStatus(cmd *cobra.Command, env *clientEnv, c serverClient, k printers.Kind, namespace, name string, timeout time.Duration, watch bool) error {
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	var deadline <-chan time.Time
	if timeout > 0 {
		t := env.clock.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C()
	}
	out := cmd.OutOrStdout()
	last := ""
	// check prints d's status when it changed; done or an error ends the
	// wait.
	check := func(obj store.Object) (bool, error) {
		msg, done, err := rolloutStatusOf(obj)
		if err != nil {
			return true, fail(cmd, 1, "%v", err)
		}
		if msg != last {
			fmt.Fprintln(out, msg)
			last = msg
		}
		if done {
			return true, nil
		}
		if !watch {
			return true, nil
		}
		return false, nil
	}
	for {
		// (Re)start from the object as it is: a watch that ends (the
		// server restarted, or dropped a slow reader) must not lose a
		// change.
		obj, err := c.Get(ctx, k.Kind, namespace, name)
		if err != nil {
			return serverError(cmd, err, k, name)
		}
		meta, ok := obj.(metav1.Object)
		if !ok {
			return fail(cmd, 1, "the server returned a %T for %s", obj, k.Ref(name))
		}
		if stop, err := check(obj); stop {
			return err
		}
		events, err := c.Watch(ctx, k.Kind, namespace, meta.GetResourceVersion())
		if err != nil {
			return serverError(cmd, err, k, name)
		}
		for watching := true; watching; {
			select {
			case <-deadline:
				return fail(cmd, 1, "%v", errTimedOut)
			case ev, open := <-events:
				if !open {
					watching = false
					break
				}
				if err := watchError(ev); err != nil {
					if errors.Is(err, store.ErrExpired) {
						// Too far behind: start again from the object.
						watching = false
						break
					}
					return serverError(cmd, err, k, name)
				}
				m, ok := ev.Object.(metav1.Object)
				if !ok || m.GetName() != name || (namespace != "" && m.GetNamespace() != namespace) {
					continue
				}
				if ev.Type == store.Deleted {
					return fail(cmd, 1, "%s was deleted while waiting for its rollout", k.Ref(name))
				}
				if stop, err := check(ev.Object); stop {
					return err
				}
			}
		}
		select {
		case <-deadline:
			return fail(cmd, 1, "%v", errTimedOut)
		case <-ctx.Done():
			return fail(cmd, 1, "%v", ctx.Err())
		default:
		}
	}
}

func newRolloutHistoryCommand(env *clientEnv) *cobra.Command {
	var (
		ns       namespaceFlags
		revision int64
	)
	cmd := &cobra.Command{
		Use:   "history KIND/NAME",
		Short: "List a deployment's or daemon set's revisions, or show one's pod template",
		Example: `  berth rollout history deploy/web
  berth rollout history deploy/web --revision 2`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, name, err := rolloutTarget(args)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			c, err := env.client(cmd)
			if err != nil {
				return err
			}
			revs, err := c.RolloutHistory(cmd.Context(), k.Kind, ns.objectNamespace(k), name)
			if err != nil {
				return serverError(cmd, err, k, name)
			}
			out := cmd.OutOrStdout()
			entries := make([]rollouts.HistoryEntry, len(revs))
			for i, r := range revs {
				entries[i] = rollouts.HistoryEntry{Revision: r.Revision, ChangeCause: r.ChangeCause}
			}
			if revision == 0 || len(entries) == 0 {
				fmt.Fprintf(out, "%s \n%s", k.Ref(name), rollouts.FormatHistory(entries))
				if len(entries) == 0 {
					fmt.Fprintln(out)
				}
				return nil
			}
			if _, err := rollouts.HistoryRevision(entries, revision); err != nil {
				return fail(cmd, 1, "%v", err)
			}
			for _, r := range revs {
				if r.Revision == revision {
					fmt.Fprintf(out, "%s with revision #%d\nPod Template:\n", k.Ref(name), revision)
					for _, line := range strings.Split(strings.TrimRight(r.Template, "\n"), "\n") {
						fmt.Fprintf(out, "  %s\n", line)
					}
				}
			}
			return nil
		},
	}
	ns.add(cmd, false)
	cmd.Flags().Int64Var(&revision, "revision", 0, "show the pod template of this revision")
	return cmd
}

func newRolloutUndoCommand(env *clientEnv) *cobra.Command {
	var (
		ns         namespaceFlags
		toRevision int64
	)
	cmd := &cobra.Command{
		Use:   "undo KIND/NAME",
		Short: "Roll back to the previous revision, or to --to-revision N, and pin it",
		Long: `Roll a deployment back to its previous revision, or to --to-revision N.

The deployment is pinned: it stays on that revision, shown as Pinned and
out of sync with Git, until a new Git revision changes it or
'berth rollout resume' lifts the pin.`,
		Example: `  berth rollout undo deploy/web
  berth rollout undo deploy/web --to-revision 2`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, name, err := rolloutTarget(args)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			if toRevision < 0 {
				return fail(cmd, 2, "--to-revision must be a positive revision number (0: the previous one), got %d", toRevision)
			}
			c, err := env.client(cmd)
			if err != nil {
				return err
			}
			msg, err := c.RolloutUndo(cmd.Context(), k.Kind, ns.objectNamespace(k), name, toRevision)
			if err != nil {
				return serverError(cmd, err, k, name)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", k.Ref(name), msg)
			return nil
		},
	}
	ns.add(cmd, false)
	cmd.Flags().Int64Var(&toRevision, "to-revision", 0, "the revision to roll back to (0: the previous one)")
	return cmd
}

// rolloutAction is one of the client's pause, resume and restart.
type rolloutAction func(c serverClient, ctx context.Context, kind, namespace, name string) (string, error)

func newRolloutActionCommand(env *clientEnv, verb, short string, action rolloutAction) *cobra.Command {
	var ns namespaceFlags
	cmd := &cobra.Command{
		Use:     verb + " KIND/NAME",
		Short:   short,
		Example: "  berth rollout " + verb + " deploy/web",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, name, err := rolloutTarget(args)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			c, err := env.client(cmd)
			if err != nil {
				return err
			}
			msg, err := action(c, cmd.Context(), k.Kind, ns.objectNamespace(k), name)
			if err != nil {
				return serverError(cmd, err, k, name)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", k.Ref(name), msg)
			return nil
		},
	}
	ns.add(cmd, false)
	return cmd
}
