package deployment_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/deployment"
	"github.com/berth-io/berth/reconciler/replicaset"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
	"github.com/berth-io/berth/workloads"
)

// plane is the Deployment and ReplicaSet controllers on one Manager, with
// a stand-in kubelet that binds each pod a second after its creation,
// makes it Ready at once, and removes a terminating pod at its
// deletionTimestamp.
type plane struct {
	t     *testing.T
	ctx   context.Context
	clock *testingclock.FakeClock
	store store.Store
	rec   *controller.FakeRecorder
	m     *controller.Manager
	cache *controller.Cache
	check func() // called after every sync
	ctrls []controller.Controller
	qs    []*controller.Queue
	turn  int
	lag   int // microStep drains the cache only every lag-th step (0, 1: always)
	steps int
}

func newPlane(t *testing.T, clk *testingclock.FakeClock, st store.Store, rec *controller.FakeRecorder, check func()) *plane {
	p := &plane{t: t, ctx: context.Background(), clock: clk, store: st, rec: rec, check: check}
	p.cache = controller.NewCache(st, "Deployment", "ReplicaSet", "Pod")
	p.cache.SetClock(clk)
	p.m = controller.NewManager(p.cache, clk)
	dc := deployment.New(st, p.cache.Lister("Deployment"), p.cache.Lister("ReplicaSet"), p.cache.Lister("Pod"), rec, clk)
	rsc := replicaset.New(st, p.cache.Lister("ReplicaSet"), p.cache.Lister("Pod"), rec, clk)
	dq := p.m.Register(checked{dc, p})
	dc.AddHandlers(p.cache, dq)
	rsq := p.m.Register(checked{rsc, p})
	rsc.AddHandlers(p.cache, rsq)
	p.ctrls = []controller.Controller{checked{dc, p}, checked{rsc, p}}
	p.qs = []*controller.Queue{dq, rsq}
	p.m.AddTimer(p.kubeletNext, p.kubeletFire)
	t.Cleanup(p.cache.Stop)
	return p
}

// checked runs the invariant check after every sync.
type checked struct {
	controller.Controller
	p *plane
}

func (c checked) Sync(ctx context.Context, key string) error {
	err := c.Controller.Sync(ctx, key)
	if c.p.check != nil {
		c.p.check()
	}
	return err
}

func (p *plane) pods() []*corev1.Pod {
	objs, _, err := p.store.List(p.ctx, "Pod", store.ListOptions{})
	if err != nil {
		p.t.Fatal(err)
	}
	out := make([]*corev1.Pod, len(objs))
	for i, o := range objs {
		out[i] = o.(*corev1.Pod)
	}
	return out
}

func (p *plane) kubeletDue(pod *corev1.Pod) time.Time {
	if pod.DeletionTimestamp != nil {
		return pod.DeletionTimestamp.Time
	}
	if pod.Spec.NodeName == "" {
		return pod.CreationTimestamp.Add(time.Second)
	}
	return time.Time{}
}

func (p *plane) kubeletNext() (time.Time, bool) {
	var next time.Time
	for _, pod := range p.pods() {
		if due := p.kubeletDue(pod); !due.IsZero() && (next.IsZero() || due.Before(next)) {
			next = due
		}
	}
	return next, !next.IsZero()
}

func (p *plane) kubeletFire(ctx context.Context) {
	now := p.clock.Now()
	for _, pod := range p.pods() {
		due := p.kubeletDue(pod)
		if due.IsZero() || due.After(now) {
			continue
		}
		if pod.DeletionTimestamp != nil {
			_ = p.store.Delete(ctx, "Pod", pod.Namespace, pod.Name, store.DeleteOptions{UID: string(pod.UID)})
			continue
		}
		pod.Spec.NodeName = "node-1"
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now)}}
		_, _ = p.store.Update(ctx, pod)
	}
}

