package join

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/store"
)

// TestRunSurvivesOutage: with the server down, the agent's pods keep
// running; a pod force-deleted meanwhile (moved elsewhere) has its
// sandbox removed once the server is back, a pod still there reports its
// status again, and the heartbeat resumes.
func TestRunSurvivesOutage(t *testing.T) {
	ts := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := testConfig(ts, t, "n1")
	var rt *fake.Runtime
	start := cfg.StartRuntime
	cfg.StartRuntime = func(ctx context.Context, podCIDR string) (Runtime, error) {
		r, err := start(ctx, podCIDR)
		if err == nil {
			rt = r.(fakeRuntime).Runtime
		}
		return r, err
	}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	waitFor(t, "the node registered", func() bool { return getNode(ts, "n1") != nil })
	setPodCIDR(t, ts, "n1", "10.42.7.0/24")
	for _, name := range []string{"stays", "moves"} {
		if _, err := ts.st.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "img"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	running := func(name string) func() bool {
		return func() bool {
			obj, err := ts.st.Get(ctx, "Pod", "default", name)
			return err == nil && obj.(*corev1.Pod).Status.Phase == corev1.PodRunning
		}
	}
	waitFor(t, "both pods Running", func() bool { return running("stays")() && running("moves")() })

	ts.stop()
	time.Sleep(500 * time.Millisecond) // lists and heartbeats fail meanwhile
	if n := sandboxes(t, rt); n != 2 {
		t.Fatalf("%d sandboxes while the server is down, want 2: the agent must keep its pods", n)
	}
	zero := int64(0)
	if err := ts.st.Delete(ctx, "Pod", "default", "moves", store.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	beat := heartbeat(ts)
	time.Sleep(time.Second) // heartbeats are to the second
	ts.start()

	waitFor(t, "the moved pod's sandbox removed", func() bool { return sandboxes(t, rt) == 1 })
	waitFor(t, "a new heartbeat", func() bool { return heartbeat(ts).After(beat) })
	if !running("stays")() {
		t.Error("the pod that stayed is not Running")
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned during the outage: %v", err)
	default:
	}
}

func sandboxes(t *testing.T, rt *fake.Runtime) int {
	t.Helper()
	sbs, err := rt.ListPodSandboxes(context.Background(), nodes.SandboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(sbs)
}

func heartbeat(ts *testServer) time.Time {
	for _, c := range getNode(ts, "n1").Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.LastHeartbeatTime.Time
		}
	}
	return time.Time{}
}

// setPodCIDR does what the server's allocator does.
func setPodCIDR(t *testing.T, ts *testServer, name, cidr string) {
	t.Helper()
	for {
		n := getNode(ts, name)
		n.Spec.PodCIDR, n.Spec.PodCIDRs = cidr, []string{cidr}
		_, err := ts.st.Update(context.Background(), n)
		if err == nil {
			return
		}
		if !errors.Is(err, store.ErrConflict) {
			t.Fatal(err)
		}
	}
}

func TestServerOffset(t *testing.T) {
	ts := startServer(t)
	cfg, err := client.LoadConfig(ts.url, ts.tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ahead := func() time.Time { return time.Now().Add(5 * time.Minute) }
	off, err := serverOffset(context.Background(), c, ts.url, ahead)
	if err != nil {
		t.Fatal(err)
	}
	if off > -4*time.Minute || off < -6*time.Minute {
		t.Errorf("offset of a clock 5 min ahead = %s", off)
	}
	if msg := skewMessage(off); msg == "" {
		t.Error("no warning for a clock 5 min ahead")
	}
}
