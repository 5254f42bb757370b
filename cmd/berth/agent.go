package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-io/berth/nodes/static"
)

func newAgentCommand() *cobra.Command {
	var cfg static.NodeConfig
	var server, pprofAddr string
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
				return errors.New("joining a server (--server) is not available yet: `berth server` runs this machine's agent itself, and --static-pods runs an agent on its own")
			}
			if cfg.Dir == "" {
				return errors.New("--static-pods DIR is required")
			}
			cfg.Log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			if pprofAddr != "" {
				if err := servePprof(pprofAddr, cfg.Log); err != nil {
					return err
				}
			}
			tuneAgentMemory()
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
	// For finding where the agent's time and memory go; the environment
	// variable lets a test harness turn it on without a flag.
	f.StringVar(&pprofAddr, "debug-pprof", os.Getenv("BERTH_DEBUG_PPROF"), "serve Go's pprof on this address (e.g. 127.0.0.1:6060)")
	_ = f.MarkHidden("debug-pprof")
	return cmd
}

// servePprof serves the runtime profiles on addr, on a mux of its own.
func servePprof(addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--debug-pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("serving pprof", "addr", ln.Addr().String())
	go func() { _ = http.Serve(ln, mux) }()
	return nil
}

// agentGCPercent is the agent's GOGC. Its live heap is small (a few MiB
// for tens of pods) and changes slowly, so collecting at 25% growth
// instead of 100% costs little CPU (gctrace: under 1% while 50 pods start)
// and keeps the heap's high-water mark, and so its RSS, lower. The GOGC environment variable still wins.
const agentGCPercent = 25

// tuneAgentMemory sets what keeps a long-running agent's footprint small.
func tuneAgentMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(agentGCPercent)
	}
	unmapStartupPages()
}
