package cni

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// ErrPortInUse is wrapped by Setup's error when a hostPort is already
// taken, by a host process or by another pod on this network. portmap
// itself would silently shadow the port with its DNAT rule.
var ErrPortInUse = errors.New("host port already in use")

// checkHostPorts fails with ErrPortInUse if a mapping in ports clashes
// with another pod's (from libcni's cache) or cannot be bound on the host.
// Callers hold n.portsMu so two Setups cannot claim one port at once.
func (n *Network) checkHostPorts(podID string, ports []PortMapping) error {
	ids, err := n.List()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id == podID {
			continue
		}
		for _, theirs := range n.cachedPorts(id) {
			for _, p := range ports {
				if portsClash(p, theirs) {
					return fmt.Errorf("hostPort %s: %w by pod %s", portString(p), ErrPortInUse, id)
				}
			}
		}
	}
	for _, p := range ports {
		if err := probeBind(p); err != nil {
			return fmt.Errorf("hostPort %s: %w on the host: %v", portString(p), ErrPortInUse, err)
		}
	}
	return nil
}

// cachedPorts returns the port mappings a pod was set up with.
func (n *Network) cachedPorts(podID string) []PortMapping {
	_, rt, err := n.cni.GetNetworkListCachedConfig(n.list, n.runtimeConf(podID, "", "", "", nil))
	if err != nil || rt == nil {
		return nil
	}
	raw, err := json.Marshal(rt.CapabilityArgs["portMappings"])
	if err != nil {
		return nil
	}
	var out []PortMapping
	_ = json.Unmarshal(raw, &out)
	return out
}

func normProto(p string) string {
	if p == "" {
		return "tcp"
	}
	return p
}

func anyAddr(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }

func portsClash(a, b PortMapping) bool {
	return a.HostPort == b.HostPort && normProto(a.Protocol) == normProto(b.Protocol) &&
		(anyAddr(a.HostIP) || anyAddr(b.HostIP) || a.HostIP == b.HostIP)
}

func portString(p PortMapping) string {
	s := strconv.Itoa(int(p.HostPort)) + "/" + normProto(p.Protocol)
	if !anyAddr(p.HostIP) {
		s = p.HostIP + ":" + s
	}
	return s
}

// probeBind binds the port for a moment, to see that no host process
// holds it.
func probeBind(p PortMapping) error {
	addr := net.JoinHostPort(p.HostIP, strconv.Itoa(int(p.HostPort)))
	switch normProto(p.Protocol) {
	case "udp":
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	case "tcp":
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		return l.Close()
	default:
		return nil // sctp: portmap handles it, nothing to probe with
	}
}
