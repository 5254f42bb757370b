package static

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/nodes/cni"
	"github.com/berth-io/berth/nodes/containerd"
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
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	socket := cfg.ContainerdSocket
	if socket == "" {
		d, err := containerd.StartDaemon(ctx, containerd.DaemonConfig{DataDir: cfg.DataDir, Log: cfg.Log})
		if err != nil {
			return fmt.Errorf("starting containerd: %w", err)
		}
		defer d.Stop()
		socket = d.Socket()
	}
	network, err := cni.New(cni.Config{StateDir: filepath.Join(cfg.DataDir, "cni"), BridgeName: cfg.Bridge, Subnet: cfg.PodCIDR,
		NetworkName: NetworkName(cfg.Bridge)})
	if err != nil {
		return fmt.Errorf("pod network: %w", err)
	}
	var started atomic.Pointer[agent.Agent]
	rt, err := containerd.New(ctx, containerd.Options{
		Address:  socket,
		StateDir: filepath.Join(cfg.DataDir, "runtime"),
		LogDir:   filepath.Join(cfg.DataDir, "logs"),
		Network:  containerd.CNINetwork{Net: network},
		Log:      cfg.Log,
		OnExit: func(st nodes.ContainerStatus) {
			if a := started.Load(); a != nil {
				a.Notify(st.Labels[nodes.LabelPodNamespace] + "/" + st.Labels[nodes.LabelPodName])
			}
		},
	})
	if err != nil {
		return fmt.Errorf("containerd at %s: %w", socket, err)
	}
	defer rt.Close()
	return Run(ctx, Options{
		Dir:      cfg.Dir,
		DataDir:  cfg.DataDir,
		NodeName: cfg.NodeName,
		Runtime:  rt,
		Agent:    agent.Config{PodCIDR: cfg.PodCIDR, RuntimeName: "containerd", ResyncPeriod: 2 * time.Second},
		Log:      cfg.Log,
		Started:  func(a *agent.Agent) { started.Store(a) },
	})
}

// NetworkName is the CNI network of an agent whose pods use bridge: the
// default bridge's is cni's default, another bridge's is named after it.
// The bridge plugin names its iptables chains and comments after the
// network, so two agents on one machine (each with its own bridge) must
// not share a name: cleaning up one would remove the other's rules.
func NetworkName(bridge string) string {
	if bridge == "" || bridge == cni.DefaultBridgeName {
		return cni.DefaultNetworkName
	}
	return cni.DefaultNetworkName + "-" + bridge
}
