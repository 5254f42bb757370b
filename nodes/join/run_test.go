package join

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/store"
)

// testServer is an API server over a memory store on loopback TLS, and
// the node-token file an agent joins with.
type testServer struct {
	t         *testing.T
	st        store.Store
	srv       *api.Server
	url       string
	tokenFile string
	addr      string
	cancel    context.CancelFunc
	done      chan error
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	t.Setenv("BERTH_CONFIG", "")
	t.Setenv("HOME", t.TempDir())
	dir := t.TempDir()
	tlsCfg, caPEM, err := api.EnsurePKI(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	admin, nodeTok, err := api.EnsureTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "node-token")
	if err := api.WriteNodeToken(tokenFile, caPEM, nodeTok); err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(clock.RealClock{})
	t.Cleanup(func() { st.Close() })
	srv, err := api.NewServer(api.Options{Store: st, AdminToken: admin, NodeToken: nodeTok, TLS: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, st: st, srv: srv, tokenFile: tokenFile, addr: "127.0.0.1:0"}
	ts.start()
	ts.url = "https://" + ts.addr
	t.Cleanup(ts.stop)
	return ts
}

// start serves (again, on the same address after stop).
func (ts *testServer) start() {
	ts.t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", ts.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel, ts.done = cancel, make(chan error, 1)
	go func() { ts.done <- ts.srv.Serve(ctx, ln) }()
}

// stop stops serving, as a server going down.
func (ts *testServer) stop() {
	if ts.cancel != nil {
		ts.cancel()
		<-ts.done
		ts.cancel = nil
	}
}

// fakeRuntime is nodes/fake's runtime with the Close a Runtime has.
type fakeRuntime struct{ *fake.Runtime }

func (fakeRuntime) Close() error { return nil }

func testConfig(ts *testServer, t *testing.T, name string) Config {
	return Config{
		Server: ts.url, TokenFile: ts.tokenFile, DataDir: t.TempDir(), NodeName: name,
		Labels: map[string]string{"tier": "edge"},
		Taints: []corev1.Taint{{Key: "dedicated", Value: "edge", Effect: corev1.TaintEffectNoSchedule}},
		Log:    slog.New(slog.DiscardHandler),
		StartRuntime: func(_ context.Context, podCIDR string) (Runtime, error) {
			rt, err := fake.New(fake.Options{Clock: clock.RealClock{}, PodCIDR: podCIDR})
			return fakeRuntime{rt}, err
		},
		Capacity:     corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
		InternalIP:   "192.0.2.7",
		PollInterval: 20 * time.Millisecond,
		RetryMax:     200 * time.Millisecond,
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func getNode(ts *testServer, name string) *corev1.Node {
	obj, err := ts.st.Get(context.Background(), "Node", "", name)
	if err != nil {
		return nil
	}
	return obj.(*corev1.Node)
}

// TestRunJoins: an agent joins, waits for its pod subnet, heartbeats, runs
// a pod bound to it and reports its status; a second agent with the same
// name is refused; a wrong token fails at once.
func TestRunJoins(t *testing.T) {
	ts := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	cfg := testConfig(ts, t, "n1")
	go func() { done <- Run(ctx, cfg) }()

	waitFor(t, "the node registered", func() bool { return getNode(ts, "n1") != nil })
	n := getNode(ts, "n1")
	if n.Labels["tier"] != "edge" || len(n.Spec.Taints) != 1 || n.Annotations[AnnotationAgentID] == "" {
		t.Errorf("registered node: labels %v taints %v annotations %v", n.Labels, n.Spec.Taints, n.Annotations)
	}
	time.Sleep(100 * time.Millisecond)
	if n := getNode(ts, "n1"); n.Spec.PodCIDR != "" || len(n.Status.Conditions) != 0 {
		t.Fatalf("the agent ran before it had a pod subnet: %+v", n.Spec)
	}
	// What the server's allocator does.
	for {
		n := getNode(ts, "n1")
		n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.42.5.0/24", []string{"10.42.5.0/24"}
		if _, err := ts.st.Update(ctx, n); !errors.Is(err, store.ErrConflict) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	waitFor(t, "the node Ready", func() bool {
		for _, c := range getNode(ts, "n1").Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true
			}
		}
		return false
	})
	n = getNode(ts, "n1")
	if n.Status.Addresses[0].Address != "192.0.2.7" || n.Status.Capacity.Cpu().String() != "2" {
		t.Errorf("node status: addresses %v capacity %v", n.Status.Addresses, n.Status.Capacity)
	}

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p"},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "img"}}}}
	if _, err := ts.st.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod Running", func() bool {
		obj, err := ts.st.Get(ctx, "Pod", "default", "p")
		if err != nil {
			return false
		}
		p := obj.(*corev1.Pod)
		return p.Status.Phase == corev1.PodRunning && strings.HasPrefix(p.Status.PodIP, "10.42.5.") && p.Status.HostIP == "192.0.2.7"
	})

	// A graceful delete: the agent stops the pod and removes it (the
	// node token may delete pods).
	if err := ts.st.Delete(ctx, "Pod", "default", "p", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted pod removed by its agent", func() bool {
		_, err := ts.st.Get(ctx, "Pod", "default", "p")
		return errors.Is(err, store.ErrNotFound)
	})

	t.Run("same name, another agent", func(t *testing.T) {
		err := Run(ctx, testConfig(ts, t, "n1"))
		if err == nil || !strings.Contains(err.Error(), "node n1 is already registered by another agent (its heartbeat moved") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		cfg := testConfig(ts, t, "intruder")
		cfg.TokenFile = filepath.Join(t.TempDir(), "token")
		data, _ := os.ReadFile(ts.tokenFile)
		tok, err := api.ParseNodeToken(string(data))
		if err != nil {
			t.Fatal(err)
		}
		tok.Token = "wrong"
		writeFile(t, cfg.TokenFile, tok.String())
		if err := Run(ctx, cfg); err == nil || !strings.Contains(err.Error(), "unauthorized") {
			t.Fatalf("err = %v, want unauthorized", err)
		}
		if getNode(ts, "intruder") != nil {
			t.Error("the refused agent registered a Node")
		}
	})
	t.Run("malformed token", func(t *testing.T) {
		cfg := testConfig(ts, t, "intruder")
		cfg.TokenFile = filepath.Join(t.TempDir(), "token")
		writeFile(t, cfg.TokenFile, "K10abc::wrong\n")
		if err := Run(ctx, cfg); err == nil || !strings.Contains(err.Error(), "CA hash is not a hex SHA-256") {
			t.Errorf("err = %v", err)
		}
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
