// Package routes keeps the routes to the other nodes' pod subnets, so pods
// on different machines reach each other by pod IP (flannel's host-gw
// backend, without overlay): for each other Node with a spec.podCIDR and
// an InternalIP, "PODCIDR via INTERNALIP". Nodes on this machine (same
// InternalIP) need none: their bridges' subnets are connected routes.
package routes

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Proto marks the routes berth adds (ip route's "proto"), so that only
// those are ever removed.
const Proto = "187"

// Route is one route to another node's pods.
type Route struct {
	Dst string // the node's pod subnet
	Via string // the node's InternalIP
}

// Desired is the routes self (this node's name and InternalIP) needs to
// reach the pods of nodes, sorted by Dst. A node without a pod subnet or
// an InternalIP, this node, and nodes on this machine are left out. So is
// a subnet wider than a /16 or overlapping this node's own or one already
// routed: a Node is written by agents, and no Node may take this
// machine's default route or another node's pods.
func Desired(nodes []*corev1.Node, self, selfIP string) []Route {
	var own *net.IPNet
	for _, n := range nodes {
		if n.Name == self {
			_, own, _ = net.ParseCIDR(n.Spec.PodCIDR)
		}
	}
	var out []Route
	var taken []*net.IPNet
	sorted := append([]*corev1.Node(nil), nodes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, n := range sorted {
		if n.Name == self || n.Spec.PodCIDR == "" {
			continue
		}
		ip := InternalIP(n)
		if ip == "" || ip == selfIP {
			continue
		}
		_, dst, err := net.ParseCIDR(n.Spec.PodCIDR)
		if err != nil {
			continue
		}
		if ones, _ := dst.Mask.Size(); ones < minPrefix || overlaps(dst, own) || slices.ContainsFunc(taken, func(t *net.IPNet) bool { return overlaps(dst, t) }) {
			continue
		}
		taken = append(taken, dst)
		out = append(out, Route{Dst: dst.String(), Via: ip})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dst < out[j].Dst })
	return out
}

// minPrefix is the widest pod subnet routed to a node.
const minPrefix = 16

func overlaps(a, b *net.IPNet) bool {
	return a != nil && b != nil && (a.Contains(b.IP) || b.Contains(a.IP))
}

// InternalIP is a Node's first InternalIP address, or "".
func InternalIP(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return ""
}

// Diff says which routes to add or replace and which of the present ones
// (berth's, by Proto) to delete.
func Diff(present, desired []Route) (replace, remove []Route) {
	have := make(map[string]string, len(present))
	for _, r := range present {
		have[r.Dst] = r.Via
	}
	want := make(map[string]bool, len(desired))
	for _, r := range desired {
		want[r.Dst] = true
		if have[r.Dst] != r.Via {
			replace = append(replace, r)
		}
	}
	for _, r := range present {
		if !want[r.Dst] {
			remove = append(remove, r)
		}
	}
	return replace, remove
}

// Sync makes the machine's berth routes (proto Proto) equal to desired,
// with iproute2.
func Sync(ctx context.Context, desired []Route) error {
	out, err := exec.CommandContext(ctx, "ip", "-4", "route", "show", "proto", Proto).Output()
	if err != nil {
		return fmt.Errorf("listing routes: %w", err)
	}
	replace, remove := Diff(parse(string(out)), desired)
	for _, r := range replace {
		if b, err := exec.CommandContext(ctx, "ip", "route", "replace", r.Dst, "via", r.Via, "proto", Proto).CombinedOutput(); err != nil {
			return fmt.Errorf("route %s via %s: %v: %s", r.Dst, r.Via, err, strings.TrimSpace(string(b)))
		}
	}
	for _, r := range remove {
		if b, err := exec.CommandContext(ctx, "ip", "route", "del", r.Dst, "proto", Proto).CombinedOutput(); err != nil {
			return fmt.Errorf("removing route %s: %v: %s", r.Dst, err, strings.TrimSpace(string(b)))
		}
	}
	return nil
}

// parse reads "10.42.1.0/24 via 192.168.1.2 dev eth0 proto 187" lines.
func parse(out string) []Route {
	var rs []Route
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == "via" {
			rs = append(rs, Route{Dst: f[0], Via: f[2]})
		}
	}
	return rs
}
