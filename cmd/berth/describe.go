package main

import (
	"strings"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/api/printers"
	"github.com/berth-io/berth/reconciler/store"
)

func newDescribeCommand(env *clientEnv) *cobra.Command {
	var ns namespaceFlags
	cmd := &cobra.Command{
		Use:   "describe KIND/NAME | KIND NAME",
		Short: "Show an object in detail, with its events, as kubectl describe does",
		Long: `Show an object in detail: pods, deployments, replica sets, nodes and
sources have their own layout (a source lists its conditions, skipped
files and every object it applied with its sync status and health); other
kinds show their metadata, spec and status. The object's events come last.

Exit status: 0 ok, 1 not found, 2 usage or connection error.`,
		Example: `  berth describe deploy/web
  berth describe source/apps
  berth describe pod web-5d8f-x2k4q -n shop`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, name, err := kindAndName(args)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			c, err := env.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			namespace := ns.objectNamespace(k)
			obj, err := c.Get(ctx, k.Kind, namespace, name)
			if err != nil {
				return serverError(cmd, err, k, name)
			}
			rel := printers.Related{Now: env.clock.Now()}
			// What follows is context: a failure to fetch it leaves it out
			// rather than failing the command, as kubectl does.
			if evs, _, err := c.List(ctx, "Event", namespace, ""); err == nil {
				rel.Events = printers.EventsFor(eventsOf(evs), k.Kind, namespace, name)
			}
			switch x := obj.(type) {
			case *appsv1.Deployment:
				if rss, _, err := c.List(ctx, "ReplicaSet", namespace, ""); err == nil {
					for _, o := range rss {
						if rs, ok := o.(*appsv1.ReplicaSet); ok && ownedBy(rs, x.UID) {
							rel.ReplicaSets = append(rel.ReplicaSets, rs)
						}
					}
				}
			case *appsv1.ReplicaSet:
				rel.Pods = podsIn(cmd, c, namespace)
			case *corev1.Node:
				rel.Pods = podsIn(cmd, c, "")
			}
			rel.Sources = sourceIndex(ctx, c, []store.Object{obj})
			if err := printers.Describe(cmd.OutOrStdout(), obj, rel); err != nil {
				return fail(cmd, 1, "%v", err)
			}
			return nil
		},
	}
	ns.add(cmd, false)
	return cmd
}

// kindAndName reads "KIND/NAME" or "KIND NAME".
func kindAndName(args []string) (printers.Kind, string, error) {
	if len(args) == 1 || strings.Contains(args[0], "/") {
		if len(args) > 1 {
			return printers.Kind{}, "", errTooManyArgs
		}
		return printers.ParseKindName(args[0])
	}
	k, err := printers.LookupKind(args[0])
	return k, args[1], err
}

type usageError string

func (e usageError) Error() string { return string(e) }

const errTooManyArgs = usageError("give one object, as KIND/NAME (deploy/web) or KIND NAME (deploy web)")

func eventsOf(objs []store.Object) []corev1.Event {
	out := make([]corev1.Event, 0, len(objs))
	for _, o := range objs {
		if e, ok := o.(*corev1.Event); ok {
			out = append(out, *e)
		}
	}
	return out
}

func ownedBy(obj metav1.Object, uid types.UID) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.UID == uid
}

func podsIn(cmd *cobra.Command, c serverClient, namespace string) []*corev1.Pod {
	objs, _, err := c.List(cmd.Context(), "Pod", namespace, "")
	if err != nil {
		return nil
	}
	var pods []*corev1.Pod
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			pods = append(pods, p)
		}
	}
	return pods
}
