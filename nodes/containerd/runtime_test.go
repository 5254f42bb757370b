package containerd

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/snapshots"
	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/examples/hello/image"
	"github.com/berth-io/berth/nodes"
)

func testPod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)}}
}

// startContainer pulls (IfNotPresent), creates and starts one container of
// the tool image with args in sandbox sb.
func startContainer(t *testing.T, rt *Runtime, sb nodes.PodSandbox, pod *corev1.Pod, name string, spec *corev1.Container, args ...string) string {
	t.Helper()
	ctx := context.Background()
	ref, err := rt.PullImage(ctx, toolImage, corev1.PullIfNotPresent, nil)
	must(t, err)
	if spec == nil {
		spec = &corev1.Container{}
	}
	spec.Name, spec.Image = name, toolImage
	id, err := rt.CreateContainer(ctx, sb.ID, &nodes.ContainerConfig{
		Name: name, Image: ref, Args: args, Labels: nodes.ContainerLabels(pod, name),
		LogPath: name + "/0.log", Spec: spec,
		Env: []nodes.EnvVar{{Name: "GREETING", Value: "hi"}},
	})
	must(t, err)
	must(t, rt.StartContainer(ctx, id))
	return id
}

func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// waitExit waits until the container has exited and returns its status.
func waitExit(t *testing.T, rt *Runtime, id string, timeout time.Duration) nodes.ContainerStatus {
	t.Helper()
	var st nodes.ContainerStatus
	waitFor(t, timeout, "container "+id+" to exit", func() (bool, error) {
		var err error
		st, err = rt.ContainerStatus(context.Background(), id)
		return err == nil && st.State == nodes.ContainerExited, err
	})
	return st
}

func TestImagePullPolicy(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		image   string
		policy  corev1.PullPolicy
		wantErr error
	}{
		{"berth.test/missing:v1", corev1.PullNever, nodes.ErrImageNeverPull},
		{toolImage, corev1.PullNever, nil},
		{toolImage, corev1.PullIfNotPresent, nil},
		// Nothing listens on 127.0.0.1:1: the pull fails, naming the image.
		{"127.0.0.1:1/missing:v1", corev1.PullIfNotPresent, nodes.ErrImagePull},
		{"127.0.0.1:1/missing:v1", corev1.PullAlways, nodes.ErrImagePull},
	} {
		ref, err := e.rt.PullImage(ctx, tc.image, tc.policy, nil)
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Errorf("PullImage(%s, %s) = %q, %v; want error %v", tc.image, tc.policy, ref, err, tc.wantErr)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), tc.image) {
			t.Errorf("PullImage(%s) error %q does not name the image", tc.image, err)
		}
		if err == nil && !strings.HasPrefix(ref, "berth.test/tool@sha256:") {
			t.Errorf("PullImage(%s) = %q, want a digest reference", tc.image, ref)
		}
	}
}

// TestPullFromLocalRegistry pulls over plain HTTP from a registry on
// 127.0.0.1 that wants credentials: refused without them, pulled and
// runnable with them (user/password, or a dockerconfigjson "auth").
func TestPullFromLocalRegistry(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	addr, _ := image.StartRegistry(t, t.TempDir(), "berth", "s3cret")
	ref := addr + "/tool:v1"
	must(t, image.Push(ctx, e.img, ref, &authn.Basic{Username: "berth", Password: "s3cret"}, true))

	if _, err := e.rt.PullImage(ctx, ref, corev1.PullAlways, nil); !errors.Is(err, nodes.ErrImagePull) || !strings.Contains(err.Error(), ref) {
		t.Errorf("anonymous pull = %v, want ErrImagePull naming %s", err, ref)
	}
	for _, auth := range []*nodes.AuthConfig{
		{Username: "berth", Password: "s3cret"},
		{Auth: base64.StdEncoding.EncodeToString([]byte("berth:s3cret"))},
	} {
		got, err := e.rt.PullImage(ctx, ref, corev1.PullAlways, auth)
		if err != nil || !strings.HasPrefix(got, addr+"/tool@sha256:") {
			t.Fatalf("pull with %+v = %q, %v", auth, got, err)
		}
	}
	pod := testPod("pulled")
	sb, err := e.rt.RunPodSandbox(ctx, &nodes.PodSandboxConfig{Pod: pod, Labels: nodes.SandboxLabels(pod), LogDirectory: e.logDir})
	must(t, err)
	got, err := e.rt.PullImage(ctx, ref, corev1.PullNever, nil)
	must(t, err)
	id, err := e.rt.CreateContainer(ctx, sb.ID, &nodes.ContainerConfig{Name: "app", Image: got, Args: []string{"serve", "8080"}, Labels: nodes.ContainerLabels(pod, "app"), LogPath: "app/0.log"})
	must(t, err)
	must(t, e.rt.StartContainer(ctx, id))
	waitFor(t, 10*time.Second, "HTTP from the pulled image", func() (bool, error) {
		_, err := httpGet("http://" + sb.IP + ":8080/")
		return err == nil, err
	})
}

