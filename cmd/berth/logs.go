package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-io/berth/reconciler/api/printers"
)

func newLogsCommand(env *clientEnv) *cobra.Command {
	var (
		ns        namespaceFlags
		container string
		follow    bool
		previous  bool
	)
	cmd := &cobra.Command{
		Use:   "logs POD [-c CONTAINER]",
		Short: "Print a container's log",
		Long: `Print the log of a pod's container (its only one, or -c CONTAINER): the
current run, or with --previous the one before the last restart; -f keeps
following it.

Exit status: 0 ok, 1 the pod or container is not found, 2 usage or
connection error.`,
		Example: `  berth logs web-5d8f-x2k4q
  berth logs web-5d8f-x2k4q -c sidecar --previous
  berth logs -f pod/web-5d8f-x2k4q -n shop`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pods, _ := printers.LookupKind("pods")
			name := args[0]
			if strings.Contains(name, "/") {
				k, n, err := printers.ParseKindName(name)
				if err != nil {
					return fail(cmd, 2, "%v", err)
				}
				if k.Kind != "Pod" {
					return fail(cmd, 2, "berth logs reads a pod's logs: give POD or pod/POD, not %s", name)
				}
				name = n
			}
			c, err := env.client(cmd)
			if err != nil {
				return err
			}
			if err := c.Logs(cmd.Context(), ns.namespace, name, container, previous, follow, cmd.OutOrStdout()); err != nil {
				return serverError(cmd, err, pods, name)
			}
			return nil
		},
	}
	ns.add(cmd, false)
	cmd.Flags().StringVarP(&container, "container", "c", "", "the container (needed when the pod has several)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until the container stops")
	cmd.Flags().BoolVarP(&previous, "previous", "p", false, "print the previous run of the container (before its last restart)")
	return cmd
}