// microStep does the least a control plane can do: apply the cache's
// pending events, then either let the kubelet act, or sync a single key,
// or move the clock to the next due time. It reports false when nothing
// is left at all.
func (p *plane) microStep() bool {
	p.steps++
	if p.lag <= 1 || p.steps%p.lag == 0 {
		if _, err := p.cache.Drain(p.ctx); err != nil {
			p.t.Fatal(err)
		}
	}
	now := p.clock.Now()
	if at, ok := p.kubeletNext(); ok && !at.After(now) {
		p.kubeletFire(p.ctx)
		return true
	}
	for i := range p.qs {
		n := (p.turn + i) % len(p.qs)
		key, ok := p.qs[n].Pop()
		if !ok {
			continue
		}
		p.turn = n + 1
		err := p.ctrls[n].Sync(p.ctx, key)
		var rq controller.Requeue
		switch {
		case err == nil:
			p.qs[n].Forget(key)
		case errors.As(err, &rq):
			p.qs[n].Forget(key)
			p.qs[n].AddAfter(key, rq.After)
		default:
			p.qs[n].AddRateLimited(key)
		}
		p.qs[n].Done(key)
		return true
	}
	next, ok := p.m.NextDue()
	if !ok {
		// Idle, unless the cache still holds back events.
		n, err := p.cache.Drain(p.ctx)
		if err != nil {
			p.t.Fatal(err)
		}
		return n > 0
	}
	if next.After(now) {
		p.clock.SetTime(next)
	}
	return true
}

func (p *plane) runUntilIdle() {
	p.t.Helper()
	if err := p.m.RunUntilIdle(p.ctx, p.clock, time.Hour); err != nil {
		p.t.Fatal(err)
	}
}

func getDeployment(t *testing.T, st store.Store, name string) *appsv1.Deployment {
	t.Helper()
	obj, err := st.Get(context.Background(), "Deployment", "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*appsv1.Deployment)
}

func webDeployment(replicas int32, image string, strategy appsv1.DeploymentStrategy) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Strategy: strategy,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{
					Containers:                    []corev1.Container{{Name: "app", Image: image}},
					TerminationGracePeriodSeconds: new(int64(5)),
				},
			},
		},
	}
	workloads.Default(d)
	return d
}

// invariants checks upstream's e2e CheckRolling bounds at every sync once
// the first rollout is done: ReplicaSet sizes (Σ spec.replicas) within
// replicas + maxSurge, and at least replicas - maxUnavailable Ready pods
// that are not terminating. Recreate instead never runs old and new pods
// together. (Running pods may exceed replicas + maxSurge for a moment, as
// upstream: a ReplicaSet scaled down keeps its pods until the ReplicaSet
// controller's next sync, while another may already have grown.)
type invariants struct {
	mu               sync.Mutex // syncs run on worker goroutines in Run mode
	t                *testing.T
	st               store.Store
	maxTotal         int32
	minAvailable     int32
	armed            bool
	recreate         bool
	newHash          string
	violations       int
	maxRunningSeen   int32
	minAvailableSeen int32
}

func (iv *invariants) check() {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	if !iv.armed {
		return
	}
	ctx := context.Background()
	objs, _, _ := iv.st.List(ctx, "ReplicaSet", store.ListOptions{})
	var total int32
	for _, o := range objs {
		total += *o.(*appsv1.ReplicaSet).Spec.Replicas
	}
	pods, _, _ := iv.st.List(ctx, "Pod", store.ListOptions{})
	var running, ready int32
	hashes := map[string]bool{}
	for _, o := range pods {
		pod := o.(*corev1.Pod)
		hashes[pod.Labels[rollouts.PodTemplateHashLabel]] = true
		if pod.DeletionTimestamp != nil {
			continue
		}
		running++
		if rollouts.IsPodReady(pod) {
			ready++
		}
	}
	iv.maxRunningSeen = max(iv.maxRunningSeen, running)
	iv.minAvailableSeen = min(iv.minAvailableSeen, ready)
	fail := func(format string, args ...any) {
		iv.violations++
		if iv.violations < 5 {
			iv.t.Errorf(format, args...)
		}
	}
	if iv.recreate {
		if iv.newHash != "" && hashes[iv.newHash] && len(hashes) > 1 {
			fail("Recreate: new pods run next to old ones (%v)", hashes)
		}
		return
	}
	if total > iv.maxTotal {
		fail("total pods created: %d, more than the max allowed: %d", total, iv.maxTotal)
	}
	if ready < iv.minAvailable {
		fail("total pods available: %d, less than the min required: %d", ready, iv.minAvailable)
	}
}

