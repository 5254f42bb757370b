package cni

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"sync"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

// ErrNotFound is returned by Status for a pod that has no network namespace.
var ErrNotFound = errors.New("no network namespace for pod")

// PortMapping is one hostPort, in the shape portmap's "portMappings"
// capability expects.
type PortMapping struct {
	HostPort      int32  `json:"hostPort"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`         // "tcp" or "udp" (lower case; default tcp)
	HostIP        string `json:"hostIP,omitempty"` // "" = every host address
}

// Sandbox is a pod's network: its namespace and address.
type Sandbox struct {
	// NetNSPath is the bind-mounted namespace file; containers join it
	// with a network namespace entry of this path in their OCI spec.
	NetNSPath string
	// IP is the pod's address on the node's subnet.
	IP net.IP
}

// Network is the node's pod network. It is safe for concurrent use.
type Network struct {
	cfg      Config
	portsMu  sync.Mutex // serialises hostPort checks with their ADD
	cni      *libcni.CNIConfig
	list     *libcni.NetworkConfigList
	loopback *libcni.NetworkConfig
}

// New checks cfg, creates its StateDir and writes the network's conflist
// to StateDir/net.d/<NetworkName>.conflist (for people and tools to read;
// the Network uses its in-memory copy). Nothing is done to the host's
// network until the first Setup, which creates the bridge.
func New(cfg Config) (*Network, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	raw, err := cfg.confList()
	if err != nil {
		return nil, err
	}
	list, err := libcni.NetworkConfFromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("cni: parse generated conflist: %w", err)
	}
	lo, err := libcni.NetworkPluginConfFromBytes(loopbackConf())
	if err != nil {
		return nil, fmt.Errorf("cni: parse loopback conf: %w", err)
	}
	for _, d := range []string{cfg.StateDir, cfg.netnsDir(), cfg.ipamDir(), cfg.cacheDir(), filepath.Join(cfg.StateDir, "net.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("cni: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(cfg.StateDir, "net.d", cfg.NetworkName+".conflist"), raw, 0o644); err != nil {
		return nil, fmt.Errorf("cni: %w", err)
	}
	return &Network{
		cfg:      cfg,
		cni:      libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, cfg.cacheDir(), nil),
		list:     list,
		loopback: lo,
	}, nil
}

// Config returns the configuration in effect, defaults filled in.
func (n *Network) Config() Config { return n.cfg }

// ConfList returns the network's CNI configuration list (JSON).
func (n *Network) ConfList() []byte { return n.list.Bytes }

// NetNSPath is where the namespace of podID is (or would be) mounted.
func (n *Network) NetNSPath(podID string) string {
	return filepath.Join(n.cfg.netnsDir(), podID)
}

// podIDRe is CNI's rule for container IDs; it also keeps podID a plain
// file name under the netns directory.
var podIDRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)

func checkPodID(podID string) error {
	if !podIDRe.MatchString(podID) {
		return fmt.Errorf("cni: pod ID %q must be letters, digits, '_', '.' and '-', not starting with a punctuation mark", podID)
	}
	return nil
}

// Setup creates the pod's network namespace and attaches it to the
// network (loopback up; eth0 on the bridge with an address from the node
// subnet and a default route; the hostPorts in ports published by
// portmap). podID identifies the attachment for Teardown and must be
// unique on the node (the sandbox ID or pod UID); namespace and name are
// passed to the plugins as K8S_POD_NAMESPACE and K8S_POD_NAME.
//
// A hostPort already taken (by a host process or another pod of this
// network) fails with an error wrapping ErrPortInUse. On failure nothing
// is left behind. Setup on a podID that already has a
// namespace fails: Teardown it first.
func (n *Network) Setup(ctx context.Context, podID, namespace, name string, ports []PortMapping) (Sandbox, error) {
	if err := checkPodID(podID); err != nil {
		return Sandbox{}, err
	}
	path := n.NetNSPath(podID)
	if _, err := os.Lstat(path); err == nil {
		return Sandbox{}, fmt.Errorf("cni: pod %s already has a network namespace at %s; tear it down first", podID, path)
	}
	if len(ports) > 0 {
		n.portsMu.Lock()
		defer n.portsMu.Unlock()
		if err := n.checkHostPorts(podID, ports); err != nil {
			return Sandbox{}, fmt.Errorf("cni: pod %s: %w", podID, err)
		}
	}
	if err := newNetNS(path); err != nil {
		return Sandbox{}, fmt.Errorf("cni: pod %s: %w", podID, err)
	}
	sb, err := n.attach(ctx, podID, namespace, name, path, ports)
	if err != nil {
		// Undo with a fresh context: ctx may be what just expired. The
		// namespace goes even if DEL failed: a caller that got an error
		// has no pod to tear down (Cleanup catches leaked rules).
		_ = n.Teardown(context.WithoutCancel(ctx), podID, path, ports)
		_ = removeNetNS(path)
		return Sandbox{}, err
	}
	return sb, nil
}

func (n *Network) attach(ctx context.Context, podID, namespace, name, path string, ports []PortMapping) (Sandbox, error) {
	if _, err := n.cni.AddNetwork(ctx, n.loopback, n.loopbackRT(podID, path)); err != nil {
		return Sandbox{}, fmt.Errorf("cni: pod %s: bring up loopback: %w", podID, err)
	}
	res, err := n.cni.AddNetworkList(ctx, n.list, n.runtimeConf(podID, namespace, name, path, ports))
	if err != nil {
		return Sandbox{}, fmt.Errorf("cni: pod %s: add to network %s: %w", podID, n.cfg.NetworkName, err)
	}
	ip, err := podIP(res)
	if err != nil {
		return Sandbox{}, fmt.Errorf("cni: pod %s: %w", podID, err)
	}
	return Sandbox{NetNSPath: path, IP: ip}, nil
}

