package replicaset

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Port of upstream's TestSlowStartBatch.
func TestSlowStartBatch(t *testing.T) {
	fakeErr := errors.New("fake error")
	tests := []struct {
		name          string
		count, limit  int
		wantSuccesses int
		wantErr       error
		wantCalls     int
	}{
		{"all fail", 10, 0, 0, fakeErr, 1},
		{"all succeed", 10, 10, 10, nil, 10},   // 1 + 2 + 4 + 3
		{"some succeed", 10, 5, 5, fakeErr, 7}, // 1 + 2 + 4, then stop
		{"nothing to do", 0, 0, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			got, err := slowStartBatch(tt.count, 1, func() error {
				calls++
				if calls > tt.limit {
					return fakeErr
				}
				return nil
			})
			if got != tt.wantSuccesses || !errors.Is(err, tt.wantErr) && err != tt.wantErr || calls != tt.wantCalls {
				t.Errorf("slowStartBatch = %d, %v after %d calls; want %d, %v after %d", got, err, calls, tt.wantSuccesses, tt.wantErr, tt.wantCalls)
			}
		})
	}
}

func TestSyncCreatesPods(t *testing.T) {
	f := newFixture(t)
	rs := f.create(newRS("web-7d9f8c6b5", 3)).(*appsv1.ReplicaSet)
	f.mustSync("default/web-7d9f8c6b5")

	pods := f.pods()
	if len(pods) != 3 {
		t.Fatalf("got %d pods, want 3", len(pods))
	}
	var want []string
	for _, p := range pods {
		if !strings.HasPrefix(p.Name, "web-7d9f8c6b5-") || len(p.Name) != len("web-7d9f8c6b5-")+5 {
			t.Errorf("pod name %q, want web-7d9f8c6b5-<5 chars>", p.Name)
		}
		if p.GenerateName != "web-7d9f8c6b5-" {
			t.Errorf("generateName %q", p.GenerateName)
		}
		if p.Labels["foo"] != "bar" || p.Labels["type"] != "production" {
			t.Errorf("labels %v, want the template's", p.Labels)
		}
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.UID != rs.UID || ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" ||
			ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Errorf("controller ref %+v, want the ReplicaSet", ref)
		}
		if p.Spec.NodeName != "" {
			t.Errorf("pod created bound to %q", p.Spec.NodeName)
		}
		// Defaulted as the API server does on create (Pod-only defaults too).
		if p.Spec.EnableServiceLinks == nil || p.Spec.SchedulerName != corev1.DefaultSchedulerName {
			t.Errorf("pod spec not defaulted: %+v", p.Spec)
		}
		want = append(want, "Normal SuccessfulCreate Created pod: "+p.Name)
	}
	if got := f.rec.Events(); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}
	// The status reflects the pods seen before the creates, as upstream's.
	got := f.getRS("web-7d9f8c6b5")
	if got.Status.Replicas != 0 || got.Status.ObservedGeneration != got.Generation {
		t.Errorf("status %+v", got.Status)
	}

	// Once the cache has seen the pods, the next sync reports them and
	// creates nothing.
	f.rec.Reset()
	f.mustSync("default/web-7d9f8c6b5")
	if n := len(f.pods()); n != 3 {
		t.Errorf("second sync: %d pods, want 3", n)
	}
	if got := f.getRS("web-7d9f8c6b5").Status; got.Replicas != 3 || got.FullyLabeledReplicas != 3 || got.ReadyReplicas != 0 {
		t.Errorf("status %+v, want 3 replicas, 3 fully labelled, 0 ready", got)
	}
	if ev := f.rec.Events(); len(ev) != 0 {
		t.Errorf("unexpected events %q", ev)
	}
}

// The cache lags the controller's own creates: until it has seen them,
// expectations keep a second sync from creating duplicates.
func TestExpectationsPreventDuplicates(t *testing.T) {
	f := newFixture(t)
	f.rsc.cacheWait = nil // expectations alone, without the cache gate
	f.create(newRS("web", 2))
	f.mustSync("default/web")
	if n := len(f.pods()); n != 2 {
		t.Fatalf("%d pods, want 2", n)
	}
	// Sync again without letting the cache see the new pods.
	if err := f.rsc.Sync(f.ctx, "default/web"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.pods()); n != 2 {
		t.Fatalf("sync before the cache caught up created pods: %d, want 2", n)
	}
	if f.rsc.exp.Satisfied("default/web") {
		t.Fatal("expectations satisfied before the creates were observed")
	}
	f.drain()
	if !f.rsc.exp.Satisfied("default/web") {
		t.Fatal("expectations not satisfied after the cache saw both pods")
	}

	// A lost event is only waited for controller.ExpectationsTimeout.
	f.rsc.exp.ExpectCreations("default/web", 1)
	if f.rsc.exp.Satisfied("default/web") {
		t.Fatal("fresh expectation already satisfied")
	}
	f.clock.Step(controller.ExpectationsTimeout + time.Second)
	if !f.rsc.exp.Satisfied("default/web") {
		t.Fatal("expectation did not expire")
	}
}

