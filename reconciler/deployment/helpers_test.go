package deployment

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
	"github.com/berth-io/berth/workloads"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture is a Deployment controller on a memory store, driven by hand:
// tests seed objects, call sync (which drains the cache first) and read
// the store and the recorded events.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	clock *testingclock.FakeClock
	store store.Store
	cache *controller.Cache
	rec   *controller.FakeRecorder
	dc    *Controller
	queue *recordingQueue
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, ctx: context.Background(), clock: clk, store: st, rec: controller.NewFakeRecorder(), queue: &recordingQueue{}}
	f.cache = controller.NewCache(st, "Deployment", "ReplicaSet", "Pod")
	t.Cleanup(f.cache.Stop)
	f.dc = New(st, f.cache.Lister("Deployment"), f.cache.Lister("ReplicaSet"), f.cache.Lister("Pod"), f.rec, clk)
	f.dc.AddHandlers(f.cache, f.queue)
	return f
}

func (f *fixture) drain() {
	f.t.Helper()
	if _, err := f.cache.Drain(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// sync drains the cache and syncs default/name.
func (f *fixture) sync(name string) error {
	f.drain()
	return f.dc.Sync(f.ctx, "default/"+name)
}

// mustSync is sync failing the test on an error other than a Requeue.
func (f *fixture) mustSync(name string) {
	f.t.Helper()
	if err := f.sync(name); err != nil {
		var rq controller.Requeue
		if !errors.As(err, &rq) {
			f.t.Fatalf("sync %s: %v", name, err)
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

func (f *fixture) deployment(name string) *appsv1.Deployment {
	f.t.Helper()
	obj, err := f.store.Get(f.ctx, "Deployment", "default", name)
	if err != nil {
		f.t.Fatal(err)
	}
	return obj.(*appsv1.Deployment)
}

func (f *fixture) rs(name string) *appsv1.ReplicaSet {
	f.t.Helper()
	obj, err := f.store.Get(f.ctx, "ReplicaSet", "default", name)
	if err != nil {
		f.t.Fatalf("get rs %s: %v", name, err)
	}
	return obj.(*appsv1.ReplicaSet)
}

// replicaSets returns the ReplicaSets in the store, by name.
func (f *fixture) replicaSets() map[string]*appsv1.ReplicaSet {
	f.t.Helper()
	objs, _, err := f.store.List(f.ctx, "ReplicaSet", store.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]*appsv1.ReplicaSet{}
	for _, o := range objs {
		rs := o.(*appsv1.ReplicaSet)
		out[rs.Name] = rs
	}
	return out
}

// sizes returns name → spec.replicas of every ReplicaSet.
func (f *fixture) sizes() map[string]int32 {
	out := map[string]int32{}
	for name, rs := range f.replicaSets() {
		out[name] = *rs.Spec.Replicas
	}
	return out
}

// dOpt modifies a Deployment built by newDeployment.
type dOpt func(*appsv1.Deployment)

// newDeployment returns a defaulted Deployment "name" of replicas pods
// labelled app=name running image.
func newDeployment(name string, replicas int32, image string, opts ...dOpt) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
	for _, o := range opts {
		o(d)
	}
	workloads.Default(d)
	return d
}

func surgeUnavailable(surge, unavailable intstr.IntOrString) dOpt {
	return func(d *appsv1.Deployment) {
		d.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
		d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}
	}
}

func recreate() dOpt {
	return func(d *appsv1.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType }
}

func historyLimit(n int32) dOpt {
	return func(d *appsv1.Deployment) { d.Spec.RevisionHistoryLimit = new(n) }
}

func paused() dOpt { return func(d *appsv1.Deployment) { d.Spec.Paused = true } }

// withImage returns d's template running image, without pod-template-hash.
func withImage(d *appsv1.Deployment, image string) corev1.PodTemplateSpec {
	t := *d.Spec.Template.DeepCopy()
	t.Spec.Containers[0].Image = image
	return t
}

// rsState describes a ReplicaSet seeded for d by addRS.
type rsState struct {
	image                 string
	replicas              int32
	available             int32 // also ready and status.replicas unless statusReplicas is set
	statusReplicas        *int32
	revision              string
	desired               *int32 // desired-replicas annotation; d's replicas by default
	owned                 bool   // controller ref to d
	extraAnnotations      map[string]string
	observedGenerationLag bool
}

// addRS creates the ReplicaSet a Deployment controller would have made for
// d's template with st.image, and advances the clock a second so that
// ReplicaSets created later are newer.
func (f *fixture) addRS(d *appsv1.Deployment, st rsState) *appsv1.ReplicaSet {
	f.t.Helper()
	tmpl := withImage(d, st.image)
	hash := rollouts.ComputeHash(&tmpl, nil)
	tmpl.Labels = cloneWith(tmpl.Labels, rollouts.PodTemplateHashLabel, hash)
	sel := d.Spec.Selector.DeepCopy()
	sel.MatchLabels = cloneWith(sel.MatchLabels, rollouts.PodTemplateHashLabel, hash)
	desired := *d.Spec.Replicas
	if st.desired != nil {
		desired = *st.desired
	}
	ann := map[string]string{
		rollouts.DesiredReplicasAnnotation: strconv.Itoa(int(desired)),
		rollouts.MaxReplicasAnnotation:     strconv.Itoa(int(desired + rollouts.MaxSurge(d))),
	}
	if st.revision != "" {
		ann[rollouts.RevisionAnnotation] = st.revision
	}
	for k, v := range st.extraAnnotations {
		ann[k] = v
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: rollouts.ReplicaSetName(d.Name, hash), Namespace: d.Namespace,
			Labels: tmpl.Labels, Annotations: ann,
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: new(st.replicas), Selector: sel, Template: tmpl},
	}
	if st.owned {
		rs.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(d, deploymentKind)}
	}
	statusReplicas := st.available
	if st.statusReplicas != nil {
		statusReplicas = *st.statusReplicas
	}
	rs.Status = appsv1.ReplicaSetStatus{
		Replicas: statusReplicas, FullyLabeledReplicas: statusReplicas,
		ReadyReplicas: st.available, AvailableReplicas: st.available,
		ObservedGeneration: 1, TerminatingReplicas: new(int32(0)),
	}
	if st.observedGenerationLag {
		rs.Status.ObservedGeneration = 0
	}
	out := f.create(rs).(*appsv1.ReplicaSet)
	f.clock.Step(time.Second)
	return out
}

func cloneWith(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// rsName is the name of d's ReplicaSet for image.
func rsName(d *appsv1.Deployment, image string) string {
	tmpl := withImage(d, image)
	return rollouts.ReplicaSetName(d.Name, rollouts.ComputeHash(&tmpl, nil))
}

// setTemplate changes d's image in the store and returns the stored copy.
func (f *fixture) setImage(name, image string) *appsv1.Deployment {
	f.t.Helper()
	d := f.deployment(name)
	d.Spec.Template.Spec.Containers[0].Image = image
	return f.update(d).(*appsv1.Deployment)
}

func (f *fixture) events() []string { return f.rec.Events() }

func (f *fixture) wantEvents(want ...string) {
	f.t.Helper()
	if got := f.rec.Events(); !slices.Equal(got, want) {
		f.t.Errorf("events\n got %q\nwant %q", got, want)
	}
	f.rec.Reset()
}

func condition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	return rollouts.GetDeploymentCondition(d.Status, t)
}

// recordingQueue records what the handlers enqueue.
type recordingQueue struct{ added []string }

func (q *recordingQueue) Add(key string) { q.added = append(q.added, key) }
func (q *recordingQueue) reset()         { q.added = nil }

func storeDeleteOpts() store.DeleteOptions { return store.DeleteOptions{} }

// failingCreate fails every ReplicaSet create with err.
type failingCreate struct {
	store.Store
	err error
}

func (s *failingCreate) Create(ctx context.Context, obj store.Object) (store.Object, error) {
	if _, ok := obj.(*appsv1.ReplicaSet); ok {
		return nil, s.err
	}
	return s.Store.Create(ctx, obj)
}
