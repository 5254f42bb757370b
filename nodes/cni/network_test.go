package cni

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTwoPodsReachEachOtherAndTheHost(t *testing.T) {
	n := testNetwork(t, nil)
	ctx := context.Background()
	_, subnet, _ := net.ParseCIDR(n.Config().Subnet)

	a, err := n.Setup(ctx, "pod-a", "default", "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.Setup(ctx, "pod-b", "default", "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.IP.Equal(b.IP) || !subnet.Contains(a.IP) || !subnet.Contains(b.IP) {
		t.Fatalf("pod IPs %s and %s: want two distinct addresses in %s", a.IP, b.IP, subnet)
	}
	serveEcho(t, a.NetNSPath, 8080, "hello from a")

	for _, tt := range []struct{ name, from string }{
		{"pod to pod", b.NetNSPath},
		{"host to pod", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dial(tt.from, net.JoinHostPort(a.IP.String(), "8080"))
			if err != nil || got != "hello from a" {
				t.Fatalf("dial %s:8080 = %q, %v", a.IP, got, err)
			}
		})
	}
	// Loopback is up inside the pod.
	if got, err := dial(a.NetNSPath, "127.0.0.1:8080"); err != nil || got != "hello from a" {
		t.Fatalf("dial 127.0.0.1:8080 inside the pod = %q, %v", got, err)
	}
}

func TestTeardownReleasesIPAndNetNS(t *testing.T) {
	n := testNetwork(t, nil)
	ctx := context.Background()
	ipamDir := filepath.Join(n.Config().StateDir, "ipam", n.Config().NetworkName)

	sb, err := n.Setup(ctx, "pod1", "ns", "p", []PortMapping{{HostPort: 20000 + int32(rand.IntN(10000)), ContainerPort: 80}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(ipamDir, sb.IP.String())); err != nil {
		t.Fatalf("host-local has no reservation for %s: %v", sb.IP, err)
	}
	if ids, _ := n.List(); len(ids) != 1 || ids[0] != "pod1" {
		t.Fatalf("List = %v, want [pod1]", ids)
	}
	// A restarted agent finds the pod's IP again.
	again, err := New(n.Config())
	if err != nil {
		t.Fatal(err)
	}
	if st, err := again.Status(ctx, "pod1"); err != nil || !st.IP.Equal(sb.IP) || st.NetNSPath != sb.NetNSPath {
		t.Fatalf("Status = %+v, %v; want %+v", st, err, sb)
	}

	// nil ports: the ones cached at Setup are used.
	if err := again.Teardown(ctx, "pod1", sb.NetNSPath, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(ipamDir, sb.IP.String())); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("IP %s still reserved after Teardown (stat: %v)", sb.IP, err)
	}
	if _, err := os.Lstat(sb.NetNSPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("netns file still there after Teardown (stat: %v)", err)
	}
	if _, err := n.Status(ctx, "pod1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Status after Teardown = %v, want ErrNotFound", err)
	}
	save := iptablesSave(t)
	if strings.Contains(save, sb.IP.String()+"/") || strings.Contains(save, `id: \"pod1\"`) {
		t.Fatalf("pod rules left after Teardown:\n%s", save)
	}
	// Idempotent: again, and for a pod never set up.
	if err := n.Teardown(ctx, "pod1", "", nil); err != nil {
		t.Fatalf("second Teardown: %v", err)
	}
	if err := n.Teardown(ctx, "never-was", "", nil); err != nil {
		t.Fatalf("Teardown of an unknown pod: %v", err)
	}
}

func TestTeardownWithNetNSGone(t *testing.T) {
	n := testNetwork(t, nil)
	ctx := context.Background()
	sb, err := n.Setup(ctx, "pod1", "ns", "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Someone removed the namespace behind our back.
	if err := removeNetNS(sb.NetNSPath); err != nil {
		t.Fatal(err)
	}
	if err := n.Teardown(ctx, "pod1", "", nil); err != nil {
		t.Fatalf("Teardown with the netns gone: %v", err)
	}
	ipam := filepath.Join(n.Config().StateDir, "ipam", n.Config().NetworkName, sb.IP.String())
	if _, err := os.Stat(ipam); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("IP %s still reserved", sb.IP)
	}
	if save := iptablesSave(t); strings.Contains(save, sb.IP.String()+"/") || strings.Contains(save, `id: \"pod1\"`) {
		t.Fatalf("pod rules left after Teardown:\n%s", save)
	}
}

func TestSetupErrors(t *testing.T) {
	n := testNetwork(t, nil)
	ctx := context.Background()
	if _, err := n.Setup(ctx, "../etc", "ns", "p", nil); err == nil {
		t.Fatal("Setup accepted a pod ID with a slash")
	}
	if _, err := n.Setup(ctx, "dup", "ns", "p", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Setup(ctx, "dup", "ns", "p", nil); err == nil || !strings.Contains(err.Error(), "tear it down first") {
		t.Fatalf("second Setup of one pod = %v, want an error", err)
	}

	// A missing plugin fails Setup and leaves nothing behind.
	broken, err := New(Config{StateDir: t.TempDir(), PluginDirs: []string{t.TempDir()}, Subnet: n.Config().Subnet,
		BridgeName: n.Config().BridgeName, NetworkName: n.Config().NetworkName})
	if err != nil {
		t.Fatal(err)
	}
	_, err = broken.Setup(ctx, "p2", "ns", "p", nil)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Setup without plugins = %v, want an error naming the plugin", err)
	}
	if ids, _ := broken.List(); len(ids) != 0 {
		t.Fatalf("failed Setup left netns %v", ids)
	}
}

