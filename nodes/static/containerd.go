package static

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/nodes/local"
)

// NodeConfig is what `berth agent --static-pods` is given.
type NodeConfig struct {
	// Dir holds the Pod manifests.
	Dir string
	// DataDir is the agent's own (default /var/lib/berth): its containerd,
	// CNI state, container logs and pod status files live under it.
	DataDir string
	// NodeName names the node (default: the hostname).
	NodeName string
	// ContainerdSocket is an existing containerd to use; empty: berth
	// starts and supervises its own under DataDir.
	ContainerdSocket string
	// PodCIDR is the node's pod subnet (default 10.42.0.0/24).
	PodCIDR string
	// Bridge names the pods' bridge (default berth0).
	Bridge string
	// Log gets what the agent does.
	Log *slog.Logger
}

// RunNode runs the standalone agent on containerd until ctx ends: its own
// managed containerd unless a socket is given, CNI networking for the
// pods, and the pods of cfg.Dir.
func RunNode(ctx context.Context, cfg NodeConfig) error {
	if cfg.DataDir == "" {
		cfg.DataDir = "/var/lib/berth"
	}
	if cfg.PodCIDR == "" {
		cfg.PodCIDR = "10.42.0.0/24"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if info, err := os.Stat(cfg.Dir); err != nil || !info.IsDir() {
		return fmt.Errorf("--static-pods %s: not a folder (%v)", cfg.Dir, err)
	}
	rt, err := local.Start(ctx, local.Config{DataDir: cfg.DataDir, ContainerdSocket: cfg.ContainerdSocket,
		PodCIDR: cfg.PodCIDR, Bridge: cfg.Bridge, Log: cfg.Log})
	if err != nil {
		return err
	}
	defer rt.Close()
	return Run(ctx, Options{
		Dir:      cfg.Dir,
		DataDir:  cfg.DataDir,
		NodeName: cfg.NodeName,
		Runtime:  rt,
		Agent:    agent.Config{PodCIDR: cfg.PodCIDR, RuntimeName: "containerd", ResyncPeriod: 2 * time.Second},
		Log:      cfg.Log,
		Started:  func(a *agent.Agent) { rt.OnExit(a.Notify) },
	})
}

// NetworkName is local.NetworkName, kept for callers of this package.
func NetworkName(bridge string) string { return local.NetworkName(bridge) }
