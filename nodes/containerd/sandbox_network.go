package containerd

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes/cni"
)

// Network gives a pod its own network namespace and IPs, and takes them
// back. nodes/cni implements it (bridge + host-local + loopback +
// portmap); tests may use a simpler one.
type Network interface {
	// Setup creates the pod's netns, attaches it to the pod network
	// (publishing the pod's hostPorts), and returns the netns path and
	// the pod's IPs, primary first.
	Setup(ctx context.Context, sandboxID string, pod *corev1.Pod) (netnsPath string, ips []string, err error)
	// Teardown releases the IPs and host ports and removes the netns. It
	// succeeds when there is nothing left to tear down.
	Teardown(ctx context.Context, sandboxID, netnsPath string, pod *corev1.Pod) error
}

// CNINetwork adapts nodes/cni's Network: the sandbox ID is the CNI pod ID
// and the pod's hostPorts are published through portmap.
type CNINetwork struct {
	Net *cni.Network
}

// Setup implements Network.
func (n CNINetwork) Setup(ctx context.Context, sandboxID string, pod *corev1.Pod) (string, []string, error) {
	sb, err := n.Net.Setup(ctx, sandboxID, pod.Namespace, pod.Name, hostPorts(pod))
	if err != nil {
		return "", nil, err
	}
	var ips []string
	if sb.IP != nil {
		ips = []string{sb.IP.String()}
	}
	return sb.NetNSPath, ips, nil
}

// Teardown implements Network.
func (n CNINetwork) Teardown(ctx context.Context, sandboxID, netnsPath string, pod *corev1.Pod) error {
	var ports []cni.PortMapping
	if pod != nil {
		ports = hostPorts(pod)
	}
	return n.Net.Teardown(ctx, sandboxID, netnsPath, ports)
}

// hostPorts lists the pod's container ports that ask for a hostPort.
func hostPorts(pod *corev1.Pod) []cni.PortMapping {
	var out []cni.PortMapping
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			for _, p := range c.Ports {
				if p.HostPort == 0 {
					continue
				}
				proto := strings.ToLower(string(p.Protocol))
				if proto == "" {
					proto = "tcp"
				}
				out = append(out, cni.PortMapping{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: proto, HostIP: p.HostIP})
			}
		}
	}
	return out
}