func TestHostPort(t *testing.T) {
	n := testNetwork(t, nil)
	ctx := context.Background()
	hp := 20000 + rand.IntN(10000)
	ports := []PortMapping{
		{HostPort: int32(hp), ContainerPort: 8080, HostIP: "127.0.0.1"},
		{HostPort: int32(hp + 1), ContainerPort: 8080},
	}
	a, err := n.Setup(ctx, "web", "default", "web", ports)
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, a.NetNSPath, 8080, "web")
	b, err := n.Setup(ctx, "client", "default", "client", nil)
	if err != nil {
		t.Fatal(err)
	}
	gateway := firstHost(t, n.Config().Subnet)

	for _, tt := range []struct {
		name, from, addr string
	}{
		{"host to 127.0.0.1 hostPort", "", fmt.Sprintf("127.0.0.1:%d", hp)},
		{"host to 127.0.0.1 on an all-addresses hostPort", "", fmt.Sprintf("127.0.0.1:%d", hp+1)},
		{"pod to the node's bridge address on an all-addresses hostPort", b.NetNSPath, fmt.Sprintf("%s:%d", gateway, hp+1)},
		{"pod to itself through the hostPort (hairpin)", a.NetNSPath, fmt.Sprintf("%s:%d", gateway, hp+1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := dial(tt.from, tt.addr); err != nil || got != "web" {
				t.Fatalf("dial %s = %q, %v", tt.addr, got, err)
			}
		})
	}

	if err := n.Teardown(ctx, "web", "", ports); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(iptablesSave(t), fmt.Sprint(hp)) {
		t.Fatalf("hostPort %d still in iptables after Teardown", hp)
	}
}

func firstHost(t *testing.T, cidr string) string {
	_, ipn, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	ip := ipn.IP.To4()
	return net.IPv4(ip[0], ip[1], ip[2], ip[3]+1).String()
}

func TestCleanupLeavesNothing(t *testing.T) {
	requireRoot(t, "iptables", "iptables-save", "ip", "/usr/lib/cni/bridge")
	before := iptablesSave(t)
	var n *Network
	t.Run("run", func(t *testing.T) {
		n = testNetwork(t, func(c *Config) { c.Firewall = true })
		ctx := context.Background()
		hp := int32(20000 + rand.IntN(10000))
		if _, err := n.Setup(ctx, "kept", "ns", "kept", []PortMapping{{HostPort: hp, ContainerPort: 80}}); err != nil {
			t.Fatal(err)
		}
		crashed, err := n.Setup(ctx, "crashed", "ns", "crashed", []PortMapping{{HostPort: hp + 1, ContainerPort: 80, Protocol: "udp"}})
		if err != nil {
			t.Fatal(err)
		}
		// A crash lost the namespace and the pod was never torn down:
		// the bridge plugin's DEL could no longer find the pod's rules by
		// its address; Cleanup must.
		if err := removeNetNS(crashed.NetNSPath); err != nil {
			t.Fatal(err)
		}
		// testNetwork's t.Cleanup runs n.Cleanup as this subtest ends.
	})
	if n == nil {
		return
	}
	cfg := n.Config()
	if _, err := os.Stat("/sys/class/net/" + cfg.BridgeName); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bridge %s still exists after Cleanup", cfg.BridgeName)
	}
	after := iptablesSave(t)
	prefix := strings.TrimSuffix(cfg.Subnet, "0/24")
	for _, s := range []string{cfg.BridgeName, prefix, `\"` + cfg.NetworkName + `\"`} {
		if strings.Contains(after, s) {
			t.Errorf("iptables still mentions %q after Cleanup:\n%s", s, after)
		}
	}
	for _, chain := range append(hostportChains, firewallChains...) {
		if strings.Contains(after, ":"+chain+" ") && !strings.Contains(before, ":"+chain+" ") {
			t.Errorf("shared chain %s created by the test is left after Cleanup", chain)
		}
	}
}

func TestHostPortInUse(t *testing.T) {
	n := testNetwork(t, nil)
	ctx := context.Background()
	hp := int32(20000 + rand.IntN(10000))
	if _, err := n.Setup(ctx, "first", "ns", "first", []PortMapping{{HostPort: hp, ContainerPort: 80}}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", hp+1))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	tests := []struct {
		name    string
		port    PortMapping
		wantErr string
	}{
		{"same port as another pod", PortMapping{HostPort: hp, ContainerPort: 81}, "by pod first"},
		{"same port on one address of another pod's all-addresses port", PortMapping{HostPort: hp, ContainerPort: 81, HostIP: "127.0.0.1"}, "by pod first"},
		{"held by a host process", PortMapping{HostPort: hp + 1, ContainerPort: 80}, "on the host"},
		{"other protocol is fine", PortMapping{HostPort: hp, ContainerPort: 80, Protocol: "udp"}, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("second-%d", i)
			_, err := n.Setup(ctx, id, "ns", id, []PortMapping{tt.port})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrPortInUse mentioning %q", err, tt.wantErr)
			}
			if ids, _ := n.List(); len(ids) != 1 {
				t.Fatalf("failed Setup left netns: %v", ids)
			}
		})
	}
}
