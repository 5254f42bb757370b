package logs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/store"
)

// backendFixture is a store with pods and a log root.
type backendFixture struct {
	t    *testing.T
	ctx  context.Context
	st   store.Store
	root string
	b    *Backend
}

func newBackendFixture(t *testing.T) *backendFixture {
	t.Helper()
	st := store.NewMemory(clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	t.Cleanup(func() { st.Close() })
	root := t.TempDir()
	b := NewBackend(st, root)
	b.poll = 20 * time.Millisecond
	return &backendFixture{t: t, ctx: context.Background(), st: st, root: root, b: b}
}

// addPod stores a pod running containers (init containers are "init:NAME")
// and returns its log directory.
func (f *backendFixture) addPod(name string, containers []string, edit ...func(*corev1.Pod)) (*corev1.Pod, string) {
	f.t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
	for _, c := range containers {
		if init, ok := strings.CutPrefix(c, "init:"); ok {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: init, Image: "app"})
			continue
		}
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "app"})
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	}
	p.Status.Phase = corev1.PodRunning
	for _, e := range edit {
		e(p)
	}
	obj, err := f.st.Create(f.ctx, p)
	if err != nil {
		f.t.Fatal(err)
	}
	created := obj.(*corev1.Pod)
	created.Status = p.Status
	if obj, err = f.st.Update(f.ctx, created); err != nil {
		f.t.Fatal(err)
	}
	created = obj.(*corev1.Pod)
	return created, PodDir(f.root, "default", name, string(created.UID))
}

// setStatus rewrites a container's status.
func (f *backendFixture) setStatus(pod, container string, status corev1.ContainerStatus) {
	f.t.Helper()
	obj, err := f.st.Get(f.ctx, "Pod", "default", pod)
	if err != nil {
		f.t.Fatal(err)
	}
	p := obj.(*corev1.Pod)
	status.Name = container
	for i := range p.Status.ContainerStatuses {
		if p.Status.ContainerStatuses[i].Name == container {
			p.Status.ContainerStatuses[i] = status
		}
	}
	if _, err := f.st.Update(f.ctx, p); err != nil {
		f.t.Fatal(err)
	}
}

func (f *backendFixture) logs(pod, container string, previous bool) (string, error) {
	var buf bytes.Buffer
	err := f.b.Logs(f.ctx, "default", pod, container, previous, false, &buf)
	return buf.String(), err
}

func TestBackendLogs(t *testing.T) {
	f := newBackendFixture(t)
	_, web := f.addPod("web", []string{"app"})
	writeRun(t, web, "app", 0, nil, []string{"stdout F run0"})
	writeRun(t, web, "app", 1, []string{"stdout F a"}, []string{"stderr P b1", "stderr F b2", "stdout F c"})
	// An older incarnation of the pod, written last: its UID is not the
	// stored pod's, so it is not read.
	writeRun(t, PodDir(f.root, "default", "web", "old-uid"), "app", 5, nil, []string{"stdout F stale"})

	_, multi := f.addPod("multi", []string{"init:setup", "a", "b"})
	writeRun(t, multi, "a", 0, nil, []string{"stdout F from a"})
	writeRun(t, multi, "setup", 0, nil, []string{"stdout F from init"})
	f.addPod("plain", []string{"a", "b"})
	_, def := f.addPod("def", []string{"a", "b"}, func(p *corev1.Pod) {
		p.Annotations = map[string]string{DefaultContainerAnnotation: "b"}
	})
	writeRun(t, def, "b", 0, nil, []string{"stdout F from b"})
	f.addPod("new", []string{"app"}, func(p *corev1.Pod) {
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	})

	tests := []struct {
		name, pod, container string
		previous             bool
		want                 string
		wantErr              string
		is                   error
	}{
		{name: "current run, the only container", pod: "web", want: "a\nb1b2\nc\n"},
		{name: "previous run", pod: "web", container: "app", previous: true, want: "run0\n"},
		{name: "named container", pod: "multi", container: "a", want: "from a\n"},
		{name: "init container", pod: "multi", container: "setup", want: "from init\n"},
		{name: "default-container annotation", pod: "def", want: "from b\n"},
		{name: "pod not found", pod: "nope", wantErr: `pods "nope" not found`, is: store.ErrNotFound},
		{name: "several containers", pod: "multi", is: store.ErrInvalid,
			wantErr: "a container name must be specified for pod multi, choose one of: [a b] or one of the init containers: [setup]"},
		{name: "several containers, no init", pod: "plain", is: store.ErrInvalid,
			wantErr: "a container name must be specified for pod plain, choose one of: [a b]"},
		{name: "unknown container", pod: "multi", container: "c", wantErr: "container c is not valid for pod multi", is: store.ErrInvalid},
		{name: "no previous run", pod: "multi", container: "a", previous: true, is: ErrNotFound,
			wantErr: `previous terminated container "a" in pod "multi" not found`},
		{name: "waiting to start", pod: "new", is: ErrNotFound,
			wantErr: `container "app" in pod "new" is waiting to start: ContainerCreating`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.logs(tt.pod, tt.container, tt.previous)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Logs = %q, %v; want error %q", got, err, tt.wantErr)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Logs = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls until cond holds, or fails after a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBackendFollow(t *testing.T) {
	terminated := corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}}
	crashLooping := corev1.ContainerStatus{
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}},
	}
	tests := []struct {
		name string
		// stop ends the container's run (nil: cancel the follow instead).
		stop func(f *backendFixture, dir string)
	}{
		{"container terminates", func(f *backendFixture, _ string) { f.setStatus("web", "app", terminated) }},
		{"container waits to restart", func(f *backendFixture, _ string) { f.setStatus("web", "app", crashLooping) }},
		{"pod deleted", func(f *backendFixture, _ string) {
			zero := int64(0)
			if err := f.st.Delete(f.ctx, "Pod", "default", "web", store.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
				f.t.Fatal(err)
			}
		}},
		{"a new run starts", func(f *backendFixture, dir string) {
			writeRun(f.t, dir, "app", 1, nil, []string{"stdout F next run"})
		}},
		{"client goes away", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBackendFixture(t)
			_, dir := f.addPod("web", []string{"app"})
			path := writeRun(t, dir, "app", 0, nil, []string{"stdout F one"})
			ctx, cancel := context.WithCancel(f.ctx)
			defer cancel()
			var out syncBuffer
			done := make(chan error, 1)
			go func() { done <- f.b.Logs(ctx, "default", "web", "", false, true, &out) }()
			waitFor(t, "the first line", func() bool { return out.String() == "one\n" })
			writeCRI(t, path, []string{"stdout F two", "stderr F three"})
			waitFor(t, "the appended lines", func() bool { return out.String() == "one\ntwo\nthree\n" })
			select {
			case err := <-done:
				t.Fatalf("follow ended early: %v", err)
			case <-time.After(60 * time.Millisecond):
			}
			if tt.stop != nil {
				tt.stop(f, dir)
			} else {
				cancel()
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Logs = %v, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("follow did not end")
			}
			if got := out.String(); got != "one\ntwo\nthree\n" {
				t.Errorf("wrote %q", got)
			}
		})
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestBackendWriteErrorStops(t *testing.T) {
	f := newBackendFixture(t)
	_, dir := f.addPod("web", []string{"app"})
	writeRun(t, dir, "app", 0, nil, []string{"stdout F one", "stdout F two"})
	if err := f.b.Logs(f.ctx, "default", "web", "app", false, true, errWriter{}); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Logs = %v, want the writer's error", err)
	}
}
