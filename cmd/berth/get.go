package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-io/berth/reconciler/api/printers"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

func newGetCommand(env *clientEnv) *cobra.Command {
	var (
		ns       namespaceFlags
		output   string
		selector string
	)
	cmd := &cobra.Command{
		Use:   "get KIND [NAME...] | KIND/NAME...",
		Short: "List objects, as kubectl get does",
		Long: `List objects of one kind, or show named ones.

KIND: nodes (no), pods (po), deployments (deploy), replicasets (rs),
daemonsets (ds), statefulsets (sts), jobs, cronjobs (cj), services (svc),
configmaps (cm), secrets, sources, events (ev), namespaces (ns).

Objects applied from a source get SYNC and HEALTH columns; an object
held off its Git version by 'berth rollout undo' shows SYNC Pinned.

Exit status: 0 ok (also when nothing is found), 1 an object named is not
found, 2 usage or connection error.`,
		Example: `  berth get deploy
  berth get pods -A -o wide
  berth get deploy/web -o yaml
  berth get pods -l app=web`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := printers.ParseFormat(output)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			reqs, err := parseGetArgs(args)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			if selector != "" && reqs[0].name != "" {
				return fail(cmd, 2, "name cannot be provided when a selector is specified")
			}
			c, err := env.client(cmd)
			if err != nil {
				return err
			}
			return runGet(cmd, env, c, reqs, ns, format, selector)
		},
	}
	ns.add(cmd, true)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, wide, json or yaml")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "label selector (app=web,tier!=db)")
	return cmd
}

// getRequest is one kind to list, or one object to get (name set).
type getRequest struct {
	kind printers.Kind
	name string
}

// parseGetArgs reads "KIND", "KIND NAME...", or "KIND/NAME...".
func parseGetArgs(args []string) ([]getRequest, error) {
	if strings.Contains(args[0], "/") {
		var reqs []getRequest
		for _, a := range args {
			if !strings.Contains(a, "/") {
				return nil, fmt.Errorf("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'berth get deploy/web' instead of 'berth get deploy deploy/web')")
			}
			k, name, err := printers.ParseKindName(a)
			if err != nil {
				return nil, err
			}
			reqs = append(reqs, getRequest{k, name})
		}
		return reqs, nil
	}
	k, err := printers.LookupKind(args[0])
	if err != nil {
		return nil, err
	}
	if len(args) == 1 {
		return []getRequest{{kind: k}}, nil
	}
	var reqs []getRequest
	for _, name := range args[1:] {
		if strings.Contains(name, "/") {
			return nil, fmt.Errorf("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'berth get deploy/web' instead of 'berth get deploy deploy/web')")
		}
		reqs = append(reqs, getRequest{k, name})
	}
	return reqs, nil
}

func runGet(cmd *cobra.Command, env *clientEnv, c serverClient, reqs []getRequest, ns namespaceFlags, format, selector string) error {
	ctx := cmd.Context()
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	failed := false
	// Objects of one kind print as one table; kinds keep argument order.
	var (
		order  []printers.Kind
		byKind = map[string][]store.Object{}
		all    []store.Object
	)
	add := func(k printers.Kind, objs ...store.Object) {
		if _, seen := byKind[k.Kind]; !seen {
			order = append(order, k)
		}
		byKind[k.Kind] = append(byKind[k.Kind], objs...)
		all = append(all, objs...)
	}
	for _, r := range reqs {
		if r.name == "" {
			objs, _, err := c.List(ctx, r.kind.Kind, ns.listNamespace(r.kind), selector)
			if err != nil {
				return serverError(cmd, err, r.kind, "")
			}
			add(r.kind, objs...)
			continue
		}
		obj, err := c.Get(ctx, r.kind.Kind, ns.objectNamespace(r.kind), r.name)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				fmt.Fprintln(errOut, printers.NotFound(r.kind, r.name))
				failed = true
				continue
			}
			return serverError(cmd, err, r.kind, r.name)
		}
		add(r.kind, obj)
	}

	switch {
	case format == printers.FormatJSON || format == printers.FormatYAML:
		var err error
		if len(reqs) == 1 && reqs[0].name != "" {
			if len(all) == 1 {
				err = printers.PrintObject(out, format, all[0])
			}
		} else if len(all) > 0 || !failed {
			err = printers.PrintList(out, format, all)
		}
		if err != nil {
			return fail(cmd, 1, "%v", err)
		}
	case len(all) == 0:
		if !failed {
			fmt.Fprintln(errOut, noResources(reqs[0].kind, ns))
		}
	default:
		opts := printers.TableOptions{Wide: format == printers.FormatWide, AllNamespaces: ns.allNamespaces, Now: env.clock.Now()}
		opts.Sources = sourceIndex(ctx, c, all)
		for i, k := range order {
			if i > 0 {
				fmt.Fprintln(out)
			}
			if err := printers.PrintTable(out, k, byKind[k.Kind], opts); err != nil {
				return fail(cmd, 1, "%v", err)
			}
		}
	}
	if failed {
		return exitError{1}
	}
	return nil
}

// noResources is kubectl's message for an empty list.
func noResources(k printers.Kind, ns namespaceFlags) string {
	if ns.allNamespaces || !k.Namespaced {
		return "No resources found"
	}
	return fmt.Sprintf("No resources found in %s namespace.", ns.namespace)
}

// sourceIndex lists the sources when some object came from one, for the
// SYNC and HEALTH columns; nil when none did. A failed list leaves the
// columns "Unknown" rather than failing the command.
func sourceIndex(ctx context.Context, c serverClient, objs []store.Object) *printers.SourceIndex {
	sourced := false
	for _, obj := range objs {
		if labeled, ok := obj.(interface{ GetLabels() map[string]string }); ok && labeled.GetLabels()[printers.LabelSource] != "" {
			sourced = true
			break
		}
	}
	if !sourced {
		return nil
	}
	list, _, err := c.List(ctx, sources.Kind, "", "")
	if err != nil {
		return printers.NewSourceIndex(nil)
	}
	var srcs []*sources.Resource
	for _, o := range list {
		if s, ok := o.(*sources.Resource); ok {
			srcs = append(srcs, s)
		}
	}
	return printers.NewSourceIndex(srcs)
}
