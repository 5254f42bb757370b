package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ctrd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/snapshots"

	"github.com/berth-io/berth/examples/hello/image"
	"github.com/berth-io/berth/nodes/cni"
	"github.com/berth-io/berth/nodes/static"
)

// startContainerd starts the node's containerd; after killContainerd it
// starts it again on the same directory, socket and root, as a
// supervisor restarting a crashed containerd would.
func (n *e2eNode) startContainerd() {
	t := n.t
	t.Helper()
	if n.ctrdDir == "" {
		dir, err := os.MkdirTemp("", "berth-ctrd-") // t.TempDir's paths can be too long for a socket
		if err != nil {
			t.Fatal(err)
		}
		// Registered before teardown, so it runs after it.
		t.Cleanup(func() {
			if n.ctrd != nil {
				n.ctrd.Stop()
			}
			os.RemoveAll(dir)
		})
		n.ctrdDir = dir
	}
	c, err := image.RunContainerd(n.ctrdDir)
	if err != nil {
		t.Fatal(err)
	}
	n.ctrd, n.socket = c, c.Socket
}

// killContainerd SIGKILLs the node's containerd, as a crash would: the
// shims and the containers they run stay. Its log so far is kept as
// containerd.log.1 (the next start writes a new one).
func (n *e2eNode) killContainerd() {
	n.ctrd.Kill()
	log := filepath.Join(n.ctrdDir, "containerd.log")
	os.Rename(log, log+".1")
}

// teardown removes everything the test put on the machine, in an order
// that holds whatever happened (pods through the folder, the agent, then
// the network, then containerd), and checks that nothing is left behind:
// what the agent should have removed and did not is a test error (and is
// removed all the same).
func (n *e2eNode) teardown() {
	t := n.t
	files, _ := filepath.Glob(filepath.Join(n.podsDir, "*"))
	for _, f := range files {
		os.Remove(f)
	}
	if n.stopServer != nil {
		// A server's pods stay when it stops (as a node's do). A
		// standalone agent on the same data dir and an empty folder owns
		// none of them, so it removes them all, through the same code
		// that removes a deleted pod.
		n.stopServer()
		n.startAgent()
		n.waitNoContainers(30 * time.Second)
	}
	if n.agent != nil {
		deadline := time.Now().Add(30 * time.Second)
		left, _ := filepath.Glob(filepath.Join(n.dataDir, "pods", "*.json"))
		for len(left) > 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			left, _ = filepath.Glob(filepath.Join(n.dataDir, "pods", "*.json"))
		}
		if len(left) > 0 {
			t.Errorf("leftover: pods still reported 30s after their manifests went: %v\nagent log:\n%s", left, n.logs())
		}
		n.stopAgent()
	}
	n.cleanContainerd()
	for _, m := range image.MountsUnder(n.dataDir) {
		t.Errorf("leftover: mount %s under the data dir (a netns or volume the agent did not remove)", m)
		syscall.Unmount(m, syscall.MNT_DETACH)
	}

	net, err := cni.New(cni.Config{StateDir: filepath.Join(n.dataDir, "cni"), BridgeName: n.bridge, Subnet: n.subnet,
		NetworkName: static.NetworkName(n.bridge)})
	if err == nil {
		err = net.Cleanup(context.Background())
	}
	if err != nil {
		t.Errorf("CNI cleanup: %v", err)
	}
	if _, err := os.Stat("/sys/class/net/" + n.bridge); err == nil {
		t.Errorf("leftover: bridge %s after CNI cleanup", n.bridge)
		exec.Command("ip", "link", "delete", n.bridge).Run()
	}
	for _, r := range n.iptablesLeftovers() {
		t.Errorf("leftover: iptables rule after CNI cleanup: %s", r)
	}

	for _, m := range image.MountsUnder(n.ctrdDir) {
		t.Errorf("leftover: mount %s under containerd's directory with no container left", m)
	}
	n.ctrd.Stop()
	deadline := time.Now().Add(5 * time.Second)
	procs := n.processes()
	for len(procs) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		procs = n.processes()
	}
	for _, p := range procs {
		t.Errorf("leftover: process of the test's containerd after it stopped: %s", p)
	}
	if t.Failed() {
		for _, f := range []string{"containerd.log.1", "containerd.log"} {
			if b, err := os.ReadFile(filepath.Join(n.ctrdDir, f)); err == nil {
				t.Logf("%s:\n%s", f, b)
			}
		}
	}
}

