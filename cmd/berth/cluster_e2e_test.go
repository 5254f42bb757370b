package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// e2eAgent is `berth agent --server` on the test's machine: its own
// containerd and bridge (a second "machine"), joined to a server.
type e2eAgent struct {
	*e2eNode
	name string
	cmd  *exec.Cmd
}

// joinAgent starts an agent named name joining s with the node token.
func (s *e2eServer) joinAgent(t *testing.T, name string, extra ...string) *e2eAgent {
	n := newE2EMachine(t)
	a := &e2eAgent{e2eNode: n, name: name}
	args := append([]string{"agent", "--server", s.url, "--token-file", filepath.Join(s.dataDir, "node-token"),
		"--data-dir", n.dataDir, "--containerd-socket", n.socket, "--name", name, "--bridge", n.bridge}, extra...)
	a.cmd = exec.Command(berthBinary, args...)
	log, err := os.Create(filepath.Join(n.dataDir, fmt.Sprintf("agent-%d.log", time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	a.cmd.Stdout, a.cmd.Stderr = log, log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The teardown removes the agent's pods with a standalone agent on the
	// same data dir, as for a server; its subnet is the one the server
	// gave it.
	n.stopServer = a.stop
	s.waitFor(t, "node "+name+" Ready with a pod subnet", time.Minute, func() bool {
		obj, err := s.client.Get(s.ctx(), "Node", "", name)
		if err != nil {
			return false
		}
		node := obj.(*corev1.Node)
		if node.Spec.PodCIDR == "" {
			return false
		}
		n.subnet = node.Spec.PodCIDR
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true
			}
		}
		return false
	})
	return a
}

// stop SIGKILLs the agent, as a machine that dies would be seen.
func (a *e2eAgent) stop() {
	if a.cmd == nil {
		return
	}
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()
	a.cmd = nil
}

func podsOnNodes(pods []*corev1.Pod) map[string]int {
	on := map[string]int{}
	for _, p := range pods {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			on[p.Spec.NodeName]++
		}
	}
	return on
}