// A controller restarted with a fresh cache (and no expectations) sees the
// pods the previous one created and creates none.
func TestRestartCreatesNoExtraPods(t *testing.T) {
	f := newFixture(t)
	f.create(newRS("web", 4))
	f.mustSync("default/web")

	for i := 0; i < 3; i++ {
		cache := controller.NewCache(f.store, "ReplicaSet", "Pod")
		rsc := New(f.store, cache.Lister("ReplicaSet"), cache.Lister("Pod"), f.rec, f.clock)
		rsc.AddHandlers(cache, &recordingQueue{})
		if _, err := cache.Drain(f.ctx); err != nil {
			t.Fatal(err)
		}
		if err := rsc.Sync(f.ctx, "default/web"); err != nil {
			t.Fatal(err)
		}
		cache.Stop()
	}
	if n := len(f.pods()); n != 4 {
		t.Fatalf("%d pods after restarts, want 4", n)
	}
}

// Port of upstream's TestSyncReplicaSetCreateFailures plus the
// ReplicaFailure condition of TestCalculateStatusConditions.
func TestCreateFailure(t *testing.T) {
	f := newFixture(t)
	fs := &failingStore{Store: f.store, createErr: errors.New("quota exceeded")}
	f.rsc.store = fs
	f.create(newRS("web", 3))
	err := f.sync("default/web")
	if err == nil || !strings.Contains(err.Error(), "quota exceeded") {
		t.Fatalf("sync error %v, want the create error", err)
	}
	// Slow start: one attempt, then stop.
	if want := []string{"Warning FailedCreate Error creating: quota exceeded"}; !slices.Equal(f.rec.Events(), want) {
		t.Errorf("events %q, want %q", f.rec.Events(), want)
	}
	if !f.rsc.exp.Satisfied("default/web") {
		t.Error("failed creates left expectations pending")
	}
	st := f.getRS("web").Status
	if len(st.Conditions) != 1 || st.Conditions[0].Type != appsv1.ReplicaSetReplicaFailure ||
		st.Conditions[0].Reason != "FailedCreate" || st.Conditions[0].Message != "quota exceeded" ||
		st.Conditions[0].Status != corev1.ConditionTrue {
		t.Errorf("conditions %+v, want ReplicaFailure FailedCreate", st.Conditions)
	}

	// Recovery clears the condition.
	fs.createErr = nil
	f.mustSync("default/web")
	if c := f.getRS("web").Status.Conditions; len(c) != 0 {
		t.Errorf("conditions %+v after recovery, want none", c)
	}
}

