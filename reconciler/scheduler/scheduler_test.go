package scheduler

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// env is a scheduler on a memory store, stepped on a fake clock.
type env struct {
	t      *testing.T
	ctx    context.Context
	clock  *clocktesting.FakeClock
	store  store.Store
	mgr    *controller.Manager
	events *controller.FakeRecorder
}

func newEnv(t *testing.T, wrap func(store.Store) store.Store) *env {
	t.Helper()
	clk := clocktesting.NewFakeClock(epoch)
	st := store.NewMemory(clk)
	t.Cleanup(func() { st.Close() })
	if wrap != nil {
		st = wrap(st)
	}
	cache := controller.NewCache(st, "Pod", "Node")
	mgr := controller.NewManager(cache, clk)
	mgr.SetLogger(slog.New(slog.DiscardHandler))
	rec := controller.NewFakeRecorder()
	New(st, Options{Recorder: rec}).Register(mgr)
	return &env{t: t, ctx: context.Background(), clock: clk, store: st, mgr: mgr, events: rec}
}

func (e *env) create(objs ...store.Object) {
	e.t.Helper()
	for _, o := range objs {
		if _, err := e.store.Create(e.ctx, o); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) run() {
	e.t.Helper()
	if err := e.mgr.RunUntilIdle(e.ctx, e.clock, time.Hour); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) pod(name string) *corev1.Pod {
	e.t.Helper()
	obj, err := e.store.Get(e.ctx, "Pod", "default", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return obj.(*corev1.Pod)
}

func scheduledCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func TestSchedulerBinds(t *testing.T) {
	e := newEnv(t, nil)
	e.create(testNode("a", "2", "4Gi"), testNode("b", "2", "4Gi"))
	e.create(testPod("p1", "1", "1Gi"), testPod("p2", "1", "1Gi"), testPod("p3", "1", "1Gi"))
	e.run()
	count := map[string]int{}
	for _, name := range []string{"p1", "p2", "p3"} {
		p := e.pod(name)
		count[p.Spec.NodeName]++
		c := scheduledCondition(p)
		if c == nil || c.Status != corev1.ConditionTrue || !c.LastTransitionTime.Time.Equal(epoch) {
			t.Errorf("%s: PodScheduled = %+v, want True at %v", name, c, epoch)
		}
	}
	if count["a"]+count["b"] != 3 || count["a"] == 3 || count["b"] == 3 {
		t.Errorf("placement %v: want 3 pods spread over a and b", count)
	}
	ev := e.events.Events()
	if len(ev) != 3 || !strings.HasPrefix(ev[0], "Normal Scheduled Successfully assigned default/p1 to ") {
		t.Errorf("events = %q", ev)
	}
}

func TestSchedulerLeavesPodsAlone(t *testing.T) {
	tests := []*corev1.Pod{
		testPod("named", "", "", boundTo("b")),
		testPod("other-scheduler", "", "", func(p *corev1.Pod) { p.Spec.SchedulerName = "custom" }),
		testPod("finished", "", "", inPhase(corev1.PodSucceeded)),
		testPod("deleting", "", ""),
	}
	e := newEnv(t, nil)
	e.create(testNode("a", "2", "4Gi"))
	for _, p := range tests {
		e.create(p)
	}
	// Graceful deletion: deletionTimestamp set by an Update.
	p := e.pod("deleting")
	now := metav1.NewTime(epoch)
	p.DeletionTimestamp = &now
	if _, err := e.store.Update(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	e.run()
	for _, want := range tests {
		got := e.pod(want.Name)
		if got.Spec.NodeName != want.Spec.NodeName || scheduledCondition(got) != nil {
			t.Errorf("%s: nodeName %q, condition %+v; want untouched", want.Name, got.Spec.NodeName, scheduledCondition(got))
		}
	}
	if ev := e.events.Events(); len(ev) != 0 {
		t.Errorf("events = %q, want none", ev)
	}
}

func TestSchedulerUnschedulableThenNodeAdded(t *testing.T) {
	e := newEnv(t, nil)
	e.create(testNode("small", "1", "1Gi"), testNode("labelled", "1", "1Gi", withLabel("disk", "ssd")))
	e.create(testPod("big", "2", "", withSelector("disk", "ssd")))
	e.run()

	want := "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector."
	p := e.pod("big")
	c := scheduledCondition(p)
	if p.Spec.NodeName != "" || c == nil || c.Status != corev1.ConditionFalse ||
		c.Reason != corev1.PodReasonUnschedulable || c.Message != want {
		t.Fatalf("nodeName %q, PodScheduled %+v; want unscheduled with %q", p.Spec.NodeName, c, want)
	}
	if ev := e.events.Events(); !slices.Contains(ev, "Warning FailedScheduling "+want) {
		t.Fatalf("events = %q, want FailedScheduling", ev)
	}
	rv := p.ResourceVersion

	// Idle: nothing retries it without a change, and re-tries wrote nothing.
	e.run()
	if got := e.pod("big").ResourceVersion; got != rv {
		t.Fatalf("pod rewritten while idle: rv %s → %s", rv, got)
	}

	e.clock.Step(time.Minute)
	e.create(testNode("large", "4", "8Gi", withLabel("disk", "ssd")))
	e.run()
	p = e.pod("big")
	if c := scheduledCondition(p); p.Spec.NodeName != "large" || c.Status != corev1.ConditionTrue ||
		!c.LastTransitionTime.Time.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("nodeName %q, PodScheduled %+v; want bound to large at +1m", p.Spec.NodeName, c)
	}
}

func TestSchedulerRetriesWhenRoomFrees(t *testing.T) {
	e := newEnv(t, nil)
	e.create(testNode("a", "1", "1Gi"))
	e.create(testPod("first", "1", ""))
	e.run()
	e.create(testPod("second", "1", ""))
	e.run()
	if n := e.pod("second").Spec.NodeName; n != "" {
		t.Fatalf("second bound to %q while the node is full", n)
	}

	start := e.clock.Now()
	// A terminating pod still holds its room, as upstream: only its
	// removal (the node's delete with grace 0) frees it.
	var force int64
	if err := e.store.Delete(e.ctx, "Pod", "default", "first", store.DeleteOptions{GracePeriodSeconds: &force}); err != nil {
		t.Fatal(err)
	}
	e.run()
	if n := e.pod("second").Spec.NodeName; n != "a" {
		t.Fatalf("second bound to %q, want a", n)
	}
	// It waited out its backoff (1s after one failure), no more.
	if waited := e.clock.Now().Sub(start); waited > DefaultInitialBackoff {
		t.Errorf("waited %v, want at most %v", waited, DefaultInitialBackoff)
	}
}

func TestSchedulerBackoffGrows(t *testing.T) {
	s := New(nil, Options{})
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 9: 10 * time.Second} {
		if got := s.backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

// conflictOnce fails the first pod Update that sets a nodeName with
// ErrConflict, after bumping the pod, as a concurrent writer would.
type conflictOnce struct {
	store.Store
	done bool
}

func (c *conflictOnce) Update(ctx context.Context, obj store.Object) (store.Object, error) {
	if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" && !c.done {
		c.done = true
		cur, err := c.Store.Get(ctx, "Pod", p.Namespace, p.Name)
		if err != nil {
			return nil, err
		}
		cp := cur.(*corev1.Pod)
		cp.Labels = map[string]string{"touched": "yes"}
		if _, err := c.Store.Update(ctx, cp); err != nil {
			return nil, err
		}
		return nil, store.ErrConflict
	}
	return c.Store.Update(ctx, obj)
}

func TestSchedulerConflictResyncs(t *testing.T) {
	e := newEnv(t, func(s store.Store) store.Store { return &conflictOnce{Store: s} })
	e.create(testNode("a", "1", "1Gi"))
	e.create(testPod("p", "600m", ""), testPod("q", "400m", ""))
	e.run()
	for _, name := range []string{"p", "q"} {
		if got := e.pod(name); got.Spec.NodeName != "a" {
			t.Errorf("%s bound to %q, want a (the failed binding must not hold the node's room)", name, got.Spec.NodeName)
		}
	}
	if got := e.pod("p"); got.Labels["touched"] != "yes" {
		t.Errorf("the concurrent write was lost: labels %v", got.Labels)
	}
}

func TestSchedulerNodeHeartbeatDoesNotWake(t *testing.T) {
	old := testNode("a", "1", "1Gi")
	cur := old.DeepCopy()
	cur.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(epoch)
	if nodeChangedForScheduling(old, cur) {
		t.Error("a heartbeat counts as a scheduling change")
	}
	for name, change := range map[string]func(*corev1.Node){
		"cordon":      func(n *corev1.Node) { n.Spec.Unschedulable = true },
		"label":       func(n *corev1.Node) { n.Labels["x"] = "y" },
		"allocatable": func(n *corev1.Node) { n.Status.Allocatable = nil },
		"ready":       func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse },
		"taint":       func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}} },
	} {
		n := old.DeepCopy()
		change(n)
		if !nodeChangedForScheduling(old, n) {
			t.Errorf("%s does not count as a scheduling change", name)
		}
	}
}

// TestSchedulerAffinityWaitsForPod: a pod whose required pod affinity
// matches nothing stays Pending with upstream's message, and is bound once
// a matching pod runs in its zone.
func TestSchedulerAffinityWaitsForPod(t *testing.T) {
	e := newEnv(t, nil)
	e.create(testNode("a1", "4", "8Gi", inZone("a")), testNode("b1", "4", "8Gi", inZone("b")))
	e.create(testPod("web", "", "", requiredAffinity(term(corev1.LabelTopologyZone, sel("app", "db")))))
	e.run()
	want := "0/2 nodes are available: 2 node(s) didn't match pod affinity rules."
	if c := scheduledCondition(e.pod("web")); c == nil || c.Status != corev1.ConditionFalse || c.Message != want {
		t.Fatalf("PodScheduled %+v, want False with %q", c, want)
	}

	e.clock.Step(time.Minute)
	e.create(testPod("db", "", "", withPodLabels("app", "db"), withSelector(corev1.LabelTopologyZone, "b")))
	e.run()
	if got := e.pod("web").Spec.NodeName; got != "b1" {
		t.Fatalf("web on %q, want b1 (db's zone)", got)
	}
}
