package cni

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// requireRoot skips a test that needs root and the given binaries, except
// under CI=true, where a missing requirement fails the test.
func requireRoot(t *testing.T, binaries ...string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, b := range binaries {
		if _, err := exec.LookPath(b); err != nil {
			if _, err := os.Stat(b); err != nil {
				missing = append(missing, b)
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and this test needs %v", missing)
	}
	t.Skipf("needs %v", missing)
}

// testNetwork makes a Network with a bridge, network name and subnet of
// its own (10.89.X.0/24 with X random and unused on this host), and
// cleans it all up when the test ends.
func testNetwork(t *testing.T, mod func(*Config)) *Network {
	t.Helper()
	requireRoot(t, "iptables", "iptables-save", "ip", "/usr/lib/cni/bridge")
	tag := fmt.Sprintf("%06x", rand.IntN(1<<24))
	cfg := Config{
		StateDir:    t.TempDir(),
		BridgeName:  "bt" + tag,
		NetworkName: "berth-test-" + tag,
		Subnet:      freeSubnet(t),
	}
	if mod != nil {
		mod(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Cleanup(context.Background()); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
	})
	return n
}

func freeSubnet(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("10.89.%d.0/24", 1+rand.IntN(254)))
		used := false
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (subnet.Contains(ipn.IP) || ipn.Contains(subnet.IP)) {
				used = true
			}
		}
		if !used {
			return subnet.String()
		}
	}
	t.Fatal("no free 10.89.X.0/24 subnet on this host")
	return ""
}

// serveEcho listens on port inside the netns at path and answers each
// connection with reply. The listener is closed when the test ends.
func serveEcho(t *testing.T, netnsPath string, port int, reply string) {
	t.Helper()
	var ln net.Listener
	err := InNetNS(netnsPath, func() (err error) {
		ln, err = net.Listen("tcp", fmt.Sprintf("0.0.0.0:%d", port))
		return err
	})
	if err != nil {
		t.Fatalf("listen in %s: %v", netnsPath, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, reply+"\n")
			c.Close()
		}
	}()
}

// dial connects to addr, from the netns at path ("" = the host), and
// returns the first line the server sends.
func dial(netnsPath, addr string) (string, error) {
	var c net.Conn
	connect := func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 3*time.Second)
		return err
	}
	var err error
	if netnsPath == "" {
		err = connect()
	} else {
		err = InNetNS(netnsPath, connect)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func iptablesSave(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		t.Fatalf("iptables-save: %v", err)
	}
	return string(out)
}
