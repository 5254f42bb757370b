package main

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestE2EAgentStaticPods runs `berth agent --static-pods` on a containerd of
// the test's own: a pod from the hello image starts, reports Running and
// Ready with its pod IP in its status file, answers HTTP on that IP with
// the env its manifest gives; the agent restarting does not restart it;
// removing the manifest removes the pod and its network.
func TestE2EAgentStaticPods(t *testing.T) {
	n := newE2ENode(t)
	n.apply("hello", `apiVersion: v1
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
`)
	pod := n.waitPod("hello", "Running and Ready", time.Minute, func(p *corev1.Pod) bool { return running(p) && podReady(p) })
	url := "http://" + pod.Status.PodIP + ":8080/"
	if body := httpGet(url); !strings.Contains(body, "from a static pod") {
		t.Fatalf("GET %s: %q", url, body)
	}
	startedAt := pod.Status.ContainerStatuses[0].State.Running.StartedAt

	// The agent restarts: the container keeps running, untouched.
	n.stopAgent()
	if body := httpGet(url); !strings.Contains(body, "from a static pod") {
		t.Fatalf("the pod stopped with the agent: %q", body)
	}
	n.startAgent()
	time.Sleep(3 * time.Second)
	pod = n.waitPod("hello", "Ready again", time.Minute, podReady)
	cs := pod.Status.ContainerStatuses[0]
	if cs.RestartCount != 0 || cs.State.Running == nil || !cs.State.Running.StartedAt.Equal(&startedAt) {
		t.Fatalf("the agent restart restarted the container: %+v", cs)
	}

	// The manifest goes: so does the pod, and its network.
	n.remove("hello")
	n.waitGone("hello", time.Minute)
	if body := httpGet(url); strings.Contains(body, "hello") {
		t.Errorf("the pod still answers after its removal: %q", body)
	}
}
