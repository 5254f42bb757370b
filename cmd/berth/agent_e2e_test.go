package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ctrd "github.com/containerd/containerd"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/examples/hello/image"
	"github.com/berth-io/berth/nodes/cni"
)

// TestE2EAgentStaticPods runs `berth agent --static-pods` on a containerd of
// the test's own: a pod from the hello image starts, reports Running and
// Ready with its pod IP in its status file, answers HTTP on that IP with
// the env its manifest gives; the agent restarting does not restart it;
// removing the manifest removes the pod and its network.
func TestE2EAgentStaticPods(t *testing.T) {
	image.NeedRoot(t, "containerd", "runc", "iptables")
	ctx := context.Background()
	socket := image.StartContainerd(t)

	// The hello image, imported (no registry needed: imagePullPolicy Never).
	img, err := image.Build(ctx, "../../examples/hello", "v1")
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(t.TempDir(), "hello.tar")
	if err := image.WriteTarball(img, tarPath, "berth.local/hello:v1"); err != nil {
		t.Fatal(err)
	}
	client, err := ctrd.New(socket)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := image.Import(ctx, client, "berth", tarPath, ""); err != nil {
		t.Fatal(err)
	}

	podsDir, dataDir := t.TempDir(), t.TempDir()
	bridge := fmt.Sprintf("bte%04x", rand.IntN(0xffff))
	subnet := fmt.Sprintf("10.77.%d.0/24", rand.IntN(250))
	t.Cleanup(func() {
		// Whatever happened: no bridge, netns or iptables rule left.
		if n, err := cni.New(cni.Config{StateDir: filepath.Join(dataDir, "cni"), BridgeName: bridge, Subnet: subnet}); err == nil {
			n.Cleanup(context.Background())
		}
	})
	manifest := filepath.Join(podsDir, "hello.yaml")
	os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Pod
metadata:
  name: hello
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: hello
    image: berth.local/hello:v1
    imagePullPolicy: Never
    env:
    - name: GREETING
      value: from a static pod
    readinessProbe:
      httpGet: {path: /readyz, port: 8080}
      periodSeconds: 1
`), 0o644)

	start := func() *exec.Cmd {
		cmd := exec.Command(berthBinary, "agent", "--static-pods", podsDir, "--data-dir", dataDir,
			"--containerd-socket", socket, "--name", "e2e", "--pod-cidr", subnet, "--bridge", bridge)
		log, _ := os.Create(filepath.Join(dataDir, fmt.Sprintf("agent-%d.log", time.Now().UnixNano())))
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	stop := func(cmd *exec.Cmd) {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	agentLogs := func() string {
		files, _ := filepath.Glob(filepath.Join(dataDir, "agent-*.log"))
		var b strings.Builder
		for _, f := range files {
			data, _ := os.ReadFile(f)
			b.Write(data)
		}
		return b.String()
	}
	status := func() *corev1.Pod {
		data, err := os.ReadFile(filepath.Join(dataDir, "pods", "default_hello.json"))
		if err != nil {
			return nil
		}
		var pod corev1.Pod
		if json.Unmarshal(data, &pod) != nil {
			return nil
		}
		return &pod
	}
	ready := func(p *corev1.Pod) bool {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				return c.Status == corev1.ConditionTrue
			}
		}
		return false
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; status: %+v\nagent log:\n%s", what, status(), agentLogs())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	agent := start()
	t.Cleanup(func() { stop(agent) })
	var pod *corev1.Pod
	waitFor("the pod to be Running and Ready", func() bool {
		pod = status()
		return pod != nil && pod.Status.Phase == corev1.PodRunning && ready(pod) && pod.Status.PodIP != ""
	})
	get := func() string {
		resp, err := http.Get("http://" + pod.Status.PodIP + ":8080/")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if body := get(); !strings.Contains(body, "from a static pod") {
		t.Fatalf("GET pod IP: %q", body)
	}
	startedAt := pod.Status.ContainerStatuses[0].State.Running.StartedAt

	// The agent restarts: the container keeps running, untouched.
	stop(agent)
	if body := get(); !strings.Contains(body, "from a static pod") {
		t.Fatalf("the pod stopped with the agent: %q", body)
	}
	agent = start()
	time.Sleep(3 * time.Second)
	waitFor("the pod to be Ready again", func() bool { pod = status(); return pod != nil && ready(pod) })
	cs := pod.Status.ContainerStatuses[0]
	if cs.RestartCount != 0 || cs.State.Running == nil || !cs.State.Running.StartedAt.Equal(&startedAt) {
		t.Fatalf("the agent restart restarted the container: %+v", cs)
	}

	// The manifest goes: so does the pod, and its network.
	os.Remove(manifest)
	waitFor("the pod to go", func() bool { return status() == nil })
	if body := get(); !strings.Contains(body, "connect") && !strings.Contains(body, "timeout") && !strings.Contains(body, "no route") {
		t.Errorf("the pod still answers after removal: %q", body)
	}
}
