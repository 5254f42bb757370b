package containerd

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// daemonDisabledPlugins are containerd plugins berth has no use for. The
// CRI plugin above all: berth is its own kubelet, and CRI would start its
// own CNI handling and pause-image sandboxes, and use memory, for nothing.
var daemonDisabledPlugins = []string{
	"io.containerd.grpc.v1.cri",
	"io.containerd.snapshotter.v1.aufs",
	"io.containerd.snapshotter.v1.btrfs",
	"io.containerd.snapshotter.v1.devmapper",
	"io.containerd.snapshotter.v1.zfs",
}

// daemonConfigTOML renders containerd's config.toml (version 2, the format
// of containerd 1.5 to 1.7; see `containerd config default`) with every
// path under dir, so the daemon shares nothing with a containerd the host
// may run. The overlayfs snapshotter is containerd's default and needs no
// entry.
func daemonConfigTOML(dir, socket, logLevel string) (string, error) {
	for _, p := range []string{dir, socket} {
		if strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return "", fmt.Errorf("containerd: path %q has control characters", p)
		}
	}
	q := strconv.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by berth at each start; edits are lost.\n")
	fmt.Fprintf(&b, "version = 2\n")
	fmt.Fprintf(&b, "root = %s\n", q(filepath.Join(dir, "root")))
	fmt.Fprintf(&b, "state = %s\n", q(filepath.Join(dir, "state")))
	fmt.Fprintf(&b, "disabled_plugins = [")
	for i, p := range daemonDisabledPlugins {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q(p))
	}
	fmt.Fprintf(&b, "]\n\n[grpc]\n  address = %s\n", q(socket))
	fmt.Fprintf(&b, "\n[ttrpc]\n  address = %s\n", q(socket+".ttrpc"))
	if logLevel != "" {
		fmt.Fprintf(&b, "\n[debug]\n  level = %s\n", q(logLevel))
	}
	fmt.Fprintf(&b, "\n[plugins]\n  [plugins.\"io.containerd.internal.v1.opt\"]\n    path = %s\n", q(filepath.Join(dir, "opt")))
	return b.String(), nil
}

// writeDaemonConfig writes the config file and makes the directories it
// names.
func writeDaemonConfig(dir, socket, logLevel string) (string, error) {
	text, err := daemonConfigTOML(dir, socket, logLevel)
	if err != nil {
		return "", err
	}
	for _, d := range []string{dir, filepath.Join(dir, "root"), filepath.Join(dir, "state"), filepath.Dir(socket)} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return "", fmt.Errorf("containerd: %w", err)
		}
	}
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return "", fmt.Errorf("containerd: write %s: %w", path, err)
	}
	return path, nil
}
