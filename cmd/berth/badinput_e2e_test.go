package main

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/examples/hello/image"
)

// TestE2EBadInput: what is wrong with a pod is said in its status, the
// other pods are untouched and the agent keeps running; a folder that
// does not validate is refused whole, with the file and line in the
// agent's log, and the pods of the last good folder keep running.
func TestE2EBadInput(t *testing.T) {
	n := newE2ENode(t)
	registry, _ := image.StartRegistry(t, t.TempDir(), "", "")
	hostPort := freeHostPort(t)

	n.apply("good", `apiVersion: v1
kind: Pod
metadata: {name: good}
spec:
  containers:
  - {name: web, image: "berth.local/hello:v1", imagePullPolicy: Never}
`)
	n.apply("port-a", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: port-a}
spec:
  containers:
  - name: web
    image: berth.local/hello:v1
    imagePullPolicy: Never
    ports: [{containerPort: 8080, hostPort: %d}]
`, hostPort))
	good := n.waitPod("good", "Running", time.Minute, func(p *corev1.Pod) bool { return running(p) && podReady(p) })
	goodStarted := good.Status.ContainerStatuses[0].State.Running.StartedAt
	n.waitPod("port-a", "Running", time.Minute, func(p *corev1.Pod) bool { return running(p) && podReady(p) })

	n.apply("no-command", `apiVersion: v1
kind: Pod
metadata: {name: no-command}
spec:
  containers:
  - {name: web, image: "berth.local/hello:v1", imagePullPolicy: Never, command: ["/no/such/binary"]}
`)
	n.apply("port-b", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: port-b}
spec:
  containers:
  - name: web
    image: berth.local/hello:v1
    imagePullPolicy: Never
    ports: [{containerPort: 8080, hostPort: %d}]
`, hostPort))
	missing := registry + "/berth/nothing:v1"
	n.apply("not-in-registry", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: not-in-registry}
spec:
  containers:
  - {name: web, image: %q, imagePullPolicy: Always}
`, missing))

	// A command not in the image: as kubelet shows it, a StartError exit
	// (128) with runc's message naming the command, then CrashLoopBackOff.
	n.waitPod("no-command", "StartError naming the command, then CrashLoopBackOff", time.Minute, func(p *corev1.Pod) bool {
		if len(p.Status.ContainerStatuses) != 1 {
			return false
		}
		cs := p.Status.ContainerStatuses[0]
		w, term := cs.State.Waiting, cs.LastTerminationState.Terminated
		return w != nil && w.Reason == "CrashLoopBackOff" && cs.RestartCount >= 1 &&
			term != nil && term.Reason == "StartError" && term.ExitCode == 128 && strings.Contains(term.Message, "/no/such/binary")
	})

	// A hostPort another pod holds: the second pod waits, saying which.
	want := fmt.Sprintf("hostPort %d/tcp", hostPort)
	p := n.waitPod("port-b", "waiting, naming the port", time.Minute, func(p *corev1.Pod) bool {
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && strings.Contains(w.Message, want) && strings.Contains(w.Message, "already in use") {
				return true
			}
		}
		return false
	})
	if p.Status.Phase != corev1.PodPending || p.Status.PodIP != "" {
		t.Errorf("the pod whose port is taken: phase %s, pod IP %q", p.Status.Phase, p.Status.PodIP)
	}

	// An image the registry does not have: ErrImagePull, then
	// ImagePullBackOff, both naming it.
	for _, reason := range []string{"ErrImagePull", "ImagePullBackOff"} {
		n.waitPod("not-in-registry", reason+" naming the image", time.Minute, func(p *corev1.Pod) bool {
			if len(p.Status.ContainerStatuses) != 1 {
				return false
			}
			w := p.Status.ContainerStatuses[0].State.Waiting
			return w != nil && w.Reason == reason && strings.Contains(w.Message, missing)
		})
	}

	// A folder that does not validate is refused whole: the agent's log
	// names the file, its line and the problem; nothing of it runs.
	n.apply("broken", `apiVersion: v1
kind: Pod
metadata: {name: broken}
spec:
  containers:
  - name: web
    image: berth.local/hello:v1
    imagePullPolicy: Never
    volumeMounts: [{name: undeclared, mountPath: /data}]
`)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(n.logs(), "broken.yaml:") {
		if time.Now().After(deadline) {
			t.Fatalf("the agent's log does not name broken.yaml:\n%s", n.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // long enough for a pod to appear, were it applied
	var line string
	for _, l := range strings.Split(n.logs(), "\n") {
		if strings.Contains(l, "broken.yaml:") {
			line = l
		}
	}
	if !regexp.MustCompile(`broken\.yaml:\d+`).MatchString(line) || !strings.Contains(line, "undeclared") {
		t.Errorf("the agent's log does not give broken.yaml's line and problem: %s", line)
	}
	if n.pod("broken") != nil {
		t.Errorf("a pod of a folder that does not validate was started")
	}
	n.remove("broken")

	// The other pods are untouched, and the agent runs on.
	for _, name := range []string{"good", "port-a"} {
		p := n.waitPod(name, "still Running", time.Minute, func(p *corev1.Pod) bool { return running(p) && podReady(p) })
		if cs := p.Status.ContainerStatuses[0]; cs.RestartCount != 0 {
			t.Errorf("pod %s was restarted: %+v", name, cs)
		}
	}
	good = n.pod("good")
	if cs := good.Status.ContainerStatuses[0]; !cs.State.Running.StartedAt.Equal(&goodStarted) {
		t.Errorf("the good pod was restarted: %+v", cs)
	}
	if body := httpGet("http://" + good.Status.PodIP + ":8080/"); !strings.Contains(body, "v1") {
		t.Errorf("the good pod does not answer: %q", body)
	}
	if !n.agentAlive() {
		t.Errorf("the agent is gone:\n%s", n.logs())
	}
}

// freeHostPort is a TCP port nobody listens on now.
func freeHostPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// agentAlive reports whether the agent process runs (not exited, not a
// zombie waiting to be reaped).
func (n *e2eNode) agentAlive() bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.agent.Process.Pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}