func countEvents(rec *controller.FakeRecorder, prefix string) int {
	n := 0
	for _, e := range rec.Events() {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// A whole RollingUpdate (10 replicas, 25%/25%) through both controllers
// and the stand-in kubelet, with upstream's e2e bounds checked at every
// sync.
func TestRollingUpdateEndToEnd(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := store.NewMemory(clk)
	defer st.Close()
	rec := controller.NewFakeRecorder()
	iv := &invariants{t: t, st: st, maxTotal: 13, minAvailable: 8, minAvailableSeen: 1 << 30}
	p := newPlane(t, clk, st, rec, iv.check)

	d := webDeployment(10, "app:v1", appsv1.DeploymentStrategy{})
	if _, err := st.Create(p.ctx, d); err != nil {
		t.Fatal(err)
	}
	p.runUntilIdle()
	assertComplete(t, st, 10, "1")

	iv.armed = true
	d = getDeployment(t, st, "web")
	d.Spec.Template.Spec.Containers[0].Image = "app:v2"
	if _, err := st.Update(p.ctx, d); err != nil {
		t.Fatal(err)
	}
	p.runUntilIdle()
	assertComplete(t, st, 10, "2")
	if iv.maxRunningSeen != 13 || iv.minAvailableSeen != 8 {
		t.Errorf("running peaked at %d (want 13), ready dipped to %d (want 8): the rollout did not use its budget",
			iv.maxRunningSeen, iv.minAvailableSeen)
	}
	if n := countEvents(rec, "Normal SuccessfulCreate Created pod: "); n != 20 {
		t.Errorf("%d pods created, want 20", n)
	}
	if n := countEvents(rec, "Normal SuccessfulDelete Deleted pod: "); n != 10 {
		t.Errorf("%d pods deleted, want 10", n)
	}
}

// Recreate through both controllers: the new ReplicaSet appears only once
// every old pod has gone.
func TestRecreateEndToEnd(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := store.NewMemory(clk)
	defer st.Close()
	rec := controller.NewFakeRecorder()
	iv := &invariants{t: t, st: st, recreate: true, minAvailableSeen: 1 << 30}
	p := newPlane(t, clk, st, rec, iv.check)

	d := webDeployment(3, "app:v1", appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType})
	if _, err := st.Create(p.ctx, d); err != nil {
		t.Fatal(err)
	}
	p.runUntilIdle()
	assertComplete(t, st, 3, "1")

	d = getDeployment(t, st, "web")
	d.Spec.Template.Spec.Containers[0].Image = "app:v2"
	d = mustUpdate(t, st, d)
	tmpl := d.Spec.Template
	iv.newHash = rollouts.ComputeHash(&tmpl, nil)
	iv.armed = true
	p.runUntilIdle()
	assertComplete(t, st, 3, "2")
}

// The crash test in small: every few syncs of a rollout the whole control
// plane (cache, queues, expectations) is thrown away and rebuilt on the
// same store; with lag, the cache also trails the controllers' writes
// between restarts, as it does with worker goroutines. The rollout still
// completes, within its bounds, and exactly one pod is created per
// replica and template.
func TestRolloutSurvivesRestarts(t *testing.T) {
	for _, lag := range []int{1, 3} {
		t.Run(fmt.Sprintf("cache lag %d", lag), func(t *testing.T) {
			clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			st := store.NewMemory(clk)
			defer st.Close()
			rec := controller.NewFakeRecorder()
			iv := &invariants{t: t, st: st, maxTotal: 13, minAvailable: 8, minAvailableSeen: 1 << 30}

			d := webDeployment(10, "app:v1", appsv1.DeploymentStrategy{})
			if _, err := st.Create(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			newPlane(t, clk, st, rec, iv.check).runUntilIdle()

			d = getDeployment(t, st, "web")
			d.Spec.Template.Spec.Containers[0].Image = "app:v2"
			mustUpdate(t, st, d)
			iv.armed = true

			restarts := 0
			for round := 0; round < 2000 && !done(st); round++ {
				p := newPlane(t, clk, st, rec, iv.check)
				p.lag = lag
				restarts++
				// A few single syncs, then "crash": the next plane starts
				// from the store alone.
				for i := 0; i < 1+round%4; i++ {
					if !p.microStep() {
						break
					}
				}
				p.cache.Stop()
			}
			newPlane(t, clk, st, rec, iv.check).runUntilIdle()
			if restarts < 20 {
				t.Errorf("only %d restarts before the rollout finished; the test wants 20+", restarts)
			}
			assertComplete(t, st, 10, "2")
			if n := countEvents(rec, "Normal SuccessfulCreate Created pod: "); n != 20 {
				t.Errorf("%d pods created across %d restarts, want 20", n, restarts)
			}
			t.Logf("%d restarts", restarts)
		})
	}
}

// One long-lived control plane whose cache applies events only every
// fourth sync: the controllers keep acting on stale reads of their own
// writes (expectations and resourceVersions must absorb it).
func TestRolloutWithLaggingCache(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := store.NewMemory(clk)
	defer st.Close()
	rec := controller.NewFakeRecorder()
	iv := &invariants{t: t, st: st, maxTotal: 13, minAvailable: 8, minAvailableSeen: 1 << 30}
	d := webDeployment(10, "app:v1", appsv1.DeploymentStrategy{})
	if _, err := st.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	p := newPlane(t, clk, st, rec, iv.check)
	p.lag = 4
	run := func() {
		for i := 0; p.microStep(); i++ {
			if i > 100000 {
				t.Fatal("no end")
			}
		}
	}
	run()
	assertComplete(t, st, 10, "1")
	d = getDeployment(t, st, "web")
	d.Spec.Template.Spec.Containers[0].Image = "app:v2"
	mustUpdate(t, st, d)
	iv.armed = true
	run()
	assertComplete(t, st, 10, "2")
	if n := countEvents(rec, "Normal SuccessfulCreate Created pod: "); n != 20 {
		t.Errorf("%d pods created, want 20", n)
	}
}

// The same rollout with Manager.Run: worker goroutines, the cache in
// background mode, the kubelet as a timer, and a fake clock moved by the
// test. Under -race this covers the controllers' shared state
// (expectations, handlers on the cache goroutine).
func TestRolloutWithWorkers(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := store.NewMemory(clk)
	defer st.Close()
	rec := controller.NewFakeRecorder()
	iv := &invariants{t: t, st: st, maxTotal: 13, minAvailable: 8, minAvailableSeen: 1 << 30}
	d := webDeployment(10, "app:v1", appsv1.DeploymentStrategy{})
	if _, err := st.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	p := newPlane(t, clk, st, rec, iv.check)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = p.m.Run(ctx, 4)
	}()
	defer func() {
		cancel()
		<-stopped
	}()
	waitFor := func(cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatal("timed out")
			}
			time.Sleep(2 * time.Millisecond)
			clk.Step(100 * time.Millisecond)
		}
	}
	complete := func(rev string) func() bool {
		return func() bool {
			obj, err := st.Get(context.Background(), "Deployment", "default", "web")
			if err != nil {
				return false
			}
			d := obj.(*appsv1.Deployment)
			c := rollouts.GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
			pods, _, _ := st.List(context.Background(), "Pod", store.ListOptions{})
			return rollouts.DeploymentComplete(d, &d.Status) && c != nil && c.Reason == rollouts.NewRSAvailableReason &&
				d.Annotations[rollouts.RevisionAnnotation] == rev && len(pods) == 10
		}
	}
	waitFor(complete("1"))
	iv.mu.Lock()
	iv.armed = true
	iv.mu.Unlock()
	d = getDeployment(t, st, "web")
	d.Spec.Template.Spec.Containers[0].Image = "app:v2"
	mustUpdate(t, st, d)
	waitFor(complete("2"))
	assertComplete(t, st, 10, "2")
	if n := countEvents(rec, "Normal SuccessfulCreate Created pod: "); n != 20 {
		t.Errorf("%d pods created, want 20", n)
	}
}

