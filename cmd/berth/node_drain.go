package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/nodelifecycle"
	"github.com/berth-io/berth/reconciler/store"
)

func newDrainCommand(env *clientEnv) *cobra.Command {
	var opts nodelifecycle.DrainOptions
	var grace int64
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "drain node/NAME",
		Short: "Cordon a node and evict its pods, letting their controllers put them elsewhere",
		Long: "Drain cordons the node, then deletes its pods (each with its grace period) and waits until they are gone.\n" +
			"Pods without a controller are refused unless --force (nothing would recreate them); DaemonSet pods are refused\n" +
			"unless --ignore-daemonsets, and then stay (their controller ignores cordons).",
		Example: "  berth drain node/n1 --ignore-daemonsets\n" +
			"  berth drain node/n1 --ignore-daemonsets --force --grace-period 10 --timeout 5m",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, rest, err := nodeArg(args, true)
			if err == nil && len(rest) > 0 {
				err = fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
			}
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			c, err := env.nodeClient(cmd)
			if err != nil {
				return err
			}
			if err := cordon(cmd, c, name, "cordon", true); err != nil {
				return err
			}
			return drain(cmd, env, c, name, opts, grace, timeout)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "also delete pods that declare no controller (they are not recreated)")
	cmd.Flags().BoolVar(&opts.IgnoreDaemonSets, "ignore-daemonsets", false, "leave DaemonSet-managed pods running instead of failing")
	cmd.Flags().BoolVar(&opts.DeleteEmptyDirData, "delete-emptydir-data", false, "also delete pods with emptyDir volumes (their data is lost)")
	cmd.Flags().Int64Var(&grace, "grace-period", -1, "seconds each pod gets to stop (negative: the pod's own terminationGracePeriodSeconds)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (0: wait as long as it takes)")
	return cmd
}

// drain evicts the node's pods as kubectl drain does, and waits for them.
func drain(cmd *cobra.Command, env *clientEnv, c nodeClient, name string, opts nodelifecycle.DrainOptions, grace int64, timeout time.Duration) error {
	ctx := cmd.Context()
	start := env.clock.Now()
	objs, _, err := c.List(ctx, "Pod", "", "")
	if err != nil {
		return serverError(cmd, err, nodeKind(), name)
	}
	var pods []*corev1.Pod
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok && p.Spec.NodeName == name {
			pods = append(pods, p)
		}
	}
	plan := nodelifecycle.PlanDrain(pods, opts)
	if len(plan.Errors) > 0 {
		return fail(cmd, 1, "unable to drain node %q due to error: %s", name, strings.Join(plan.Errors, ", "))
	}
	for _, w := range plan.Warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s\n", w)
	}
	del := store.DeleteOptions{}
	if grace >= 0 {
		del.GracePeriodSeconds = &grace
	}
	for _, p := range plan.Evict {
		fmt.Fprintf(cmd.OutOrStdout(), "evicting pod %s/%s\n", p.Namespace, p.Name)
		del.UID = string(p.UID)
		err := c.DeleteWithOptions(ctx, "Pod", p.Namespace, p.Name, del)
		if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
			return serverError(cmd, err, nodeKind(), name)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "pod/%s evicted\n", p.Name)
	}
	if err := waitGone(ctx, env, c, plan.Evict, start, timeout); err != nil {
		if errors.Is(err, errDrainTimeout) {
			return fail(cmd, 1, "unable to drain node %q due to error: drain did not complete within %v", name, timeout)
		}
		return serverError(cmd, err, nodeKind(), name)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "node/%s drained\n", name)
	return nil
}

var errDrainTimeout = errors.New("drain timed out")

// waitGone polls until each pod is gone (not found, or replaced by one of
// another UID), or timeout (0: none) has passed since start.
func waitGone(ctx context.Context, env *clientEnv, c nodeClient, pods []*corev1.Pod, start time.Time, timeout time.Duration) error {
	left := pods
	for {
		var still []*corev1.Pod
		for _, p := range left {
			obj, err := c.Get(ctx, "Pod", p.Namespace, p.Name)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue
			case err != nil:
				return err
			}
			if cur, ok := obj.(*corev1.Pod); ok && cur.UID == p.UID {
				still = append(still, p)
			}
		}
		if left = still; len(left) == 0 {
			return nil
		}
		if timeout > 0 && !env.clock.Now().Before(start.Add(timeout)) {
			return errDrainTimeout
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-env.clock.After(drainPollInterval):
		}
	}
}