// waitNoContainers waits until containerd's "berth" namespace holds no
// container.
func (n *e2eNode) waitNoContainers(timeout time.Duration) {
	client, err := ctrd.New(n.socket, ctrd.WithTimeout(5*time.Second))
	if err != nil {
		n.t.Errorf("containerd at %s: %v", n.socket, err)
		return
	}
	defer client.Close()
	ctx := namespaces.WithNamespace(context.Background(), "berth")
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cs, err := client.Containers(ctx); err == nil && len(cs) == 0 {
			return
		}
	}
}

// cleanContainerd reports and removes what is left in containerd's
// "berth" namespace: containers (with their tasks) and snapshots other
// than the images' committed layers.
func (n *e2eNode) cleanContainerd() {
	t := n.t
	client, err := ctrd.New(n.socket, ctrd.WithTimeout(5*time.Second))
	if err != nil {
		t.Errorf("containerd at %s: %v", n.socket, err)
		return
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), "berth"), time.Minute)
	defer cancel()
	cs, err := client.Containers(ctx)
	if err != nil {
		t.Errorf("list containers: %v", err)
	}
	for _, c := range cs {
		t.Errorf("leftover: containerd container %s", c.ID())
		if task, err := c.Task(ctx, nil); err == nil {
			task.Delete(ctx, ctrd.WithProcessKill)
		}
		c.Delete(ctx, ctrd.WithSnapshotCleanup)
	}
	sn := client.SnapshotService("overlayfs")
	var active []string
	err = sn.Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if info.Kind != snapshots.KindCommitted {
			active = append(active, info.Name)
		}
		return nil
	})
	if err != nil {
		t.Errorf("list snapshots: %v", err)
	}
	for _, key := range active {
		t.Errorf("leftover: containerd snapshot %s", key)
		sn.Remove(ctx, key)
	}
}

// iptablesLeftovers are the rules of every table that name the node's
// bridge or an address of its subnet.
func (n *e2eNode) iptablesLeftovers() []string {
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		n.t.Errorf("iptables-save: %v", err)
		return nil
	}
	prefix := strings.TrimSuffix(n.subnet, "0/24") // "10.77.X."
	var left []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, n.bridge) || strings.Contains(line, prefix) {
			left = append(left, line)
		}
	}
	return left
}

// processes are the running containerd and shims of the node's
// containerd, found by its config file and socket on their command line.
func (n *e2eNode) processes() []string {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var found []string
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err != nil || len(b) == 0 {
			continue
		}
		cmd := strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
		if strings.Contains(cmd, n.socket) || strings.Contains(cmd, filepath.Join(n.ctrdDir, "config.toml")) {
			found = append(found, filepath.Base(filepath.Dir(f))+": "+cmd)
		}
	}
	return found
}

// freeNetwork picks a bridge name and a 10.77.X.0/24 subnet that nothing
// on the machine uses now: another run's leftover bridge (a test killed
// before its cleanup) or a concurrent run must not route the pods' traffic.
func freeNetwork(t testing.TB) (bridge, subnet string) {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		bridge = fmt.Sprintf("bte%04x", rand.IntN(0xffff))
		subnet = fmt.Sprintf("10.77.%d.0/24", rand.IntN(250))
		_, ipnet, _ := net.ParseCIDR(subnet)
		used := false
		for _, a := range addrs {
			if ip, _, err := net.ParseCIDR(a.String()); err == nil && ipnet.Contains(ip) {
				used = true
			}
		}
		if _, err := os.Stat("/sys/class/net/" + bridge); err == nil {
			used = true
		}
		if !used {
			return bridge, subnet
		}
	}
	t.Fatal("no free 10.77.X.0/24 subnet for the test's pods: remove leftover bridges (ip -br addr)")
	return "", ""
}