func done(st store.Store) bool {
	obj, err := st.Get(context.Background(), "Deployment", "default", "web")
	if err != nil {
		return false
	}
	d := obj.(*appsv1.Deployment)
	c := rollouts.GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	return rollouts.DeploymentComplete(d, &d.Status) && c != nil && c.Reason == rollouts.NewRSAvailableReason &&
		d.Annotations[rollouts.RevisionAnnotation] == "2"
}

func mustUpdate(t *testing.T, st store.Store, d *appsv1.Deployment) *appsv1.Deployment {
	t.Helper()
	obj, err := st.Update(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*appsv1.Deployment)
}

// assertComplete checks the end of a rollout: one active ReplicaSet of
// the current template with every pod, the Deployment's status and
// conditions, no stray pods.
func assertComplete(t *testing.T, st store.Store, replicas int32, revision string) {
	t.Helper()
	d := getDeployment(t, st, "web")
	s := d.Status
	if s.Replicas != replicas || s.UpdatedReplicas != replicas || s.ReadyReplicas != replicas ||
		s.AvailableReplicas != replicas || s.UnavailableReplicas != 0 || s.ObservedGeneration != d.Generation {
		t.Errorf("status %+v (generation %d)", s, d.Generation)
	}
	if s.TerminatingReplicas == nil || *s.TerminatingReplicas != 0 {
		t.Errorf("terminatingReplicas %v", s.TerminatingReplicas)
	}
	if p := rollouts.GetDeploymentCondition(s, appsv1.DeploymentProgressing); p == nil || p.Reason != rollouts.NewRSAvailableReason {
		t.Errorf("Progressing %+v", p)
	}
	if a := rollouts.GetDeploymentCondition(s, appsv1.DeploymentAvailable); a == nil || a.Status != corev1.ConditionTrue {
		t.Errorf("Available %+v", a)
	}
	if got := d.Annotations[rollouts.RevisionAnnotation]; got != revision {
		t.Errorf("revision %q, want %q", got, revision)
	}
	objs, _, _ := st.List(context.Background(), "ReplicaSet", store.ListOptions{})
	active := 0
	for _, o := range objs {
		rs := o.(*appsv1.ReplicaSet)
		if *rs.Spec.Replicas == 0 {
			continue
		}
		active++
		if !rollouts.EqualIgnoreHash(&rs.Spec.Template, &d.Spec.Template) || *rs.Spec.Replicas != replicas ||
			rs.Annotations[rollouts.RevisionAnnotation] != revision {
			t.Errorf("active ReplicaSet %s: %d replicas, revision %s", rs.Name, *rs.Spec.Replicas, rs.Annotations[rollouts.RevisionAnnotation])
		}
	}
	if active != 1 {
		t.Errorf("%d active ReplicaSets, want 1", active)
	}
	pods, _, _ := st.List(context.Background(), "Pod", store.ListOptions{})
	if int32(len(pods)) != replicas {
		t.Errorf("%d pods, want %d", len(pods), replicas)
	}
}
