package fake_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/scheduler"
	"github.com/berth-io/berth/reconciler/store"
)

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func pendingPod(i int, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("web-%02d", i)},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyAlways,
			Containers: []corev1.Container{{Name: "app", Image: "app:1", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)},
			}}},
		},
	}
}

// cluster is a scheduler and n fake nodes on one manager.
func cluster(t testing.TB, clk clock.WithTicker, n int, behavior fake.BehaviorFunc) (store.Store, *controller.Manager) {
	t.Helper()
	st := store.NewMemory(clk)
	t.Cleanup(func() { st.Close() })
	mgr := controller.NewManager(controller.NewCache(st, "Pod", "Node"), clk)
	mgr.SetLogger(slog.New(slog.DiscardHandler))
	pool, _, err := fake.NewNodes(n, st, fake.NodeOptions{Clock: clk, Behavior: behavior, HeartbeatPeriod: -1})
	if err != nil {
		t.Fatal(err)
	}
	pool.Register(mgr)
	scheduler.New(st, scheduler.Options{}).Register(mgr)
	return st, mgr
}

func pods(t testing.TB, st store.Store) []*corev1.Pod {
	t.Helper()
	objs, _, err := st.List(context.Background(), "Pod", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*corev1.Pod, len(objs))
	for i, o := range objs {
		out[i] = o.(*corev1.Pod)
	}
	return out
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// TestScheduledPodsRunOnFakeNodes: pending pods are bound, run and become
// ready after their delay, spread over the nodes; a pod too big for any
// node stays pending with the scheduler's message.
func TestScheduledPodsRunOnFakeNodes(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(epoch)
	st, mgr := cluster(t, clk, 3, func(*corev1.Pod) fake.Behavior { return fake.Behavior{ReadyAfter: 3 * time.Second} })
	for i := range 9 {
		if _, err := st.Create(ctx, pendingPod(i, "1")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Create(ctx, pendingPod(99, "5")); err != nil {
		t.Fatal(err)
	}
	if err := mgr.RunUntilIdle(ctx, clk, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := clk.Now().Sub(epoch); got != 3*time.Second {
		t.Errorf("idle after %v, want 3s (the readiness delay)", got)
	}
	perNode := map[string]int{}
	for _, p := range pods(t, st) {
		if p.Name == "web-99" {
			c := p.Status.Conditions
			want := "0/3 nodes are available: 3 Insufficient cpu."
			if p.Spec.NodeName != "" || len(c) != 1 || c[0].Message != want {
				t.Errorf("web-99: node %q, conditions %+v; want pending with %q", p.Spec.NodeName, c, want)
			}
			continue
		}
		if p.Status.Phase != corev1.PodRunning || !isReady(p) {
			t.Errorf("%s: phase %s, ready %v", p.Name, p.Status.Phase, isReady(p))
		}
		perNode[p.Spec.NodeName]++
	}
	for i := range 3 {
		if perNode[fake.NodeName(i)] != 3 {
			t.Errorf("placement %v, want 3 pods on each node", perNode)
		}
	}
}

// TestClusterRunsWithWorkers runs the same on worker goroutines and the
// real clock (for the race detector).
func TestClusterRunsWithWorkers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, mgr := cluster(t, clock.RealClock{}, 3, nil)
	done := make(chan error, 1)
	go func() { done <- mgr.Run(ctx, 4) }()
	for i := range 20 {
		if _, err := st.Create(ctx, pendingPod(i, "100m")); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ready := 0
		for _, p := range pods(t, st) {
			if isReady(p) {
				ready++
			}
		}
		if ready == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 20 pods ready after 20s", ready)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Delete them all: the agents stop them and remove them.
	for _, p := range pods(t, st) {
		now := metav1.Now()
		p.DeletionTimestamp = &now
		if _, err := st.Update(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for len(pods(t, st)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pods left after deletion", len(pods(t, st)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestNodesRestartOnTheirRuntimes: a new control plane and new agents
// over the old runtimes adopt the running pods; nothing restarts.
func TestNodesRestartOnTheirRuntimes(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(epoch)
	st := store.NewMemory(clk)
	defer st.Close()
	opts := fake.NodeOptions{Clock: clk, HeartbeatPeriod: -1}
	start := func(pool interface{ Register(*controller.Manager) }) *controller.Manager {
		mgr := controller.NewManager(controller.NewCache(st, "Pod", "Node"), clk)
		mgr.SetLogger(slog.New(slog.DiscardHandler))
		pool.Register(mgr)
		scheduler.New(st, scheduler.Options{}).Register(mgr)
		return mgr
	}
	pool, rts, err := fake.NewNodes(2, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	mgr := start(pool)
	for i := range 4 {
		if _, err := st.Create(ctx, pendingPod(i, "100m")); err != nil {
			t.Fatal(err)
		}
	}
	if err := mgr.RunUntilIdle(ctx, clk, time.Hour); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, p := range pods(t, st) {
		ids[p.Name] = p.Status.ContainerStatuses[0].ContainerID
	}

	pool2, _, err := fake.NewNodesOn(rts, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	mgr = start(pool2)
	clk.Step(time.Minute)
	if err := mgr.RunUntilIdle(ctx, clk, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods(t, st) {
		cs := p.Status.ContainerStatuses[0]
		if cs.ContainerID != ids[p.Name] || cs.RestartCount != 0 || !isReady(p) {
			t.Errorf("%s: %s restarts=%d ready=%v; want %s adopted", p.Name, cs.ContainerID, cs.RestartCount, isReady(p), ids[p.Name])
		}
	}
	for i, rt := range rts {
		if s := rt.Stats(); s.Containers != 2 || s.Sandboxes != 2 {
			t.Errorf("node %d runtime %+v, want its 2 pods only", i, s)
		}
	}
}
