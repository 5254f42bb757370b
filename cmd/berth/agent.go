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
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes/join"
	"github.com/berth-io/berth/nodes/routes"
	"github.com/berth-io/berth/nodes/static"
	"github.com/berth-io/berth/reconciler/controller"
)

func newAgentCommand() *cobra.Command {
	var cfg static.NodeConfig
	var server, tokenFile, labels, taints, pprofAddr string
	cmd := &cobra.Command{
		Use:   "agent (--server URL --token-file F | --static-pods DIR) [--data-dir DIR] [--containerd-socket PATH] [--name N] [--labels k=v,...] [--taints k=v:Effect,...]",
		Short: "Run this machine's pods: join a server, or run the Pod manifests of a folder, on containerd",
		Long: `Run the node agent. With --server it joins that berth server with the
node token of --token-file (the server's DATA_DIR/node-token, which pins
its CA): it registers this machine as a Node (--name, --labels, --taints;
capacity from the host), waits for the pod subnet the server gives it,
and runs the pods the server binds to it. An agent that loses the server
keeps its pods running and reconnects.

With --static-pods it runs every Pod manifest in DIR
(ConfigMaps and Secrets beside them feed env and volumes), as kubelet's
static pods, and follows changes to DIR. Each pod's status is written to
DATA_DIR/pods/<namespace>_<name>.json.

Without --containerd-socket, berth starts and supervises its own containerd,
with its config, root, state and socket under the data dir.`,
		Example: `  berth agent --server https://10.0.0.1:6443 --token-file /etc/berth/node-token --labels tier=edge --taints dedicated=edge:NoSchedule
  berth agent --static-pods /etc/berth/pods --data-dir /var/lib/berth`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server != "" {
				return runJoin(cmd, join.Config{Server: server, TokenFile: tokenFile, DataDir: cfg.DataDir, NodeName: cfg.NodeName,
					ContainerdSocket: cfg.ContainerdSocket, Bridge: cfg.Bridge}, labels, taints, pprofAddr, cfg.Dir)
			}
			if cfg.Dir == "" {
				return errors.New("--static-pods DIR or --server URL is required")
			}
			if tokenFile != "" || labels != "" || taints != "" {
				return errors.New("--token-file, --labels and --taints are for joining a server: give --server too")
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
	f.StringVar(&server, "server", "", "server URL to join (https://HOST:PORT)")
	f.StringVar(&tokenFile, "token-file", "", "the node token to join with (the server's DATA_DIR/node-token)")
	f.StringVar(&labels, "labels", "", "labels of the node when it registers: k=v,k2=v2")
	f.StringVar(&taints, "taints", "", "taints of the node when it registers: key=value:Effect,key:Effect (NoSchedule, PreferNoSchedule, NoExecute)")
	// For finding where the agent's time and memory go; the environment
	// variable lets a test harness turn it on without a flag.
	f.StringVar(&pprofAddr, "debug-pprof", os.Getenv("BERTH_DEBUG_PPROF"), "serve Go's pprof on this address (e.g. 127.0.0.1:6060)")
	_ = f.MarkHidden("debug-pprof")
	return cmd
}

// runJoin is `berth agent --server`: it checks the flags and runs
// join.Run until a signal.
func runJoin(cmd *cobra.Command, cfg join.Config, labels, taints, pprofAddr, staticDir string) error {
	switch {
	case staticDir != "":
		return errors.New("--static-pods and --server exclude each other: a joined agent runs the pods the server binds to it")
	case cfg.TokenFile == "":
		return errors.New("--server needs --token-file (the server's DATA_DIR/node-token)")
	case cmd.Flags().Changed("pod-cidr"):
		return errors.New("--pod-cidr is given by the server to a joining agent; leave it out")
	}
	var err error
	if cfg.Labels, err = join.ParseLabels(labels); err != nil {
		return fmt.Errorf("--labels: %w", err)
	}
	if cfg.Taints, err = join.ParseTaints(taints); err != nil {
		return fmt.Errorf("--taints: %w", err)
	}
	cfg.Log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	if pprofAddr != "" {
		if err := servePprof(pprofAddr, cfg.Log); err != nil {
			return err
		}
	}
	// Routes to the pod subnets of nodes on other machines.
	cfg.Controllers = func(m *controller.Manager, node *corev1.Node) error {
		routes.Register(m, node.Name, func() string { return routes.InternalIP(node) })
		return nil
	}
	tuneAgentMemory()
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return join.Run(ctx, cfg)
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
	exe, ok := releasableExecutable()
	if !ok {
		return
	}
	releaseExecutablePages(exe)
	// Code that ran once (a burst of pod starts, a reconnect) stays mapped
	// until dropped: drop the executable's pages now and then, as Go's
	// scavenger returns heap it no longer uses. What is still in use is
	// faulted back from the page cache at once.
	go func() {
		for range time.Tick(binaryPagesRelease) {
			releaseExecutablePages(exe)
		}
	}()
}

// binaryPagesRelease is how often the agent drops its executable's mapped
// pages (see tuneAgentMemory).
const binaryPagesRelease = 30 * time.Second
