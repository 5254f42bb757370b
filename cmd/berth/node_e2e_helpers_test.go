package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ctrd "github.com/containerd/containerd"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/examples/hello/image"
)

// e2eNode is a real node for end-to-end tests: a containerd of the test's
// own, the hello image imported into it, and `berth agent --static-pods`
// running against a folder the test writes manifests into. Everything is
// removed when the test ends, whatever happened.
type e2eNode struct {
	t       testing.TB
	socket  string
	podsDir string
	dataDir string
	bridge  string
	subnet  string
	agent   *exec.Cmd
	// stopServer, when set, stops a `berth server` running on this
	// machine (server_e2e_helpers_test.go).
	stopServer func()
	// ctrd is the test's containerd; restartContainerd replaces it.
	ctrd    *image.Containerd
	ctrdDir string
}

func newE2ENode(t testing.TB) *e2eNode {
	n := newE2EMachine(t)
	n.startAgent()
	return n
}

// newE2EMachine prepares what a node runs on — the test's containerd with
// the hello images, a bridge name and subnet of its own — and the teardown
// that checks nothing is left; no agent yet.
func newE2EMachine(t testing.TB) *e2eNode {
	image.NeedRoot(t, "containerd", "runc", "iptables")
	ctx := context.Background()
	n := &e2eNode{
		t:       t,
		podsDir: t.TempDir(),
		dataDir: t.TempDir(),
	}
	n.bridge, n.subnet = freeNetwork(t)
	n.startContainerd()
	for _, v := range []string{"v1", "v2"} {
		img, err := image.Build(ctx, "../../examples/hello", v)
		if err != nil {
			t.Fatal(err)
		}
		tarPath := filepath.Join(t.TempDir(), "hello.tar")
		if err := image.WriteTarball(img, tarPath, "berth.local/hello:"+v); err != nil {
			t.Fatal(err)
		}
		client, err := ctrd.New(n.socket)
		if err != nil {
			t.Fatal(err)
		}
		_, err = image.Import(ctx, client, "berth", tarPath, "")
		client.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(n.teardown)
	return n
}

func (n *e2eNode) startAgent() {
	cmd := exec.Command(berthBinary, "agent", "--static-pods", n.podsDir, "--data-dir", n.dataDir,
		"--containerd-socket", n.socket, "--name", "e2e", "--pod-cidr", n.subnet, "--bridge", n.bridge)
	log, _ := os.Create(filepath.Join(n.dataDir, fmt.Sprintf("agent-%d.log", time.Now().UnixNano())))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.agent = cmd
}

func (n *e2eNode) stopAgent() {
	n.agent.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { n.agent.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		n.agent.Process.Kill()
		<-done
	}
	n.agent = nil
}

func (n *e2eNode) logs() string {
	files, _ := filepath.Glob(filepath.Join(n.dataDir, "agent-*.log"))
	var b strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		b.Write(data)
	}
	return b.String()
}

// apply writes a manifest into the pods folder.
func (n *e2eNode) apply(name, manifest string) {
	if err := os.WriteFile(filepath.Join(n.podsDir, name+".yaml"), []byte(manifest), 0o644); err != nil {
		n.t.Fatal(err)
	}
}

func (n *e2eNode) remove(name string) { os.Remove(filepath.Join(n.podsDir, name+".yaml")) }

// pod reads a pod's status file; nil when there is none.
func (n *e2eNode) pod(name string) *corev1.Pod {
	data, err := os.ReadFile(filepath.Join(n.dataDir, "pods", "default_"+name+".json"))
	if err != nil {
		return nil
	}
	var pod corev1.Pod
	if json.Unmarshal(data, &pod) != nil {
		return nil
	}
	return &pod
}

// waitPod waits until cond holds for the pod's status and returns it.
func (n *e2eNode) waitPod(name, what string, timeout time.Duration, cond func(*corev1.Pod) bool) *corev1.Pod {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if p := n.pod(name); p != nil && cond(p) {
			return p
		}
		if time.Now().After(deadline) {
			st, _ := json.MarshalIndent(n.pod(name), "", " ")
			n.t.Fatalf("timed out waiting for pod %s: %s\nstatus: %s\nagent log:\n%s", name, what, st, n.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitGone waits until the pod's status file is gone.
func (n *e2eNode) waitGone(name string, timeout time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for n.pod(name) != nil {
		if time.Now().After(deadline) {
			n.t.Fatalf("timed out waiting for pod %s to go\nagent log:\n%s", name, n.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func running(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && p.Status.PodIP != ""
}

// httpGet fetches url, returning the body or the error's text.
func httpGet(url string) string {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// pushWithAuth pushes img to ref with the test registry's credentials.
func pushWithAuth(img v1.Image, ref string) error {
	return image.Push(context.Background(), img, ref, &authn.Basic{Username: "berth", Password: "pa55word"}, true)
}