// TestE2ECluster: a server with its local node and two joined agents, each
// a containerd with its own bridge and the pod subnet the server gave it:
// a DaemonSet lands on all three nodes; podAntiAffinity spreads a
// Deployment one pod per node and its pods reach each other across nodes
// by pod IP; a tainted node gets only tolerating pods; a killed agent's
// node goes NotReady (15 s grace; agents heartbeat every 10 s) and its pods
// run elsewhere after their toleration;
// an agent with a wrong token is refused.
func TestE2ECluster(t *testing.T) {
	dir := t.TempDir()
	s := newE2EServer(t, "--dir", dir, "--source-name", "apps", "--node-grace-period", "15s", "--cluster-cidr", "10.79.0.0/16")
	a1 := s.joinAgent(t, "node-a")
	s.joinAgent(t, "node-b", "--labels", "tier=edge", "--taints", "dedicated=edge:NoSchedule")
	_ = a1

	os.WriteFile(filepath.Join(dir, "apps.yaml"), []byte(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: probe}
spec:
  selector: {matchLabels: {app: probe}}
  template:
    metadata: {labels: {app: probe}}
    spec:
      tolerations: [{key: dedicated, operator: Exists}]
      terminationGracePeriodSeconds: 1
      containers: [{name: probe, image: "berth.local/hello:v1", imagePullPolicy: Never}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 2
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      terminationGracePeriodSeconds: 1
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: spread}}
            topologyKey: kubernetes.io/hostname
      containers: [{name: web, image: "berth.local/hello:v1", imagePullPolicy: Never}]
`), 0o644)

	t.Run("a DaemonSet lands on all three nodes", func(t *testing.T) {
		s.waitFor(t, "a probe pod running on each node", 2*time.Minute, func() bool {
			on := podsOnNodes(s.pods("app=probe"))
			return len(on) == 3 && on["e2e"] == 1 && on["node-a"] == 1 && on["node-b"] == 1
		})
	})

	t.Run("anti-affinity spreads, the tainted node is avoided, pods reach each other", func(t *testing.T) {
		s.waitFor(t, "two spread pods on e2e and node-a", 2*time.Minute, func() bool {
			on := podsOnNodes(s.pods("app=spread"))
			return on["e2e"] == 1 && on["node-a"] == 1 && on["node-b"] == 0
		})
		var to *corev1.Pod
		for _, p := range s.pods("app=spread") {
			if p.Spec.NodeName == "node-a" {
				to = p
			}
		}
		// From inside a pod of the server's node (its network namespace),
		// to the pod on node-a (another bridge and subnet), by pod IP.
		netns, _ := filepath.Glob(filepath.Join(s.dataDir, "cni", "netns", "*"))
		if len(netns) == 0 {
			t.Fatal("no pod network namespace on the server's node")
		}
		out, err := exec.Command("nsenter", "--net="+netns[0], "curl", "-s", "-m", "5", "http://"+to.Status.PodIP+":8080/").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "hello from") {
			t.Errorf("from a pod on e2e to %s on %s by IP %s: %v %q", to.Name, to.Spec.NodeName, to.Status.PodIP, err, out)
		}
		// A third replica (from the folder: the source owns replicas) fits
		// nowhere: one per node, and node-b's taint.
		manifest, _ := os.ReadFile(filepath.Join(dir, "apps.yaml"))
		os.WriteFile(filepath.Join(dir, "apps.yaml"), []byte(strings.Replace(string(manifest), "replicas: 2", "replicas: 3", 1)), 0o644)
		s.waitFor(t, "the third replica Pending with the scheduler's reasons", time.Minute, func() bool {
			for _, p := range s.pods("app=spread") {
				for _, c := range p.Status.Conditions {
					if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse &&
						strings.HasPrefix(c.Message, "0/3 nodes are available:") && strings.Contains(c.Message, "untolerated taint {dedicated: edge}") {
						return true
					}
				}
			}
			return false
		})
	})

	t.Run("an agent with a wrong token is refused", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "token")
		os.WriteFile(bad, []byte("K10abc::wrong\n"), 0o600)
		cmd := exec.Command(berthBinary, "agent", "--server", s.url, "--token-file", bad, "--data-dir", t.TempDir(), "--name", "intruder")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		done := make(chan error, 1)
		go func() { done <- cmd.Run() }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("an agent with a wrong token ran: %s", out.String())
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Errorf("an agent with a wrong token kept running: %s", out.String())
		}
		if _, err := s.client.Get(s.ctx(), "Node", "", "intruder"); err == nil {
			t.Errorf("the refused agent registered a Node")
		}
	})

	t.Run("a killed agent's node goes NotReady and its pods run elsewhere", func(t *testing.T) {
		// Make room on node-b for the replica that must move.
		if out, errOut, code := s.berth("taint", "node/node-b", "dedicated=edge:NoSchedule-"); code != 0 {
			t.Fatalf("taint -: exit %d, %q %q", code, out, errOut)
		}
		a1.stop()
		s.waitFor(t, "node-a NotReady", time.Minute, func() bool {
			obj, err := s.client.Get(s.ctx(), "Node", "", "node-a")
			if err != nil {
				return false
			}
			for _, c := range obj.(*corev1.Node).Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status != corev1.ConditionTrue {
					return true
				}
			}
			return false
		})
		s.waitFor(t, "the spread replica running on node-b instead", 2*time.Minute, func() bool {
			on := podsOnNodes(s.pods("app=spread"))
			return on["e2e"] == 1 && on["node-b"] == 1
		})
	})

	t.Run("drain moves the controller's pods off, DaemonSet pods stay", func(t *testing.T) {
		out, errOut, code := s.berth("drain", "node/node-b", "--ignore-daemonsets", "--timeout", "1m")
		if code != 0 || !strings.Contains(out, "node/node-b drained") {
			t.Fatalf("drain: exit %d, %q %q", code, out, errOut)
		}
		if on := podsOnNodes(s.pods("app=spread")); on["node-b"] != 0 {
			t.Errorf("spread pods on the drained node: %v", on)
		}
		if on := podsOnNodes(s.pods("app=probe")); on["node-b"] != 1 {
			t.Errorf("the DaemonSet pod left the drained node: %v", on)
		}
		if out, errOut, code := s.berth("uncordon", "node/node-b"); code != 0 || !strings.Contains(out, "node/node-b uncordoned") {
			t.Errorf("uncordon: exit %d, %q %q", code, out, errOut)
		}
	})
}
