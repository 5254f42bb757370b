package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

// testServer is an API server on loopback TLS with a memory store and
// fake backends.
type testServer struct {
	Store     store.Store
	URL       string
	CA        []byte
	Admin     string
	NodeToken string
	Backend   *fakeBackend
	DataDir   string
}

func startServer(t *testing.T, storeOpts store.Options) *testServer {
	t.Helper()
	dir := t.TempDir()
	tlsCfg, caPEM, err := api.EnsurePKI(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	admin, nodeTok, err := api.EnsureTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemoryWithOptions(clocktesting.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), storeOpts)
	t.Cleanup(func() { st.Close() })
	fb := &fakeBackend{logLines: make(chan string, 16)}
	srv, err := api.NewServer(api.Options{
		Store: st, Rollouts: fb, Syncer: fb, Logs: fb,
		AdminToken: admin, NodeToken: nodeTok, TLS: tlsCfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testServer{Store: st, URL: "https://" + ln.Addr().String(), CA: caPEM, Admin: admin, NodeToken: nodeTok, Backend: fb, DataDir: dir}
}

func (ts *testServer) client(t *testing.T, token string) *client.Client {
	t.Helper()
	c, err := client.New(&client.Config{Server: ts.URL, CAData: ts.CA, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// fakeBackend records the actions it is asked for.
type fakeBackend struct {
	mu    sync.Mutex
	calls []string
	// logLines feed a follow; closing it ends the container.
	logLines chan string
}

func (f *fakeBackend) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

var errNoSuchRevision = errors.New(`unable to find specified revision 9 in history`)

func (f *fakeBackend) Undo(_ context.Context, kind, ns, name string, to int64) (string, error) {
	f.record("undo %s %s/%s %d", kind, ns, name, to)
	if name == "missing" {
		return "", fmt.Errorf("deployments.apps %q %w", name, store.ErrNotFound)
	}
	if to == 9 {
		return "", errNoSuchRevision
	}
	return "rolled back", nil
}

func (f *fakeBackend) Pause(_ context.Context, kind, ns, name string) (string, error) {
	f.record("pause %s %s/%s", kind, ns, name)
	return "paused", nil
}

func (f *fakeBackend) Resume(_ context.Context, kind, ns, name string) (string, error) {
	f.record("resume %s %s/%s", kind, ns, name)
	return "resumed", nil
}

func (f *fakeBackend) Restart(_ context.Context, kind, ns, name string) (string, error) {
	f.record("restart %s %s/%s", kind, ns, name)
	return "restarted", nil
}

func (f *fakeBackend) History(_ context.Context, kind, ns, name string) ([]api.Revision, error) {
	f.record("history %s %s/%s", kind, ns, name)
	return []api.Revision{{Revision: 1}, {Revision: 2, ChangeCause: "bump", Template: "spec: {}\n"}}, nil
}

func (f *fakeBackend) Sync(_ context.Context, source, revision string, latest bool) ([]*sources.Resource, error) {
	f.record("sync %q %q %v", source, revision, latest)
	if source == "nope" {
		return nil, fmt.Errorf("source %q: %w", source, store.ErrNotFound)
	}
	return []*sources.Resource{{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       sources.SourceSpec{Type: sources.TypeGit, URL: "https://example.com/web.git", PinnedRevision: revision},
		Status:     sources.SourceStatus{LastAppliedRevision: "abc123"},
	}}, nil
}

func (f *fakeBackend) Diff(_ context.Context, source string) ([]api.ObjectDiff, error) {
	f.record("diff %q", source)
	return []api.ObjectDiff{{Kind: "Deployment", Namespace: "default", Name: "web", Action: api.DiffUpdate, Diff: "--- live\n+++ desired\n"}}, nil
}

func (f *fakeBackend) DiffFiles(_ context.Context, files []sources.File) ([]api.ObjectDiff, error) {
	var names []string
	for _, fl := range files {
		names = append(names, fmt.Sprintf("%s:%d", fl.Path, len(fl.Data)))
		if strings.Contains(string(fl.Data), "bad") {
			return nil, fmt.Errorf("%w: %s:3:5: error: unknown field \"replicaz\"", store.ErrInvalid, fl.Path)
		}
	}
	f.record("difffiles %s", strings.Join(names, ","))
	return []api.ObjectDiff{{Kind: "ConfigMap", Namespace: "default", Name: "cfg", Action: api.DiffCreate}}, nil
}

func (f *fakeBackend) Logs(ctx context.Context, ns, pod, container string, previous, follow bool, w io.Writer) error {
	f.record("logs %s/%s %q previous=%v follow=%v", ns, pod, container, previous, follow)
	if pod == "missing" {
		return fmt.Errorf("pod %q %w", pod, store.ErrNotFound)
	}
	if container == "" && pod == "multi" {
		return errors.New(`a container name must be specified for pod multi, choose one of: [a b]`)
	}
	if _, err := io.WriteString(w, "line 1\nline 2\n"); err != nil {
		return err
	}
	if !follow {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case l, ok := <-f.logLines:
			if !ok {
				return nil
			}
			if _, err := io.WriteString(w, l+"\n"); err != nil {
				return err
			}
		}
	}
}

func deployment(ns, name string, labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "hello:v1"}}},
			},
		},
	}
}

func pod(ns, name, node string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app", Image: "hello:v1"}}},
	}
}

func mustCreate(t *testing.T, st store.Store, obj store.Object) store.Object {
	t.Helper()
	out, err := st.Create(context.Background(), obj)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func names(objs []store.Object) []string {
	var out []string
	for _, o := range objs {
		m := o.(metav1.Object)
		if m.GetNamespace() != "" {
			out = append(out, m.GetNamespace()+"/"+m.GetName())
		} else {
			out = append(out, m.GetName())
		}
	}
	return out
}

// next receives one event or fails after a while.
func next(t *testing.T, ch <-chan store.Event) store.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the watch closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event within 5s")
	}
	return store.Event{}
}
