// Command berth is GitOps without Kubernetes: it keeps containerd nodes
// running what a Git repository of Kubernetes manifests declares.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/utils/clock"
)

// version is set at build time: -ldflags "-X main.version=v0.1.0".
var version = "dev"

// exitError carries a process exit code out of a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	root := newRootCommand()
	if err := root.Execute(); err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		// Usage and flag errors.
		fmt.Fprintln(os.Stderr, "berth:", err)
		os.Exit(2)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "berth",
		Short:         "GitOps without Kubernetes: Kubernetes manifests from Git, run on containerd",
		SilenceUsage:  true,
		SilenceErrors: true, // main prints them, without the usage text

	}
	root.AddCommand(newVersionCommand(), newValidateCommand(), newAgentCommand())
	root.AddCommand(newClientCommands(connectServer, clock.RealClock{})...)
	root.AddCommand(newServerCommand())
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print berth's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "berth", version)
		},
	}
}
