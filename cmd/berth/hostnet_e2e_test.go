package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/examples/hello/image"
)

// TestE2EHostNetwork: a hostNetwork pod listens on the host's own
// loopback, and gets no network namespace of its own.
func TestE2EHostNetwork(t *testing.T) {
	n := newE2ENode(t)
	port := freeHostPort(t)
	n.apply("host", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: host}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: berth.local/hello:v1
    imagePullPolicy: Never
    args: ["--listen=127.0.0.1:%d"]
    readinessProbe:
      tcpSocket: {port: %d}
      periodSeconds: 1
`, port, port))
	n.waitPod("host", "Running and Ready", time.Minute, func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && podReady(p)
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if body := httpGet(url); !strings.Contains(body, "v1") {
		t.Fatalf("GET %s on the host: %q", url, body)
	}
	if ns, _ := filepath.Glob(filepath.Join(n.dataDir, "cni", "netns", "*")); len(ns) > 0 {
		t.Errorf("a hostNetwork pod got a network namespace: %v", ns)
	}
	if m := image.MountsUnder(n.dataDir); len(m) > 0 {
		t.Errorf("mounts under the data dir for a hostNetwork pod: %v", m)
	}

	n.remove("host")
	n.waitGone("host", time.Minute)
	if body := httpGet(url); strings.Contains(body, "v1") {
		t.Errorf("the hostNetwork pod still answers after its removal: %q", body)
	}
	if ns, _ := filepath.Glob(filepath.Join(n.dataDir, "cni", "netns", "*")); len(ns) > 0 {
		t.Errorf("network namespaces left after the hostNetwork pod went: %v", ns)
	}
}
