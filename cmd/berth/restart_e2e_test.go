package main

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestE2EContainerdRestart: containerd dies (SIGKILL) under running pods
// and comes back on the same socket and root. The pods keep answering
// throughout (their runc shims outlive containerd) and are not restarted;
// the agent reconnects: a pod added afterwards starts, and a container
// that exits after the restart has its exit noticed.
func TestE2EContainerdRestart(t *testing.T) {
	n := newE2ENode(t)
	n.apply("web", `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: berth.local/hello:v1
    imagePullPolicy: Never
    readinessProbe:
      httpGet: {path: /readyz, port: 8080}
      periodSeconds: 1
`)
	n.apply("job", `apiVersion: v1
kind: Pod
metadata: {name: job}
spec:
  restartPolicy: Never
  containers:
  - {name: job, image: "berth.local/hello:v1", imagePullPolicy: Never, args: ["--exit-after=20s", "--exit-code=4"]}
`)
	web := n.waitPod("web", "Running and Ready", time.Minute, func(p *corev1.Pod) bool { return running(p) && podReady(p) })
	n.waitPod("job", "Running", time.Minute, running)
	url := "http://" + web.Status.PodIP + ":8080/"
	startedAt := web.Status.ContainerStatuses[0].State.Running.StartedAt

	n.killContainerd()
	if body := httpGet(url); !strings.Contains(body, "v1") {
		t.Fatalf("the pod stopped answering with containerd: %q", body)
	}
	time.Sleep(2 * time.Second) // the agent meets a dead containerd for a while
	n.startContainerd()
	restarted := time.Now()
	if body := httpGet(url); !strings.Contains(body, "v1") {
		t.Fatalf("the pod stopped answering after containerd restarted: %q", body)
	}

	n.apply("late", `apiVersion: v1
kind: Pod
metadata: {name: late}
spec:
  containers:
  - {name: web, image: "berth.local/hello:v2", imagePullPolicy: Never}
`)
	late := n.waitPod("late", "Running and Ready", time.Minute, func(p *corev1.Pod) bool { return running(p) && podReady(p) })
	if body := httpGet("http://" + late.Status.PodIP + ":8080/"); !strings.Contains(body, "v2") {
		t.Errorf("the pod added after containerd restarted does not answer: %q", body)
	}

	job := n.waitPod("job", "Failed", time.Minute, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	term := job.Status.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != 4 || term.FinishedAt.Time.Before(restarted) {
		t.Errorf("the job's exit after containerd restarted: %+v, want exit code 4 after %v", job.Status.ContainerStatuses[0].State, restarted)
	}

	web = n.waitPod("web", "still Ready", time.Minute, podReady)
	cs := web.Status.ContainerStatuses[0]
	if cs.RestartCount != 0 || cs.State.Running == nil || !cs.State.Running.StartedAt.Equal(&startedAt) {
		t.Errorf("containerd restarting restarted the container: %+v", cs)
	}
	if body := httpGet(url); !strings.Contains(body, "v1") {
		t.Errorf("GET %s at the end: %q", url, body)
	}
}
