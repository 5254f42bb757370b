package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/examples/hello/image"
)

// exitNow is a command of the hello image that exits at once with code.
func exitNow(code int) string {
	return fmt.Sprintf(`["/hello", "--exit-after=1ms", "--exit-code=%d", "--listen=127.0.0.1:0"]`, code)
}

// TestE2EPods runs the pod scenarios on one real node at once:
// each pod is a manifest in the node's folder, checked through its status
// file and over HTTP on its pod IP.
func TestE2EPods(t *testing.T) {
	n := newE2ENode(t)

	n.apply("sidecar", `apiVersion: v1
kind: Pod
metadata: {name: sidecar}
spec:
  containers:
  - {name: web, image: "berth.local/hello:v1", imagePullPolicy: Never}
  - {name: side, image: "berth.local/hello:v2", imagePullPolicy: Never, args: ["--listen=:8081"]}
`)
	n.apply("config", `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {greeting: "hello from a configMap"}
---
apiVersion: v1
kind: Secret
metadata: {name: token}
stringData: {value: s3cr3t}
---
apiVersion: v1
kind: Pod
metadata: {name: config}
spec:
  containers:
  - name: web
    image: berth.local/hello:v1
    imagePullPolicy: Never
    env:
    - name: TOKEN
      valueFrom: {secretKeyRef: {name: token, key: value}}
    volumeMounts:
    - {name: settings, mountPath: /etc/hello/settings}
  volumes:
  - name: settings
    configMap: {name: settings}
`)
	n.apply("liveness", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: liveness}
spec:
  containers:
  - name: web
    image: berth.local/hello:v1
    imagePullPolicy: Never
    livenessProbe:
      exec: {command: %s}
      periodSeconds: 1
      failureThreshold: 1
`, exitNow(1)))
	n.apply("readiness", `apiVersion: v1
kind: Pod
metadata: {name: readiness}
spec:
  containers:
  - name: web
    image: berth.local/hello:v1
    imagePullPolicy: Never
    args: ["--ready-after=4s"]
    readinessProbe:
      httpGet: {path: /readyz, port: 8080}
      periodSeconds: 1
`)
	n.apply("init", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  initContainers:
  - {name: first, image: "berth.local/hello:v1", imagePullPolicy: Never, command: %s}
  containers:
  - {name: web, image: "berth.local/hello:v1", imagePullPolicy: Never}
`, exitNow(0)))
	n.apply("never", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: never}
spec:
  restartPolicy: Never
  containers:
  - {name: job, image: "berth.local/hello:v1", imagePullPolicy: Never, command: %s}