// Port of upstream's TestGetPodsToDelete / ActivePodsWithRanks ordering as
// seen from a sync: unscheduled, pending, not ready go first.
func TestScaleDownDeletesInRankOrder(t *testing.T) {
	f := newFixture(t)
	f.create(node("node-1"))
	rs := f.create(newRS("web", 2)).(*appsv1.ReplicaSet)
	lbl := rs.Spec.Template.Labels
	f.create(newPod("ready-old", rs, lbl, onNode("node-1"), readySince(t0.Add(-time.Hour))))
	f.create(newPod("not-ready", rs, lbl, onNode("node-1"), notReady()))
	f.create(newPod("unscheduled", rs, lbl))
	f.create(newPod("pending", rs, lbl, onNode("node-1"), phase(corev1.PodPending)))
	f.create(newPod("ready-new", rs, lbl, onNode("node-1"), readySince(t0.Add(-time.Minute))))
	f.clock.Step(time.Second)

	f.mustSync("default/web")

	want := []string{
		"Normal SuccessfulDelete Deleted pod: unscheduled",
		"Normal SuccessfulDelete Deleted pod: pending",
		"Normal SuccessfulDelete Deleted pod: not-ready",
	}
	if got := f.rec.Events(); !slices.Equal(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}
	byName := map[string]*corev1.Pod{}
	for _, p := range f.pods() {
		byName[p.Name] = p
	}
	if _, ok := byName["unscheduled"]; ok {
		t.Error("an unscheduled pod is removed at once, not gracefully")
	}
	for _, name := range []string{"pending", "not-ready"} {
		p := byName[name]
		if p == nil || p.DeletionTimestamp == nil {
			t.Fatalf("%s: want a graceful deletion, got %+v", name, p)
		}
		if !p.DeletionTimestamp.Time.Equal(f.clock.Now().Add(30*time.Second).Truncate(time.Second)) &&
			!p.DeletionTimestamp.Time.Equal(f.clock.Now().Add(30*time.Second)) {
			t.Errorf("%s: deletionTimestamp %v, want now + 30s", name, p.DeletionTimestamp)
		}
		if p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 30 {
			t.Errorf("%s: deletionGracePeriodSeconds %v, want 30", name, p.DeletionGracePeriodSeconds)
		}
	}
	for _, name := range []string{"ready-old", "ready-new"} {
		if p := byName[name]; p == nil || p.DeletionTimestamp != nil {
			t.Errorf("%s should survive", name)
		}
	}

	// The terminating pods count as terminating, not as replicas, and the
	// ReplicaSet does not replace them.
	f.rec.Reset()
	f.mustSync("default/web")
	st := f.getRS("web").Status
	if st.Replicas != 2 || st.TerminatingReplicas == nil || *st.TerminatingReplicas != 2 || st.ReadyReplicas != 2 {
		t.Errorf("status %+v, want 2 replicas, 2 ready, 2 terminating", st)
	}
	if ev := f.rec.Events(); len(ev) != 0 {
		t.Errorf("unexpected events %q", ev)
	}
}

// A pod on a node that no longer exists has no agent to stop it: deleted
// at once. terminationGracePeriodSeconds is honoured for the others.
func TestDeleteOnMissingNodeAndCustomGrace(t *testing.T) {
	f := newFixture(t)
	f.create(node("node-1"))
	rs := f.create(newRS("web", 0)).(*appsv1.ReplicaSet)
	lbl := rs.Spec.Template.Labels
	f.create(newPod("gone-node", rs, lbl, onNode("node-9"), readySince(t0)))
	f.create(newPod("grace-5", rs, lbl, onNode("node-1"), readySince(t0), func(p *corev1.Pod) {
		p.Spec.TerminationGracePeriodSeconds = new(int64(5))
	}))
	f.mustSync("default/web")

	pods := f.pods()
	if len(pods) != 1 || pods[0].Name != "grace-5" {
		t.Fatalf("pods %v, want only grace-5 left (terminating)", uidsOf(pods))
	}
	if g := pods[0].DeletionGracePeriodSeconds; g == nil || *g != 5 {
		t.Errorf("grace %v, want 5", g)
	}
}

// Port of upstream's TestDeletionTimestamp: a pod first seen terminating,
// or updated to terminating, counts as a deletion exactly once.
func TestDeletionObservedOnce(t *testing.T) {
	f := newFixture(t)
	rs := f.create(newRS("web", 1)).(*appsv1.ReplicaSet)
	f.drain()
	lbl := rs.Spec.Template.Labels
	key := "default/web"

	pod := newPod("pod", rs, lbl)
	pod.ResourceVersion = "1"
	now := metav1.NewTime(t0)
	terminating := pod.DeepCopy()
	terminating.DeletionTimestamp = &now
	terminating.ResourceVersion = "2"

	f.rsc.exp.ExpectDeletions(key, []string{"default/pod"})
	f.rsc.addPod(f.queue, terminating)
	if !f.rsc.exp.Satisfied(key) {
		t.Fatal("a pod added terminating is not a deletion")
	}
	if !slices.Contains(f.queue.added, key) {
		t.Fatalf("queue %v, want %s", f.queue.added, key)
	}

	f.rsc.exp.ExpectDeletions(key, []string{"default/pod"})
	f.rsc.updatePod(f.queue, pod, terminating)
	if !f.rsc.exp.Satisfied(key) {
		t.Fatal("an update to terminating is not a deletion")
	}

	second := newPod("second", rs, lbl)
	f.rsc.exp.ExpectDeletions(key, []string{"default/second"})
	f.rsc.updatePod(f.queue, pod, terminating)
	f.rsc.deletedPod(f.queue, terminating)
	if f.rsc.exp.Satisfied(key) {
		t.Fatal("another pod's deletion satisfied the expectation")
	}
	f.rsc.deletedPod(f.queue, second)
	if !f.rsc.exp.Satisfied(key) {
		t.Fatal("the expected deletion was not observed")
	}
}

