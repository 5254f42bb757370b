package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/api/printers"
	"github.com/berth-io/berth/reconciler/nodelifecycle"
	"github.com/berth-io/berth/reconciler/store"
)

// nodeClient is what the node commands need beyond serverClient: writes.
// The API client (reconciler/api/client.Client) has them.
type nodeClient interface {
	serverClient
	Update(ctx context.Context, obj store.Object) (store.Object, error)
	DeleteWithOptions(ctx context.Context, kind, namespace, name string, opts store.DeleteOptions) error
}

// nodeUpdateAttempts bounds the retries of a node edit that loses a race
// with a heartbeat (a conflict).
const nodeUpdateAttempts = 5

// drainPollInterval is how often drain looks whether evicted pods are gone.
const drainPollInterval = time.Second

// newNodeCommands returns label, taint, cordon, uncordon and drain.
func newNodeCommands(env *clientEnv) []*cobra.Command {
	return []*cobra.Command{
		newLabelCommand(env), newTaintCommand(env),
		newCordonCommand(env, "cordon", true), newCordonCommand(env, "uncordon", false),
		newDrainCommand(env),
	}
}

func newLabelCommand(env *clientEnv) *cobra.Command {
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "label node/NAME KEY=VALUE ... KEY- ...",
		Short: "Set or remove labels of a node",
		Example: "  berth label node/n1 disktype=ssd\n" +
			"  berth label node/n1 disktype=hdd --overwrite\n" +
			"  berth label node/n1 disktype-",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, rest, err := nodeArg(args, false)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			edit, err := nodelifecycle.ParseLabelArgs(rest)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			c, err := env.nodeClient(cmd)
			if err != nil {
				return err
			}
			var notFound []string
			changed, err := editNode(cmd.Context(), c, name, func(n *corev1.Node) (bool, error) {
				labels, changed, nf, err := edit.Apply(n.Labels, overwrite)
				if err != nil {
					return false, err
				}
				n.Labels, notFound = labels, nf
				return changed, nil
			})
			if err != nil {
				return nodeError(cmd, err, name)
			}
			for _, k := range notFound {
				fmt.Fprintf(cmd.ErrOrStderr(), "label %q not found.\n", k)
			}
			if !changed {
				fmt.Fprintf(cmd.OutOrStdout(), "node/%s not labeled\n", name)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "node/%s labeled\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "allow labels that exist to be given a new value")
	return cmd
}

func newTaintCommand(env *clientEnv) *cobra.Command {
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "taint node/NAME KEY[=VALUE]:EFFECT ... KEY[:EFFECT]- ...",
		Short: "Add or remove taints of a node (effects: NoSchedule, PreferNoSchedule, NoExecute)",
		Example: "  berth taint node/n1 dedicated=infra:NoSchedule\n" +
			"  berth taint node/n1 dedicated:NoSchedule-\n" +
			"  berth taint node/n1 dedicated-",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, rest, err := nodeArg(args, false)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			edit, err := nodelifecycle.ParseTaintArgs(rest)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			c, err := env.nodeClient(cmd)
			if err != nil {
				return err
			}
			var op string
			_, err = editNode(cmd.Context(), c, name, func(n *corev1.Node) (bool, error) {
				taints, o, err := edit.Apply(name, n.Spec.Taints, overwrite)
				if err != nil {
					return false, err
				}
				n.Spec.Taints, op = taints, o
				return true, nil
			})
			if err != nil {
				return nodeError(cmd, err, name)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "node/%s %s\n", name, op)
			return nil
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "allow taints that exist (same key and effect) to be replaced")
	return cmd
}

func newCordonCommand(env *clientEnv, verb string, unschedulable bool) *cobra.Command {
	short := "Mark a node unschedulable: no new pods go to it"
	if !unschedulable {
		short = "Mark a node schedulable again"
	}
	return &cobra.Command{
		Use:   verb + " node/NAME",
		Short: short,
		Args:  cobra.RangeArgs(1, 2),
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
			return cordon(cmd, c, name, verb, unschedulable)
		},
	}
}

// cordon sets spec.unschedulable and says so as kubectl does.
func cordon(cmd *cobra.Command, c nodeClient, name, verb string, unschedulable bool) error {
	changed, err := editNode(cmd.Context(), c, name, func(n *corev1.Node) (bool, error) {
		if n.Spec.Unschedulable == unschedulable {
			return false, nil
		}
		n.Spec.Unschedulable = unschedulable
		return true, nil
	})
	if err != nil {
		return nodeError(cmd, err, name)
	}
	if !changed {
		fmt.Fprintf(cmd.OutOrStdout(), "node/%s already %sed\n", name, verb)
		return nil
	}
	fmt.Fprintf(cmd.OutOrStdout(), "node/%s %sed\n", name, verb)
	return nil
}

// nodeClient connects and checks the client can write.
func (e *clientEnv) nodeClient(cmd *cobra.Command) (nodeClient, error) {
	c, err := e.client(cmd)
	if err != nil {
		return nil, err
	}
	nc, ok := c.(nodeClient)
	if !ok {
		return nil, fail(cmd, 2, "this client cannot update objects")
	}
	return nc, nil
}

// nodeArg takes the node from args: "node/NAME" (or nodes/, no/), "node
// NAME", or, when bare is allowed, "NAME". It returns the rest.
func nodeArg(args []string, bare bool) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, errors.New("a node is required: node/NAME")
	}
	first := args[0]
	if kind, name, ok := strings.Cut(first, "/"); ok {
		if !isNodeKind(kind) {
			return "", nil, fmt.Errorf("berth works on nodes here: give node/NAME, not %s", first)
		}
		if name == "" {
			return "", nil, fmt.Errorf("a node name is required: node/NAME")
		}
		return name, args[1:], nil
	}
	if isNodeKind(first) && len(args) > 1 && !strings.ContainsAny(args[1], "=:") && !strings.HasSuffix(args[1], "-") {
		return args[1], args[2:], nil
	}
	if bare {
		return first, args[1:], nil
	}
	return "", nil, fmt.Errorf("give the node as node/NAME, not %s", first)
}

func isNodeKind(s string) bool { return s == "node" || s == "nodes" || s == "no" }

// editNode reads node name, lets mutate change it, and writes it back if
// mutate says it changed, retrying when a heartbeat got in between.
func editNode(ctx context.Context, c nodeClient, name string, mutate func(*corev1.Node) (bool, error)) (bool, error) {
	var err error
	for range nodeUpdateAttempts {
		var obj store.Object
		obj, err = c.Get(ctx, "Node", "", name)
		if err != nil {
			return false, err
		}
		n, ok := obj.(*corev1.Node)
		if !ok {
			return false, fmt.Errorf("the server returned a %T for node %s", obj, name)
		}
		changed, merr := mutate(n)
		if merr != nil {
			return false, editError{merr}
		}
		if !changed {
			return false, nil
		}
		if _, err = c.Update(ctx, n); !errors.Is(err, store.ErrConflict) {
			return err == nil, err
		}
	}
	return false, err
}

// editError is a refusal of the edit itself (not the server's).
type editError struct{ err error }

func (e editError) Error() string { return e.err.Error() }

// nodeError reports err about node name.
func nodeError(cmd *cobra.Command, err error, name string) error {
	var ee editError
	if errors.As(err, &ee) {
		return fail(cmd, 1, "%v", ee.err)
	}
	return serverError(cmd, err, nodeKind(), name)
}

// nodeKind is the printers' Node kind, for kubectl-like not-found lines.
func nodeKind() printers.Kind {
	k, _ := printers.LookupKind("node")
	return k
}
