package replicaset

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/workloads"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture is a ReplicaSet controller on a memory store, driven by hand:
// tests create objects, drain the cache, call Sync and read the store.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	clock *testingclock.FakeClock
	store store.Store
	cache *controller.Cache
	rec   *controller.FakeRecorder
	rsc   *Controller
	queue *recordingQueue
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	t.Cleanup(func() { st.Close() })
	f := &fixture{
		t:     t,
		ctx:   context.Background(),
		clock: clk,
		store: st,
		rec:   controller.NewFakeRecorder(),
		queue: &recordingQueue{},
	}
	f.cache = controller.NewCache(st, "ReplicaSet", "Pod", "Node")
	t.Cleanup(f.cache.Stop)
	f.rsc = New(st, f.cache.Lister("ReplicaSet"), f.cache.Lister("Pod"), f.rec, clk)
	f.rsc.AddHandlers(f.cache, f.queue)
	return f
}

// drain applies the store's pending changes to the cache (calling the
// handlers).
func (f *fixture) drain() {
	f.t.Helper()
	if _, err := f.cache.Drain(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// sync drains the cache and syncs key.
func (f *fixture) sync(key string) error {
	f.drain()
	return f.rsc.Sync(f.ctx, key)
}

func (f *fixture) mustSync(key string) {
	f.t.Helper()
	if err := f.sync(key); err != nil {
		var rq controller.Requeue
		if !errors.As(err, &rq) {
			f.t.Fatalf("sync %s: %v", key, err)
		}
	}
}

func (f *fixture) create(obj store.Object) store.Object {
	f.t.Helper()
	out, err := f.store.Create(f.ctx, obj)
	if err != nil {
		f.t.Fatalf("create: %v", err)
	}
	return out
}

func (f *fixture) update(obj store.Object) store.Object {
	f.t.Helper()
	out, err := f.store.Update(f.ctx, obj)
	if err != nil {
		f.t.Fatalf("update: %v", err)
	}
	return out
}

func (f *fixture) getRS(name string) *appsv1.ReplicaSet {
	f.t.Helper()
	obj, err := f.store.Get(f.ctx, "ReplicaSet", "default", name)
	if err != nil {
		f.t.Fatalf("get rs %s: %v", name, err)
	}
	return obj.(*appsv1.ReplicaSet)
}

func (f *fixture) pods() []*corev1.Pod {
	f.t.Helper()
	objs, _, err := f.store.List(f.ctx, "Pod", store.ListOptions{Namespace: "default"})
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]*corev1.Pod, len(objs))
	for i, o := range objs {
		out[i] = o.(*corev1.Pod)
	}
	return out
}

// newRS returns a ReplicaSet of replicas pods labelled foo=bar, defaulted
// like one the Deployment controller creates.
func newRS(name string, replicas int32) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"foo": "bar"}},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: new(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"foo": "bar"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"foo": "bar", "type": "production"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: "registry.example/app:1",
				}}},
			},
		},
	}
	workloads.Default(rs)
	return rs
}

// podOpt modifies a pod built by newPod.
type podOpt func(*corev1.Pod)

// newPod returns a pod with the given labels, owned by rs when rs is not nil.
func newPod(name string, rs *appsv1.ReplicaSet, lbls map[string]string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: lbls},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}
	if rs != nil {
		p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(rs, rsKind)}
	}
	for _, o := range opts {
		o(p)
	}
	workloads.Default(p)
	return p
}

func onNode(n string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = n } }

func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }

// readySince marks the pod Running and Ready since t.
func readySince(t time.Time) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{
			Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t),
		}}
	}
}

func notReady() podOpt {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	}
}

func node(name string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// recordingQueue records what the handlers enqueue.
type recordingQueue struct {
	added []string
	after map[string]time.Duration
}

func (q *recordingQueue) Add(key string) { q.added = append(q.added, key) }

func (q *recordingQueue) AddAfter(key string, d time.Duration) {
	if q.after == nil {
		q.after = map[string]time.Duration{}
	}
	q.after[key] = d
}

func (q *recordingQueue) reset() { q.added, q.after = nil, nil }

// failingStore fails chosen writes.
type failingStore struct {
	store.Store
	createErr error
	deleteErr error
}

func (s *failingStore) Create(ctx context.Context, obj store.Object) (store.Object, error) {
	if _, ok := obj.(*corev1.Pod); ok && s.createErr != nil {
		return nil, s.createErr
	}
	return s.Store.Create(ctx, obj)
}

func (s *failingStore) Delete(ctx context.Context, kind, ns, name string, opts store.DeleteOptions) error {
	if kind == "Pod" && s.deleteErr != nil {
		return s.deleteErr
	}
	return s.Store.Delete(ctx, kind, ns, name, opts)
}

func uidsOf(pods []*corev1.Pod) []types.UID {
	out := make([]types.UID, len(pods))
	for i, p := range pods {
		out[i] = p.UID
	}
	return out
}