func TestAdoptAndRelease(t *testing.T) {
	f := newFixture(t)
	rs := f.create(newRS("web", 2)).(*appsv1.ReplicaSet)
	other := f.create(newRS("other", 0)).(*appsv1.ReplicaSet)
	lbl := rs.Spec.Template.Labels
	f.create(newPod("orphan", nil, lbl))
	f.create(newPod("stray", rs, map[string]string{"foo": "baz"}))
	f.create(newPod("others", other, lbl))
	f.mustSync("default/web")

	byName := map[string]*corev1.Pod{}
	for _, p := range f.pods() {
		byName[p.Name] = p
	}
	if ref := metav1.GetControllerOf(byName["orphan"]); ref == nil || ref.UID != rs.UID {
		t.Errorf("orphan not adopted: %+v", byName["orphan"].OwnerReferences)
	}
	if refs := byName["stray"].OwnerReferences; len(refs) != 0 {
		t.Errorf("non-matching pod not released: %+v", refs)
	}
	if ref := metav1.GetControllerOf(byName["others"]); ref == nil || ref.UID != other.UID {
		t.Errorf("another controller's pod was touched: %+v", byName["others"].OwnerReferences)
	}
	// The adopted orphan counts: 1 more pod is created, not 2.
	if n := len(f.pods()); n != 4 {
		t.Errorf("%d pods, want 4 (orphan, stray, others, 1 new)", n)
	}
}

// Port of upstream's TestDoNotAdoptOrCreateIfBeingDeleted.
func TestNothingWhileBeingDeleted(t *testing.T) {
	f := newFixture(t)
	rs := f.create(newRS("web", 2)).(*appsv1.ReplicaSet)
	f.create(newPod("orphan", nil, rs.Spec.Template.Labels))
	now := metav1.NewTime(t0)
	rs.DeletionTimestamp = &now
	f.update(rs)
	f.mustSync("default/web")
	for _, p := range f.pods() {
		if len(p.OwnerReferences) != 0 {
			t.Errorf("adopted %s while being deleted", p.Name)
		}
	}
	if n := len(f.pods()); n != 1 {
		t.Errorf("%d pods, want 1: no creates while being deleted", n)
	}
}

// Port of upstream's TestCalculateStatus and TestReplicaSetAvailabilityCheck:
// availableReplicas honours minReadySeconds and the ReplicaSet asks to be
// synced again when the next pod becomes available.
func TestStatusAndAvailability(t *testing.T) {
	f := newFixture(t)
	f.create(node("node-1"))
	rs := newRS("web", 4)
	rs.Spec.MinReadySeconds = 5
	rs = f.create(rs).(*appsv1.ReplicaSet)
	lbl := rs.Spec.Template.Labels
	now := t0.Add(time.Minute)
	f.create(newPod("p1", rs, lbl, onNode("node-1")))
	f.create(newPod("p2", rs, lbl, onNode("node-1"), readySince(now)))
	f.create(newPod("p3", rs, lbl, onNode("node-1"), readySince(now.Add(-2*time.Second))))
	f.create(newPod("p4", rs, map[string]string{"foo": "bar"}, onNode("node-1"), readySince(now.Add(-10*time.Second))))
	f.clock.SetTime(now)

	err := f.sync("default/web")
	var rq controller.Requeue
	if !errors.As(err, &rq) || rq.After != 3*time.Second {
		t.Fatalf("sync returned %v, want Requeue after 3s (p3 becomes available)", err)
	}
	got := f.getRS("web").Status
	want := appsv1.ReplicaSetStatus{
		Replicas: 4, FullyLabeledReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 1,
		ObservedGeneration: 1, TerminatingReplicas: new(int32(0)),
	}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("status\n got %+v\nwant %+v", got, want)
	}

	f.clock.Step(3 * time.Second)
	err = f.sync("default/web")
	if !errors.As(err, &rq) || rq.After != 2*time.Second {
		t.Fatalf("sync returned %v, want Requeue after 2s (p2)", err)
	}
	if got := f.getRS("web").Status.AvailableReplicas; got != 2 {
		t.Errorf("available %d, want 2", got)
	}
	f.clock.Step(2 * time.Second)
	if err := f.sync("default/web"); err != nil {
		t.Fatalf("all ready pods available, want no requeue: %v", err)
	}
	if got := f.getRS("web").Status.AvailableReplicas; got != 3 {
		t.Errorf("available %d, want 3", got)
	}
}

