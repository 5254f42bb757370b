package cni

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
)

// Defaults for Config's zero fields.
const (
	DefaultBridgeName  = "berth0"
	DefaultNetworkName = "berth"
	// cniVersion is the newest version the Debian plugins (1.1.x) speak.
	cniVersion = "1.0.0"
	// podIfName is the pod's interface, as in Kubernetes.
	podIfName = "eth0"
)

// DefaultPluginDirs are searched for CNI plugin binaries when
// Config.PluginDirs is empty: Debian's package, then the upstream tarball's
// usual place.
var DefaultPluginDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// Config describes the node's pod network.
type Config struct {
	// PluginDirs are searched for the plugin binaries (default
	// DefaultPluginDirs).
	PluginDirs []string
	// StateDir holds the netns files, host-local's IP reservations and
	// libcni's cache, e.g. <data-dir>/cni. Required.
	StateDir string
	// BridgeName is the Linux bridge the pods attach to (default "berth0";
	// at most 15 bytes).
	BridgeName string
	// Subnet is the node's pod CIDR, e.g. "10.88.0.0/24". Required. The
	// bridge takes its first address as the pods' gateway.
	Subnet string
	// NetworkName names the CNI network (default "berth"). The bridge
	// plugin names its iptables chains and comments after it, so it must
	// be unique among the CNI networks on the machine.
	NetworkName string
	// Firewall adds the firewall plugin (iptables backend), which accepts
	// the pods' traffic in FORWARD: needed where FORWARD's policy is DROP
	// (Docker sets that).
	Firewall bool
}

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.StateDir == "" {
		return c, fmt.Errorf("cni: Config.StateDir is required (e.g. <data-dir>/cni)")
	}
	abs, err := filepath.Abs(c.StateDir)
	if err != nil {
		return c, fmt.Errorf("cni: state dir %q: %w", c.StateDir, err)
	}
	c.StateDir = abs
	if len(c.PluginDirs) == 0 {
		c.PluginDirs = DefaultPluginDirs
	}
	if c.BridgeName == "" {
		c.BridgeName = DefaultBridgeName
	}
	if len(c.BridgeName) > 15 {
		return c, fmt.Errorf("cni: bridge name %q is longer than Linux's 15-byte limit", c.BridgeName)
	}
	if c.NetworkName == "" {
		c.NetworkName = DefaultNetworkName
	}
	if c.Subnet == "" {
		return c, fmt.Errorf("cni: Config.Subnet is required (the node's pod CIDR, e.g. 10.88.0.0/24)")
	}
	ip, ipnet, err := net.ParseCIDR(c.Subnet)
	if err != nil {
		return c, fmt.Errorf("cni: pod subnet %q is not a CIDR such as 10.88.0.0/24: %w", c.Subnet, err)
	}
	if ip.To4() == nil {
		return c, fmt.Errorf("cni: pod subnet %q: only IPv4 is supported", c.Subnet)
	}
	if ones, _ := ipnet.Mask.Size(); ones > 30 {
		return c, fmt.Errorf("cni: pod subnet %q is too small; use /30 or larger", c.Subnet)
	}
	c.Subnet = ipnet.String()
	return c, nil
}

func (c Config) netnsDir() string { return filepath.Join(c.StateDir, "netns") }
func (c Config) ipamDir() string  { return filepath.Join(c.StateDir, "ipam") }
func (c Config) cacheDir() string { return filepath.Join(c.StateDir, "cache") }

// confList renders the network's CNI configuration list: bridge with
// host-local IPAM, portmap, and optionally firewall. Loopback is run as a
// network of its own (see loopbackConf) because it configures "lo", not
// the pod's eth0.
func (c Config) confList() ([]byte, error) {
	plugins := []map[string]any{
		{
			"type":        "bridge",
			"bridge":      c.BridgeName,
			"isGateway":   true,
			"ipMasq":      true,
			"hairpinMode": true,
			"ipam": map[string]any{
				"type":    "host-local",
				"dataDir": c.ipamDir(),
				"ranges":  [][]map[string]string{{{"subnet": c.Subnet}}},
				"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
			},
		},
		{
			"type":         "portmap",
			"capabilities": map[string]bool{"portMappings": true},
		},
	}
	if c.Firewall {
		plugins = append(plugins, map[string]any{"type": "firewall", "backend": "iptables"})
	}
	return json.MarshalIndent(map[string]any{
		"cniVersion": cniVersion,
		"name":       c.NetworkName,
		"plugins":    plugins,
	}, "", "  ")
}

// loopbackConf is the single-plugin network that brings "lo" up.
func loopbackConf() []byte {
	return []byte(`{"cniVersion":"` + cniVersion + `","name":"berth-loopback","type":"loopback"}`)
}
