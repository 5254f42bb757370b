package main

import (
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-io/berth/nodes/static"
)

func newAgentCommand() *cobra.Command {
	var cfg static.NodeConfig
	var server string
	cmd := &cobra.Command{
		Use:   "agent --static-pods DIR [--data-dir DIR] [--containerd-socket PATH] [--name N]",
		Short: "Run this machine's pods: the Pod manifests of a folder, on containerd",
		Long: `Run the node agent. With --static-pods it runs every Pod manifest in DIR
(ConfigMaps and Secrets beside them feed env and volumes), as kubelet's
static pods, and follows changes to DIR. Each pod's status is written to
DATA_DIR/pods/<namespace>_<name>.json.

Without --containerd-socket, berth starts and supervises its own containerd,
with its config, root, state and socket under the data dir.`,
		Example: `  berth agent --static-pods /etc/berth/pods --data-dir /var/lib/berth`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server != "" {
				return errors.New("joining a server (--server) comes with `berth server`; use --static-pods for now")
			}
			if cfg.Dir == "" {
				return errors.New("--static-pods DIR is required")
			}
			cfg.Log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return static.RunNode(ctx, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Dir, "static-pods", "", "folder of Pod manifests to run")
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/berth", "the agent's state, logs and its own containerd")
	f.StringVar(&cfg.ContainerdSocket, "containerd-socket", "", "use this containerd instead of starting one")
	f.StringVar(&cfg.NodeName, "name", "", "node name (default: the hostname)")
	f.StringVar(&cfg.PodCIDR, "pod-cidr", "10.42.0.0/24", "this node's pod subnet")
	f.StringVar(&cfg.Bridge, "bridge", "berth0", "the pods' network bridge")
	f.StringVar(&server, "server", "", "server URL to join (not yet available)")
	return cmd
}