// TestPodLifecycle runs a pod of two containers on real containerd and
// walks it through its life: HTTP on the pod IP, localhost between
// containers, exec, logs, adoption by a new Runtime, graceful and forced
// stops, OOM, and removal leaving nothing behind.
func TestPodLifecycle(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	pod := testPod("web")
	sb, err := e.rt.RunPodSandbox(ctx, &nodes.PodSandboxConfig{Pod: pod, Labels: nodes.SandboxLabels(pod), LogDirectory: e.logDir})
	must(t, err)
	if sb.IP == "" || sb.State != nodes.SandboxReady {
		t.Fatalf("sandbox = %+v, want ready with an IP", sb)
	}
	web := startContainer(t, e.rt, sb, pod, "web", nil, "serve", "8080")
	side := startContainer(t, e.rt, sb, pod, "side", nil, "serve", "8081")

	var body string
	waitFor(t, 10*time.Second, "HTTP on the pod IP", func() (bool, error) {
		body, err = httpGet("http://" + sb.IP + ":8080/first")
		return err == nil, err
	})
	if body != "hello from 8080\n" {
		t.Errorf("GET pod IP = %q", body)
	}

	t.Run("localhost between containers", func(t *testing.T) {
		res, err := e.rt.Exec(ctx, side, []string{"/hello", "get", "http://127.0.0.1:8080/from-side"}, 5*time.Second)
		if err != nil || res.ExitCode != 0 || string(res.Stdout) != "hello from 8080\n" {
			t.Errorf("exec get localhost = %+v (stdout %q stderr %q), %v", res, res.Stdout, res.Stderr, err)
		}
	})
	t.Run("exec output and exit code", func(t *testing.T) {
		res, err := e.rt.Exec(ctx, web, []string{"/hello", "echo", "hi", "there"}, 5*time.Second)
		if err != nil || res.ExitCode != 3 || string(res.Stdout) != "hi there\n" || string(res.Stderr) != "to stderr\n" {
			t.Errorf("exec = %+v (stdout %q stderr %q), %v", res, res.Stdout, res.Stderr, err)
		}
		if _, err := e.rt.Exec(ctx, web, []string{"/no-such-binary"}, 5*time.Second); err == nil {
			t.Error("exec of a missing binary: no error")
		}
	})

	logPath := filepath.Join(e.logDir, "web", "0.log")
	t.Run("CRI logs", func(t *testing.T) {
		line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) F (.*)$`)
		var got []string
		waitFor(t, 5*time.Second, "log lines", func() (bool, error) {
			b, err := os.ReadFile(logPath)
			got = nil
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				m := line.FindStringSubmatch(l)
				if m == nil {
					return false, errors.New("not CRI format: " + l)
				}
				got = append(got, m[1]+" "+m[2])
			}
			return strings.Contains(strings.Join(got, "\n"), "stdout request /first"), err
		})
		for _, want := range []string{"stdout serving on 8080", "stderr a line on stderr", "stdout request /first"} {
			if !strings.Contains(strings.Join(got, "\n"), want) {
				t.Errorf("log %s lacks %q: %q", logPath, want, got)
			}
		}
	})

	t.Run("adoption by a new Runtime", func(t *testing.T) {
		before, err := e.rt.ContainerStatus(ctx, web)
		must(t, err)
		must(t, e.rt.Close())
		e.rt = e.newRuntime(t)
		after, err := e.rt.ContainerStatus(ctx, web)
		must(t, err)
		if after.State != nodes.ContainerRunning || !after.StartedAt.Equal(before.StartedAt) {
			t.Errorf("after adoption: state %s startedAt %v, want running since %v", after.State, after.StartedAt, before.StartedAt)
		}
		if after.Labels[nodes.LabelContainerName] != "web" || after.Name != "web" || after.SandboxID != sb.ID {
			t.Errorf("adopted status = %+v", after)
		}
		cs, err := e.rt.ListContainers(ctx, nodes.ContainerFilter{Labels: map[string]string{nodes.LabelPodUID: string(pod.UID)}})
		if err != nil || len(cs) != 2 {
			t.Errorf("ListContainers by pod UID = %d containers, %v; want 2", len(cs), err)
		}
		sbs, err := e.rt.ListPodSandboxes(ctx, nodes.SandboxFilter{Labels: nodes.SandboxLabels(pod), State: nodes.SandboxReady})
		if err != nil || len(sbs) != 1 || sbs[0].IP != sb.IP {
			t.Errorf("ListPodSandboxes = %+v, %v", sbs, err)
		}
		if _, err := httpGet("http://" + sb.IP + ":8080/after-adoption"); err != nil {
			t.Errorf("HTTP after adoption: %v", err)
		}
		// The new Runtime drains the same output FIFOs into the log.
		waitFor(t, 5*time.Second, "log line written after adoption", func() (bool, error) {
			b, err := os.ReadFile(logPath)
			return strings.Contains(string(b), "request /after-adoption"), err
		})
	})

	t.Run("stop honours SIGTERM", func(t *testing.T) {
		start := time.Now()
		must(t, e.rt.StopContainer(ctx, web, 30*time.Second))
		st := waitExit(t, e.rt, web, 10*time.Second)
		if st.ExitCode != 0 || st.Reason != "Completed" || time.Since(start) > 10*time.Second {
			t.Errorf("after SIGTERM: %+v", st)
		}
		waitFor(t, 5*time.Second, "got SIGTERM in the log", func() (bool, error) {
			b, err := os.ReadFile(logPath)
			return strings.Contains(string(b), "stdout F got SIGTERM"), err
		})
	})

	t.Run("SIGKILL after the grace period", func(t *testing.T) {
		id := startContainer(t, e.rt, sb, pod, "stubborn", nil, "ignore-term")
		waitFor(t, 5*time.Second, "stubborn to start", func() (bool, error) {
			b, err := os.ReadFile(filepath.Join(e.logDir, "stubborn", "0.log"))
			return strings.Contains(string(b), "ignoring SIGTERM"), err
		})
		start := time.Now()
		must(t, e.rt.StopContainer(ctx, id, time.Second))
		st := waitExit(t, e.rt, id, 10*time.Second)
		if took := time.Since(start); took < time.Second || st.ExitCode != 137 || st.Reason != "Error" {
			t.Errorf("after grace 1s: took %s, status %+v; want exit 137 after >= 1s", took, st)
		}
	})

	t.Run("OOMKilled", func(t *testing.T) {
		spec := &corev1.Container{Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
			corev1.ResourceMemory: resource.MustParse("32Mi"), corev1.ResourceCPU: resource.MustParse("500m"),
		}}}
		id := startContainer(t, e.rt, sb, pod, "eater", spec, "eat")
		st := waitExit(t, e.rt, id, 30*time.Second)
		if st.Reason != "OOMKilled" || st.ExitCode != 137 {
			t.Errorf("memory hog: %+v, want OOMKilled with 137", st)
		}
	})

	t.Run("remove leaves nothing", func(t *testing.T) {
		netns := e.net.NetNSPath(sb.ID)
		must(t, e.rt.StopPodSandbox(ctx, sb.ID))
		sbs, _ := e.rt.ListPodSandboxes(ctx, nodes.SandboxFilter{ID: sb.ID})
		if len(sbs) != 1 || sbs[0].State != nodes.SandboxNotReady {
			t.Errorf("after stop: %+v, want one NotReady sandbox", sbs)
		}
		must(t, e.rt.RemovePodSandbox(ctx, sb.ID))
		nctx := namespaces.WithNamespace(ctx, DefaultNamespace)
		if cs, err := e.client.Containers(nctx); err != nil || len(cs) != 0 {
			t.Errorf("containers left: %d, %v", len(cs), err)
		}
		n := 0
		err := e.client.SnapshotService(e.snapper).Walk(nctx, func(_ context.Context, info snapshots.Info) error {
			if info.Kind != snapshots.KindCommitted {
				n++
			}
			return nil
		})
		if err != nil || n != 0 {
			t.Errorf("container snapshots left: %d, %v", n, err)
		}
		if _, err := os.Lstat(netns); !os.IsNotExist(err) {
			t.Errorf("netns %s still there: %v", netns, err)
		}
		if _, err := os.Stat(e.logDir); err != nil {
			t.Errorf("the log directory the caller chose was removed: %v", err)
		}
		if sbs, _ := e.rt.ListPodSandboxes(ctx, nodes.SandboxFilter{}); len(sbs) != 0 {
			t.Errorf("sandboxes left: %+v", sbs)
		}
		_ = side
	})
}

// TestStartErrorAndLogRemoval: a command not in the image leaves the
// container exited with StartError (128) and runc's message, as the
// Runtime contract says; removing the pod's last sandbox removes the log
// directory the runtime chose for it.
func TestStartErrorAndLogRemoval(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	pod := testPod("nocmd")
	pod.Spec.HostNetwork = true
	sb, err := e.rt.RunPodSandbox(ctx, &nodes.PodSandboxConfig{Pod: pod, Labels: nodes.SandboxLabels(pod)})
	must(t, err)
	ref, err := e.rt.PullImage(ctx, toolImage, corev1.PullIfNotPresent, nil)
	must(t, err)
	id, err := e.rt.CreateContainer(ctx, sb.ID, &nodes.ContainerConfig{
		Name: "app", Image: ref, Command: []string{"/no/such/binary"}, Labels: nodes.ContainerLabels(pod, "app"),
		LogPath: "app/0.log", Spec: &corev1.Container{Name: "app", Image: toolImage},
	})
	must(t, err)
	if err := e.rt.StartContainer(ctx, id); err == nil || !strings.Contains(err.Error(), "/no/such/binary") {
		t.Fatalf("StartContainer = %v, want an error naming the command", err)
	}
	st, err := e.rt.ContainerStatus(ctx, id)
	must(t, err)
	if st.State != nodes.ContainerExited || st.ExitCode != nodes.StartErrorExitCode || st.Reason != nodes.StartErrorReason ||
		!strings.Contains(st.Message, "/no/such/binary") || st.FinishedAt.IsZero() {
		t.Errorf("status = %+v, want exited 128 StartError naming the command", st)
	}

	logDir := filepath.Join(e.rt.opts.LogDir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
	if _, err := os.Stat(logDir); err != nil {
		t.Fatalf("the pod's log directory: %v", err)
	}
	// A second sandbox of the same pod (re-created) shares the directory:
	// removing the first keeps it.
	sb2, err := e.rt.RunPodSandbox(ctx, &nodes.PodSandboxConfig{Pod: pod, Labels: nodes.SandboxLabels(pod), Attempt: 1})
	must(t, err)
	must(t, e.rt.RemovePodSandbox(ctx, sb.ID))
	if _, err := os.Stat(logDir); err != nil {
		t.Errorf("log directory removed while another sandbox of the pod remains: %v", err)
	}
	must(t, e.rt.RemovePodSandbox(ctx, sb2.ID))
	if _, err := os.Lstat(logDir); !os.IsNotExist(err) {
		t.Errorf("log directory %s still there after the pod's last sandbox: %v", logDir, err)
	}
}