`, exitNow(3)))
	n.apply("onfailure", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: onfailure}
spec:
  restartPolicy: OnFailure
  containers:
  - {name: job, image: "berth.local/hello:v1", imagePullPolicy: Never, command: %s}
`, exitNow(0)))
	n.apply("missing-image", `apiVersion: v1
kind: Pod
metadata: {name: missing-image}
spec:
  containers:
  - {name: web, image: "berth.local/nothing:v9", imagePullPolicy: Never}
`)
	n.apply("missing-hostpath", `apiVersion: v1
kind: Pod
metadata: {name: missing-hostpath}
spec:
  containers:
  - name: web
    image: berth.local/hello:v1
    imagePullPolicy: Never
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    hostPath: {path: /nonexistent/berth-e2e, type: Directory}
`)

	t.Run("two containers share localhost", func(t *testing.T) {
		p := n.waitPod("sidecar", "Running", time.Minute, func(p *corev1.Pod) bool { return running(p) && podReady(p) })
		body := httpGet("http://" + p.Status.PodIP + ":8080/fetch?url=http://localhost:8081/")
		if !strings.Contains(body, "v2") {
			t.Errorf("web could not reach side on localhost: %q", body)
		}
	})
	t.Run("configMap volume and env from a secret", func(t *testing.T) {
		p := n.waitPod("config", "Running", time.Minute, func(p *corev1.Pod) bool { return running(p) && podReady(p) })
		base := "http://" + p.Status.PodIP + ":8080"
		if body := httpGet(base + "/file?path=/etc/hello/settings/greeting"); body != "hello from a configMap" {
			t.Errorf("configMap file: %q", body)
		}
		if body := httpGet(base + "/env?name=TOKEN"); !strings.Contains(body, "s3cr3t") {
			t.Errorf("env from secret: %q", body)
		}
	})
	t.Run("failing exec liveness probe restarts with backoff", func(t *testing.T) {
		p := n.waitPod("liveness", "restarted twice", 2*time.Minute, func(p *corev1.Pod) bool {
			return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 2
		})
		cs := p.Status.ContainerStatuses[0]
		if cs.LastTerminationState.Terminated == nil {
			t.Errorf("no last state after a liveness kill: %+v", cs)
		}
	})
	t.Run("readiness gates Ready", func(t *testing.T) {
		p := n.waitPod("readiness", "Running", time.Minute, running)
		if podReady(p) && time.Since(p.Status.StartTime.Time) < 3*time.Second {
			t.Errorf("Ready before its probe passed")
		}
		n.waitPod("readiness", "Ready", time.Minute, podReady)
	})
	t.Run("init container runs first", func(t *testing.T) {
		p := n.waitPod("init", "Running", time.Minute, func(p *corev1.Pod) bool { return running(p) && podReady(p) })
		ic := p.Status.InitContainerStatuses
		if len(ic) != 1 || ic[0].State.Terminated == nil || ic[0].State.Terminated.ExitCode != 0 {
			t.Fatalf("init container status: %+v", ic)
		}
		main := p.Status.ContainerStatuses[0].State.Running
		if main == nil || main.StartedAt.Before(&ic[0].State.Terminated.FinishedAt) {
			t.Errorf("the app container started before the init container finished: %+v / %+v", main, ic[0].State.Terminated)
		}
	})
	t.Run("restartPolicy Never ends Failed", func(t *testing.T) {
		p := n.waitPod("never", "Failed", time.Minute, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
		if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 3 {
			t.Errorf("container state: %+v", p.Status.ContainerStatuses[0].State)
		}
	})
	t.Run("restartPolicy OnFailure ends Succeeded", func(t *testing.T) {
		n.waitPod("onfailure", "Succeeded", time.Minute, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	})
	t.Run("an image that is not there is reported", func(t *testing.T) {
		p := n.waitPod("missing-image", "waiting on its image", time.Minute, func(p *corev1.Pod) bool {
			return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
				strings.Contains(p.Status.ContainerStatuses[0].State.Waiting.Reason, "Image")
		})
		if w := p.Status.ContainerStatuses[0].State.Waiting; !strings.Contains(w.Message, "berth.local/nothing:v9") {
			t.Errorf("message does not name the image: %+v", w)
		}
	})
	t.Run("a missing hostPath is reported", func(t *testing.T) {
		n.waitPod("missing-hostpath", "waiting on its volume", time.Minute, func(p *corev1.Pod) bool {
			for _, cs := range p.Status.ContainerStatuses {
				if w := cs.State.Waiting; w != nil && strings.Contains(w.Message, "/nonexistent/berth-e2e") {
					return true
				}
			}
			return false
		})
	})
	t.Run("other pods are untouched", func(t *testing.T) {
		p := n.waitPod("sidecar", "still Running", time.Minute, running)
		for _, cs := range p.Status.ContainerStatuses {
			if cs.RestartCount != 0 {
				t.Errorf("%s restarted %d times", cs.Name, cs.RestartCount)
			}
		}
	})
}

// TestE2EGracefulStop: deleting a pod runs its preStop hook, sends SIGTERM,
// and kills the container when terminationGracePeriodSeconds runs out.
func TestE2EGracefulStop(t *testing.T) {
	n := newE2ENode(t)
	n.apply("slow", `apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: web
    image: berth.local/hello:v1
    imagePullPolicy: Never
    args: ["--shutdown-delay=60s"]
    lifecycle:
      preStop:
        httpGet: {path: /prestop, port: 8080}
`)
	n.waitPod("slow", "Running", time.Minute, func(p *corev1.Pod) bool { return running(p) && podReady(p) })
	// The pod's logs go with the pod, so watch them while it terminates.
	sawPreStop := make(chan bool, 1)
	gone := make(chan struct{})
	go func() {
		for {
			logs, _ := filepath.Glob(filepath.Join(n.dataDir, "logs", "*", "*", "*"))
			for _, l := range logs {
				if data, err := os.ReadFile(l); err == nil && strings.Contains(string(data), "/prestop") {
					sawPreStop <- true
					return
				}
			}
			select {
			case <-gone:
				sawPreStop <- false
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	n.remove("slow")
	n.waitGone("slow", time.Minute)
	took := time.Since(start)
	close(gone)
	if took < 2*time.Second || took > 20*time.Second {
		t.Errorf("the pod went after %v; want about its 3s grace period", took)
	}
	if !<-sawPreStop {
		t.Errorf("no /prestop request in the container's logs\nagent log:\n%s", n.logs())
	}
	if logs, _ := filepath.Glob(filepath.Join(n.dataDir, "logs", "*")); len(logs) != 0 {
		t.Errorf("the pod's logs outlived it: %v", logs)
	}
}

// TestE2EPullWithCredentials: a pod's image comes from a local registry
// that wants a password, given as an imagePullSecret.
func TestE2EPullWithCredentials(t *testing.T) {
	n := newE2ENode(t)
	addr, stop := image.StartRegistry(t, t.TempDir(), "berth", "pa55word")
	defer stop()
	img, err := image.Build(context.Background(), "../../examples/hello", "v2")
	if err != nil {
		t.Fatal(err)
	}
	ref := addr + "/berth/hello:v2"
	if err := image.Push(context.Background(), img, ref, nil, true); err == nil {
		t.Fatal("an anonymous push to the registry worked; it must want a password")
	}
	if err := pushWithAuth(img, ref); err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("berth:pa55word"))
	dockerConfig := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, addr, auth)
	n.apply("private", fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: regcred}
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '%s'
---
apiVersion: v1
kind: Pod
metadata: {name: private}
spec:
  imagePullSecrets: [{name: regcred}]
  containers:
  - {name: web, image: %q, imagePullPolicy: Always}
`, dockerConfig, ref))
	p := n.waitPod("private", "Running", 2*time.Minute, func(p *corev1.Pod) bool { return running(p) && podReady(p) })
	if body := httpGet("http://" + p.Status.PodIP + ":8080/"); !strings.Contains(body, "v2") {
		t.Errorf("GET: %q", body)
	}
}
