package agent_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// env is one fake node (node-0000) on a memory store, stepped by hand on
// a fake clock.
type env struct {
	t      *testing.T
	ctx    context.Context
	clock  *clocktesting.FakeClock
	store  store.Store
	mgr    *controller.Manager
	agent  *agent.Agent
	rt     *fake.Runtime
	rec    *recRuntime // newAgentEnv only
	events *controller.FakeRecorder
}

func newEnv(t *testing.T, behavior fake.BehaviorFunc, heartbeat time.Duration) *env {
	t.Helper()
	clk := clocktesting.NewFakeClock(epoch)
	st := store.NewMemory(clk)
	t.Cleanup(func() { st.Close() })
	rec := controller.NewFakeRecorder()
	a, rt, err := fake.NewNode(0, st, fake.NodeOptions{
		Clock: clk, Behavior: behavior, HeartbeatPeriod: heartbeat, Recorder: rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), clock: clk, store: st, agent: a, rt: rt, events: rec}
	e.mgr = newManager(st, clk)
	a.Register(e.mgr)
	return e
}

func newManager(st store.Store, clk *clocktesting.FakeClock) *controller.Manager {
	m := controller.NewManager(controller.NewCache(st, "Pod", "Node"), clk)
	m.SetLogger(slog.New(slog.DiscardHandler))
	return m
}

// advanceTo runs everything due up to t, moving the clock from one due
// time to the next, and leaves the clock at t.
func (e *env) advanceTo(t time.Time) {
	e.t.Helper()
	for {
		e.mgr.Step(e.ctx)
		next, ok := e.mgr.NextDue()
		if !ok || next.After(t) || !next.After(e.clock.Now()) {
			break
		}
		e.clock.SetTime(next)
	}
	if t.After(e.clock.Now()) {
		e.clock.SetTime(t)
	}
	e.mgr.Step(e.ctx)
}

func (e *env) create(obj store.Object) {
	e.t.Helper()
	if _, err := e.store.Create(e.ctx, obj); err != nil {
		e.t.Fatal(err)
	}
}

// pod returns the pod, or nil if it is gone.
func (e *env) pod(name string) *corev1.Pod {
	e.t.Helper()
	obj, err := e.store.Get(e.ctx, "Pod", "default", name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return obj.(*corev1.Pod)
}

func (e *env) node() *corev1.Node {
	e.t.Helper()
	obj, err := e.store.Get(e.ctx, "Node", "", fake.NodeName(0))
	if err != nil {
		e.t.Fatal(err)
	}
	return obj.(*corev1.Node)
}

// deletePod deletes gracefully, as the API server does: deletionTimestamp
// and deletionGracePeriodSeconds set by an update.
func (e *env) deletePod(name string, grace *int64) {
	e.t.Helper()
	p := e.pod(name)
	now := metav1.NewTime(e.clock.Now())
	p.DeletionTimestamp = &now
	p.DeletionGracePeriodSeconds = grace
	if _, err := e.store.Update(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
}

type podOpt func(*corev1.Pod)

// boundPod is a pod on node-0000 with one container "app".
func boundPod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.PodSpec{
			NodeName:      fake.NodeName(0),
			RestartPolicy: corev1.RestartPolicyAlways,
			Containers:    []corev1.Container{{Name: "app", Image: "app:1"}},
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func restartPolicy(rp corev1.RestartPolicy) podOpt {
	return func(p *corev1.Pod) { p.Spec.RestartPolicy = rp }
}

func withInit(names ...string) podOpt {
	return func(p *corev1.Pod) {
		for _, n := range names {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: n, Image: "init:1"})
		}
	}
}

func gracePeriod(s int64) podOpt {
	return func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = &s }
}

func condition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func always(b fake.Behavior) fake.BehaviorFunc {
	return func(*corev1.Pod) fake.Behavior { return b }
}
