package main

import (
	"fmt"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/api/printers"
	"github.com/berth-io/berth/reconciler/store"
)

func newEventsCommand(env *clientEnv) *cobra.Command {
	var (
		ns     namespaceFlags
		forObj string
		watch  bool
	)
	cmd := &cobra.Command{
		Use:   "events [--for KIND/NAME] [-w]",
		Short: "List events, oldest first, as kubectl events does",
		Example: `  berth events
  berth events --for deploy/web -w
  berth events -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var (
				forKind printers.Kind
				forName string
			)
			if forObj != "" {
				var err error
				if forKind, forName, err = printers.ParseKindName(forObj); err != nil {
					return fail(cmd, 2, "--for: %v", err)
				}
			}
			c, err := env.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			namespace := ns.namespace
			if ns.allNamespaces {
				namespace = ""
			}
			evKind, _ := printers.LookupKind("events")
			objs, rv, err := c.List(ctx, "Event", namespace, "")
			if err != nil {
				return serverError(cmd, err, evKind, "")
			}
			keep := func(e *corev1.Event) bool {
				return forName == "" || (e.InvolvedObject.Kind == forKind.Kind && e.InvolvedObject.Name == forName)
			}
			var events []corev1.Event
			for _, o := range objs {
				if e, ok := o.(*corev1.Event); ok && keep(e) {
					events = append(events, *e)
				}
			}
			printers.SortEvents(events)
			p := &printers.EventPrinter{AllNamespaces: ns.allNamespaces, Now: env.clock.Now}
			out := cmd.OutOrStdout()
			if len(events) > 0 {
				if err := p.Print(out, events...); err != nil {
					return fail(cmd, 1, "%v", err)
				}
			} else if !watch {
				if ns.allNamespaces {
					fmt.Fprintln(cmd.ErrOrStderr(), "No events found.")
				} else {
					fmt.Fprintf(cmd.ErrOrStderr(), "No events found in %s namespace.\n", ns.namespace)
				}
				return nil
			}
			if !watch {
				return nil
			}
			ch, err := c.Watch(ctx, "Event", namespace, rv)
			if err != nil {
				return serverError(cmd, err, evKind, "")
			}
			for ev := range ch {
				if err := watchError(ev); err != nil {
					return serverError(cmd, err, evKind, "")
				}
				// Events expire; their deletion is not news.
				e, ok := ev.Object.(*corev1.Event)
				if ev.Type == store.Deleted || !ok || !keep(e) {
					continue
				}
				if err := p.Print(out, *e); err != nil {
					return fail(cmd, 1, "%v", err)
				}
			}
			if ctx.Err() == nil {
				return fail(cmd, 1, "the server ended the watch; run the command again to go on following events")
			}
			return nil
		},
	}
	ns.add(cmd, true)
	cmd.Flags().StringVar(&forObj, "for", "", "only the events of this object (KIND/NAME)")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "after the list, print new events as they happen")
	return cmd
}