// Port of upstream's TestUpdatePods/TestWatchPods for the handler side.
func TestPodHandlers(t *testing.T) {
	f := newFixture(t)
	rs := newRS("web", 1)
	rs.Spec.MinReadySeconds = 10
	rs = f.create(rs).(*appsv1.ReplicaSet)
	other := f.create(newRS("other", 1)).(*appsv1.ReplicaSet)
	f.drain()
	f.queue.reset()

	// A created pod is observed for its own controller only.
	f.rsc.exp.ExpectCreations("default/web", 1)
	f.rsc.addPod(f.queue, newPod("p", rs, rs.Spec.Template.Labels))
	if !f.rsc.exp.Satisfied("default/web") || !slices.Equal(f.queue.added, []string{"default/web"}) {
		t.Errorf("add: satisfied %v, queue %v", f.rsc.exp.Satisfied("default/web"), f.queue.added)
	}

	// An orphan wakes every ReplicaSet whose selector matches it.
	f.queue.reset()
	f.rsc.addPod(f.queue, newPod("o", nil, map[string]string{"foo": "bar"}))
	if !slices.Equal(f.queue.added, []string{"default/other", "default/web"}) {
		t.Errorf("orphan add queued %v", f.queue.added)
	}

	// Becoming ready schedules an availability check minReadySeconds later.
	f.queue.reset()
	old := newPod("p", rs, rs.Spec.Template.Labels, notReady())
	old.ResourceVersion = "5"
	cur := newPod("p", rs, rs.Spec.Template.Labels, readySince(t0))
	cur.ResourceVersion = "6"
	f.rsc.updatePod(f.queue, old, cur)
	if f.queue.after["default/web"] != 10*time.Second {
		t.Errorf("AddAfter %v, want 10s", f.queue.after)
	}

	// A change of controller wakes both.
	f.queue.reset()
	moved := cur.DeepCopy()
	moved.ResourceVersion = "7"
	moved.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(other, rsKind)}
	f.rsc.updatePod(f.queue, cur, moved)
	if !slices.Equal(f.queue.added, []string{"default/web", "default/other"}) {
		t.Errorf("controller change queued %v", f.queue.added)
	}

	// A resync (same resourceVersion) wakes nothing.
	f.queue.reset()
	f.rsc.updatePod(f.queue, moved, moved)
	if len(f.queue.added) != 0 {
		t.Errorf("resync queued %v", f.queue.added)
	}
}

// Port of upstream's TestControllerBurstReplicas: at most burst pods per
// sync, the rest once the cache has seen them.
func TestBurstReplicas(t *testing.T) {
	f := newFixture(t)
	f.rsc.burst = 5
	f.create(newRS("web", 12))
	for i, want := range []int{5, 10, 12, 12} {
		f.mustSync("default/web")
		if n := len(f.pods()); n != want {
			t.Fatalf("sync %d: %d pods, want %d", i, n, want)
		}
	}
	// And scaling down to 2 deletes 5, 5 (unscheduled pods go at once).
	rs := f.getRS("web")
	rs.Spec.Replicas = new(int32(2))
	f.update(rs)
	for i, want := range []int{7, 2, 2} {
		f.mustSync("default/web")
		if n := len(f.pods()); n != want {
			t.Fatalf("scale down sync %d: %d pods, want %d", i, n, want)
		}
	}
}

func TestDeletedReplicaSetForgetsExpectations(t *testing.T) {
	f := newFixture(t)
	f.create(newRS("web", 1))
	f.mustSync("default/web") // expects one creation
	if err := f.store.Delete(f.ctx, "ReplicaSet", "default", "web", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.rsc.exp.ExpectCreations("default/web", 3)
	f.mustSync("default/web")
	if !f.rsc.exp.Satisfied("default/web") {
		t.Error("expectations kept for a deleted ReplicaSet")
	}
}

// A Ready pod without a transition time never becomes available by
// waiting: the fallback requeue is minReadySeconds, not a hot loop.
func TestAvailabilityFallbackRequeue(t *testing.T) {
	f := newFixture(t)
	rs := newRS("web", 1)
	rs.Spec.MinReadySeconds = 30
	rs = f.create(rs).(*appsv1.ReplicaSet)
	f.create(newPod("p", rs, rs.Spec.Template.Labels, func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}))
	err := f.sync("default/web")
	var rq controller.Requeue
	if !errors.As(err, &rq) || rq.After != 30*time.Second {
		t.Fatalf("sync = %v, want Requeue after 30s", err)
	}
}
