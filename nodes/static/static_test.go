package static

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/nodes/fake"
)

const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: berth.local/hello:%s
    env:
    - name: GREETING
      valueFrom:
        configMapKeyRef: {name: settings, key: greeting}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  greeting: hi
`

// waitFor polls cond every 20ms for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readStatus(dataDir string) (*corev1.Pod, bool) {
	data, err := os.ReadFile(filepath.Join(dataDir, "pods", "default_web.json"))
	if err != nil {
		return nil, false
	}
	var pod corev1.Pod
	if json.Unmarshal(data, &pod) != nil {
		return nil, false
	}
	return &pod, true
}

func image(pod *corev1.Pod) string { return pod.Spec.Containers[0].Image }

// The folder is the desired state: a pod runs and reports its status to a
// file, follows edits of its manifest, ignores an invalid edit, and goes
// away with its file.
func TestStaticPods(t *testing.T) {
	dir, dataDir := t.TempDir(), t.TempDir()
	manifest := filepath.Join(dir, "web.yaml")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(manifest, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf(podYAML, "v1"))

	rt, err := fake.New(fake.Options{Clock: clock.RealClock{}, PodCIDR: "10.99.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Dir: dir, DataDir: dataDir, NodeName: "edge-1", Runtime: rt, Log: slog.New(slog.DiscardHandler), Debounce: 20 * time.Millisecond})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	waitFor(t, "the pod to run", func() bool {
		pod, ok := readStatus(dataDir)
		return ok && pod.Status.Phase == corev1.PodRunning && pod.Spec.NodeName == "edge-1" && image(pod) == "berth.local/hello:v1"
	})

	write(fmt.Sprintf(podYAML, "v2"))
	waitFor(t, "the pod to be replaced by v2", func() bool {
		pod, ok := readStatus(dataDir)
		return ok && image(pod) == "berth.local/hello:v2" && pod.Status.Phase == corev1.PodRunning
	})

	write("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n")
	time.Sleep(300 * time.Millisecond)
	if pod, ok := readStatus(dataDir); !ok || image(pod) != "berth.local/hello:v2" {
		t.Fatalf("an invalid manifest changed the running pod")
	}

	if err := os.Remove(manifest); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the status file to go", func() bool { _, ok := readStatus(dataDir); return !ok })
}
