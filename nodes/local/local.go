// Package local assembles this machine's node runtime: containerd (the one
// berth starts and supervises under the data dir, or an existing socket),
// the pods' CNI network and the containerd Runtime. `berth agent` and the
// in-process agent of `berth server` both start from here, so a pod runs
// the same way under either.
package local

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/nodes/cni"
	"github.com/berth-io/berth/nodes/containerd"
)

// Config is what the local runtime needs.
type Config struct {
	// DataDir holds the managed containerd, CNI state, runtime state and
	// container logs (under logs/).
	DataDir string
	// ContainerdSocket is an existing containerd to use; empty: berth
	// starts and supervises its own under DataDir.
	ContainerdSocket string
	// PodCIDR is the node's pod subnet.
	PodCIDR string
	// Bridge names the pods' bridge ("" = cni's default).
	Bridge string
	// Log gets what containerd and the runtime do.
	Log *slog.Logger
}

// Runtime is a running local runtime.
type Runtime struct {
	*containerd.Runtime
	// LogDir is where container logs go: DataDir/logs.
	LogDir string

	notify atomic.Pointer[func(key string)]
	daemon *containerd.Daemon
}

// Start starts (or connects to) containerd and opens the runtime. Close
// releases it; a managed containerd is stopped, the containers keep
// running.
func Start(ctx context.Context, cfg Config) (*Runtime, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("--data-dir: %w", err)
	}
	r := &Runtime{LogDir: filepath.Join(cfg.DataDir, "logs")}
	socket := cfg.ContainerdSocket
	if socket == "" {
		d, err := containerd.StartDaemon(ctx, containerd.DaemonConfig{DataDir: cfg.DataDir, Log: cfg.Log})
		if err != nil {
			return nil, fmt.Errorf("starting containerd: %w", err)
		}
		r.daemon = d
		socket = d.Socket()
	}
	network, err := cni.New(cni.Config{StateDir: filepath.Join(cfg.DataDir, "cni"), BridgeName: cfg.Bridge, Subnet: cfg.PodCIDR,
		NetworkName: NetworkName(cfg.Bridge)})
	if err != nil {
		r.stopDaemon()
		return nil, fmt.Errorf("pod network: %w", err)
	}
	rt, err := containerd.New(ctx, containerd.Options{
		Address:  socket,
		StateDir: filepath.Join(cfg.DataDir, "runtime"),
		LogDir:   r.LogDir,
		Network:  containerd.CNINetwork{Net: network},
		Log:      cfg.Log,
		OnExit: func(st nodes.ContainerStatus) {
			if f := r.notify.Load(); f != nil {
				(*f)(st.Labels[nodes.LabelPodNamespace] + "/" + st.Labels[nodes.LabelPodName])
			}
		},
	})
	if err != nil {
		r.stopDaemon()
		return nil, fmt.Errorf("containerd at %s: %w", socket, err)
	}
	r.Runtime = rt
	return r, nil
}

// OnExit sets who hears of container exits (the agent's Notify, with the
// pod's namespace/name key); exits before it is set are found by the
// agent's resync.
func (r *Runtime) OnExit(notify func(key string)) { r.notify.Store(&notify) }

// Close closes the runtime and stops a managed containerd.
func (r *Runtime) Close() error {
	err := r.Runtime.Close()
	r.stopDaemon()
	return err
}

func (r *Runtime) stopDaemon() {
	if r.daemon != nil {
		r.daemon.Stop()
	}
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