// Teardown detaches the pod from the network (CNI DEL: the IP is released,
// the hostPort and masquerade rules removed) and unmounts and removes its
// namespace. netnsPath "" means NetNSPath(podID). ports should be those
// given to Setup; nil uses the ones libcni cached at Setup.
//
// Teardown is idempotent: a pod that was never set up, or whose namespace
// is already gone, is not an error.
func (n *Network) Teardown(ctx context.Context, podID, netnsPath string, ports []PortMapping) error {
	if err := checkPodID(podID); err != nil {
		return err
	}
	if netnsPath == "" {
		netnsPath = n.NetNSPath(podID)
	}
	cniNetNS := netnsPath
	if !isNetNS(netnsPath) {
		// Plugins release IPAM and skip the interface when netns is "".
		cniNetNS = ""
	}
	rt := n.runtimeConf(podID, "", "", cniNetNS, ports)
	if ports == nil {
		if _, cached, err := n.cni.GetNetworkListCachedConfig(n.list, rt); err == nil && cached != nil && cached.CapabilityArgs != nil {
			rt.CapabilityArgs = cached.CapabilityArgs
		}
	}
	var errs []error
	if err := n.cni.DelNetworkList(ctx, n.list, rt); err != nil {
		errs = append(errs, fmt.Errorf("cni: pod %s: remove from network %s: %w", podID, n.cfg.NetworkName, err))
	}
	if err := n.cni.DelNetwork(ctx, n.loopback, n.loopbackRT(podID, cniNetNS)); err != nil {
		errs = append(errs, fmt.Errorf("cni: pod %s: loopback: %w", podID, err))
	}
	if cniNetNS == "" && len(errs) == 0 {
		// Without the namespace the bridge plugin cannot learn the pod's
		// address, so its DEL leaves the pod's masquerade rules: remove
		// them by their comment.
		if _, err := exec.LookPath("iptables-save"); err == nil {
			if err := cleanTable(ctx, "nat", n.podRules(podID)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 {
		// Keep the namespace when DEL failed, so that a retry can still
		// find eth0 and remove its masquerade rules.
		if err := removeNetNS(netnsPath); err != nil {
			errs = append(errs, fmt.Errorf("cni: pod %s: %w", podID, err))
		}
	}
	return errors.Join(errs...)
}

// Status returns the network of a pod set up earlier, by this process or
// an earlier one (the IP comes from libcni's cache under StateDir). It
// wraps ErrNotFound when the pod has no namespace.
func (n *Network) Status(ctx context.Context, podID string) (Sandbox, error) {
	if err := checkPodID(podID); err != nil {
		return Sandbox{}, err
	}
	path := n.NetNSPath(podID)
	if !isNetNS(path) {
		return Sandbox{}, fmt.Errorf("cni: pod %s: %w", podID, ErrNotFound)
	}
	res, err := n.cni.GetNetworkListCachedResult(n.list, n.runtimeConf(podID, "", "", path, nil))
	if err != nil || res == nil {
		return Sandbox{NetNSPath: path}, fmt.Errorf("cni: pod %s: namespace exists but no cached CNI result (was Setup interrupted?); tear it down: %v", podID, err)
	}
	ip, err := podIP(res)
	if err != nil {
		return Sandbox{NetNSPath: path}, fmt.Errorf("cni: pod %s: %w", podID, err)
	}
	return Sandbox{NetNSPath: path, IP: ip}, nil
}

// List returns the IDs of the pods that have a namespace file under
// StateDir, sorted: after a restart, the agent adopts those it still
// owns and Tears down the rest.
func (n *Network) List() ([]string, error) {
	ents, err := os.ReadDir(n.cfg.netnsDir())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("cni: %w", err)
	}
	ids := make([]string, 0, len(ents))
	for _, e := range ents {
		if podIDRe.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func (n *Network) runtimeConf(podID, namespace, name, netns string, ports []PortMapping) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{
		ContainerID: podID,
		NetNS:       netns,
		IfName:      podIfName,
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_INFRA_CONTAINER_ID", podID},
		},
	}
	if namespace != "" {
		rt.Args = append(rt.Args, [2]string{"K8S_POD_NAMESPACE", namespace})
	}
	if name != "" {
		rt.Args = append(rt.Args, [2]string{"K8S_POD_NAME", name})
	}
	if len(ports) > 0 {
		pm := make([]PortMapping, len(ports))
		for i, p := range ports {
			if p.Protocol == "" {
				p.Protocol = "tcp"
			}
			pm[i] = p
		}
		rt.CapabilityArgs = map[string]any{"portMappings": pm}
	}
	return rt
}

func (n *Network) loopbackRT(podID, netns string) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{ContainerID: podID, NetNS: netns, IfName: "lo"}
}

// podIP picks the first IPv4 address the result gives an interface inside
// the pod.
func podIP(res types.Result) (net.IP, error) {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("read CNI result: %w", err)
	}
	for _, ipc := range r.IPs {
		if ipc.Interface != nil {
			i := *ipc.Interface
			if i < 0 || i >= len(r.Interfaces) || r.Interfaces[i].Sandbox == "" {
				continue
			}
		}
		if v4 := ipc.Address.IP.To4(); v4 != nil {
			return v4, nil
		}
	}
	return nil, fmt.Errorf("CNI result has no IPv4 address for the pod: %s", res)
}
