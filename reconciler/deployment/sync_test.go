package deployment

import (
	"errors"
	"maps"
	"math"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/berth-io/berth/rollouts"
)

// Port of upstream's TestSyncDeploymentCreatesReplicaSet, checking the
// new ReplicaSet in full.
func TestSyncDeploymentCreatesReplicaSet(t *testing.T) {
	f := newFixture(t)
	d := newDeployment("web", 3, "nginx:1.25", func(d *appsv1.Deployment) {
		d.Annotations = map[string]string{
			"team":                             "payments",
			corev1.LastAppliedConfigAnnotation: "{}",
		}
		d.Spec.MinReadySeconds = 7
	})
	d = f.create(d).(*appsv1.Deployment)
	f.mustSync("web")

	name := rsName(d, "nginx:1.25")
	rss := f.replicaSets()
	if len(rss) != 1 || rss[name] == nil {
		t.Fatalf("replica sets %v, want only %s", keys(rss), name)
	}
	rs := rss[name]
	hash := strings.TrimPrefix(name, "web-")
	if *rs.Spec.Replicas != 3 || rs.Spec.MinReadySeconds != 7 {
		t.Errorf("spec replicas %d minReadySeconds %d, want 3 and 7", *rs.Spec.Replicas, rs.Spec.MinReadySeconds)
	}
	if rs.Labels[rollouts.PodTemplateHashLabel] != hash || rs.Spec.Template.Labels[rollouts.PodTemplateHashLabel] != hash ||
		rs.Spec.Selector.MatchLabels[rollouts.PodTemplateHashLabel] != hash || rs.Spec.Selector.MatchLabels["app"] != "web" {
		t.Errorf("hash label missing: labels %v template %v selector %v", rs.Labels, rs.Spec.Template.Labels, rs.Spec.Selector)
	}
	if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != d.UID || ref.Kind != "Deployment" {
		t.Errorf("controller ref %+v", ref)
	}
	wantAnn := map[string]string{
		rollouts.RevisionAnnotation:        "1",
		rollouts.DesiredReplicasAnnotation: "3",
		rollouts.MaxReplicasAnnotation:     "4",
		"team":                             "payments",
	}
	if !maps.Equal(rs.Annotations, wantAnn) {
		t.Errorf("annotations %v, want %v (last-applied not copied)", rs.Annotations, wantAnn)
	}
	f.wantEvents("Normal ScalingReplicaSet Scaled up replica set " + name + " from 0 to 3")

	got := f.deployment("web")
	if got.Annotations[rollouts.RevisionAnnotation] != "1" {
		t.Errorf("deployment revision %q, want 1", got.Annotations[rollouts.RevisionAnnotation])
	}
	p := condition(got, appsv1.DeploymentProgressing)
	if p == nil || p.Status != corev1.ConditionTrue || p.Reason != rollouts.NewReplicaSetReason ||
		p.Message != `Created new replica set "`+name+`"` {
		t.Errorf("Progressing %+v", p)
	}
	a := condition(got, appsv1.DeploymentAvailable)
	if a == nil || a.Status != corev1.ConditionFalse || a.Reason != rollouts.MinimumReplicasUnavailable {
		t.Errorf("Available %+v", a)
	}
	if got.Status.ObservedGeneration != got.Generation {
		t.Errorf("observedGeneration %d, generation %d", got.Status.ObservedGeneration, got.Generation)
	}

	// Nothing more to do once the ReplicaSet is seen.
	f.mustSync("web")
	f.wantEvents()
	if n := len(f.replicaSets()); n != 1 {
		t.Errorf("%d replica sets after a second sync", n)
	}
}

// One rolling step, from upstream's rolling_test.go tables
// (reconcileNewReplicaSet, reconcileOldReplicaSets, cleanupUnhealthyReplicas),
// run through a whole sync.
func TestRollingStep(t *testing.T) {
	i := intstr.FromInt32
	tests := []struct {
		name                      string
		replicas                  int32
		surge, unavailable        intstr.IntOrString
		oldReplicas, oldAvailable int32
		newReplicas, newAvailable int32
		wantOld, wantNew          int32
		wantEvents                []string // with OLD and NEW for the names
	}{
		{"no surge: scale old down by the forced unavailable 1", 10, i(0), i(0), 10, 10, 0, 0, 9, 0,
			[]string{"Scaled down replica set OLD from 10 to 9"}},
		{"surge 2 with all old", 10, i(2), i(0), 10, 10, 0, 0, 10, 2,
			[]string{"Scaled up replica set NEW from 0 to 2"}},
		{"surge 2 with half old", 10, i(2), i(0), 5, 5, 0, 0, 5, 7,
			[]string{"Scaled up replica set NEW from 0 to 7"}},
		{"surge used up, new not available: stuck", 10, i(2), i(0), 10, 10, 2, 0, 10, 2, nil},
		{"new above replicas scales down", 10, i(2), i(0), 2, 2, 11, 11, 2, 10,
			[]string{"Scaled down replica set NEW from 11 to 10"}},
		{"unavailable 2", 10, i(0), i(2), 10, 10, 0, 0, 8, 0,
			[]string{"Scaled down replica set OLD from 10 to 8"}},
		{"unhealthy old replicas cleaned up first", 10, i(0), i(2), 10, 8, 0, 0, 8, 0,
			[]string{"Scaled down replica set OLD from 10 to 8"}},
		{"one unhealthy cleaned, one healthy scaled down", 10, i(0), i(2), 10, 9, 0, 0, 8, 0,
			[]string{"Scaled down replica set OLD from 10 to 9", "Scaled down replica set OLD from 9 to 8"}},
		{"unavailable new pods block scale-down", 10, i(0), i(2), 8, 8, 2, 0, 8, 2, nil},
		{"percentages 25%/25% of 10: surge 3", 10, intstr.FromString("25%"), intstr.FromString("25%"), 10, 10, 0, 0, 10, 3,
			[]string{"Scaled up replica set NEW from 0 to 3"}},
		{"percentages: old down within maxUnavailable 2 once new is created", 10, intstr.FromString("25%"), intstr.FromString("25%"), 10, 10, 3, 0, 8, 3,
			[]string{"Scaled down replica set OLD from 10 to 8"}},
		{"crashlooping new: 13 - 8 - 5 = 0, stalls", 10, i(3), i(2), 8, 8, 5, 0, 8, 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			d := f.create(newDeployment("web", tt.replicas, "app:v2", surgeUnavailable(tt.surge, tt.unavailable))).(*appsv1.Deployment)
			old := f.addRS(d, rsState{image: "app:v1", replicas: tt.oldReplicas, available: tt.oldAvailable, revision: "1", owned: true})
			nw := f.addRS(d, rsState{image: "app:v2", replicas: tt.newReplicas, available: tt.newAvailable, revision: "2", owned: true})
			f.mustSync("web")

			sizes := f.sizes()
			if sizes[old.Name] != tt.wantOld || sizes[nw.Name] != tt.wantNew {
				t.Errorf("old %d new %d, want %d %d", sizes[old.Name], sizes[nw.Name], tt.wantOld, tt.wantNew)
			}
			var want []string
			for _, e := range tt.wantEvents {
				e = strings.ReplaceAll(e, "OLD", old.Name)
				want = append(want, "Normal ScalingReplicaSet "+strings.ReplaceAll(e, "NEW", nw.Name))
			}
			f.wantEvents(want...)
		})
	}
}

// A rollout of 10 replicas at 25%/25% from v1 to v2: the first sync
// creates the new ReplicaSet within maxSurge, the second scales the old
// one down within maxUnavailable, and revisions follow.
func TestRollingUpdateStartsRollout(t *testing.T) {
	f := newFixture(t)
	d := f.create(newDeployment("web", 10, "app:v1")).(*appsv1.Deployment)
	old := f.addRS(d, rsState{image: "app:v1", replicas: 10, available: 10, revision: "1", owned: true})
	f.mustSync("web") // steady state at v1
	f.rec.Reset()

	d = f.setImage("web", "app:v2")
	f.mustSync("web")
	newName := rsName(d, "app:v2")
	// As upstream: the sync that creates the new ReplicaSet (within
	// maxSurge: 13 in all) goes on to scale the old one down within
	// maxUnavailable (13 - 8 available - 3 unavailable new = 2).
	f.wantEvents(
		"Normal ScalingReplicaSet Scaled up replica set "+newName+" from 0 to 3",
		"Normal ScalingReplicaSet Scaled down replica set "+old.Name+" from 10 to 8",
	)
	if got := f.sizes(); got[old.Name] != 8 || got[newName] != 3 {
		t.Fatalf("sizes %v", got)
	}
	if rev := f.rs(newName).Annotations[rollouts.RevisionAnnotation]; rev != "2" {
		t.Errorf("new revision %q, want 2", rev)
	}
	if rev := f.deployment("web").Annotations[rollouts.RevisionAnnotation]; rev != "2" {
		t.Errorf("deployment revision %q, want 2", rev)
	}
	got := f.deployment("web")
	if got.Status.UpdatedReplicas != 0 || got.Status.Replicas != 10 || got.Status.AvailableReplicas != 10 ||
		got.Status.UnavailableReplicas != 3 || got.Status.ObservedGeneration != got.Generation {
		t.Errorf("status %+v", got.Status)
	}

	// Room for 2 more within maxSurge: the new ReplicaSet grows.
	f.mustSync("web")
	f.wantEvents("Normal ScalingReplicaSet Scaled up replica set " + newName + " from 3 to 5")
}

// Recreate: old ReplicaSets go to 0 first; the new one is created only
// once no old pod runs, at full size (upstream's recreate_test.go and the
// e2e invariant: never updated > 0 while old pods exist).
func TestRecreate(t *testing.T) {
	f := newFixture(t)
	d := f.create(newDeployment("web", 3, "app:v1", recreate())).(*appsv1.Deployment)
	old := f.addRS(d, rsState{image: "app:v1", replicas: 3, available: 3, revision: "1", owned: true})
	var pods []*corev1.Pod
	for _, name := range []string{"p1", "p2", "p3"} {
		pods = append(pods, f.create(&corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: old.Spec.Template.Labels,
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(old, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}},
			Spec:   old.Spec.Template.Spec,
			Status: corev1.PodStatus{Phase: corev1.PodRunning},
		}).(*corev1.Pod))
	}
	f.mustSync("web")
	f.rec.Reset()

	d = f.setImage("web", "app:v2")
	newName := rsName(d, "app:v2")
	f.mustSync("web")
	f.wantEvents("Normal ScalingReplicaSet Scaled down replica set " + old.Name + " from 3 to 0")
	if _, ok := f.replicaSets()[newName]; ok {
		t.Fatal("new ReplicaSet created before the old pods stopped")
	}

	// The ReplicaSet controller has seen the scale-down and the pods are
	// terminating: still running, so still no new ReplicaSet.
	rs := f.rs(old.Name)
	rs.Status = appsv1.ReplicaSetStatus{ObservedGeneration: rs.Generation, TerminatingReplicas: new(int32(3))}
	f.update(rs)
	for _, p := range pods {
		p = f.update(p).(*corev1.Pod)
		now := metav1.NewTime(f.clock.Now())
		p.DeletionTimestamp = &now
		f.update(p)
	}
	f.mustSync("web")
	if _, ok := f.replicaSets()[newName]; ok {
		t.Fatal("new ReplicaSet created while old pods terminate")
	}
	f.wantEvents()

	// A pod deletion wakes a Recreate deployment.
	f.queue.reset()
	for _, p := range pods {
		if err := f.store.Delete(f.ctx, "Pod", "default", p.Name, storeDeleteOpts()); err != nil {
			t.Fatal(err)
		}
	}
	f.drain()
	if len(f.queue.added) == 0 || f.queue.added[len(f.queue.added)-1] != "default/web" {
		t.Errorf("pod deletion queued %v, want default/web", f.queue.added)
	}
	f.mustSync("web")
	f.wantEvents("Normal ScalingReplicaSet Scaled up replica set " + newName + " from 0 to 3")
	if got := f.sizes(); got[newName] != 3 || got[old.Name] != 0 {
		t.Errorf("sizes %v", got)
	}
}

// Port of upstream's TestScale plus the e2e proportional scaling case:
// replicas change mid-rollout and every active ReplicaSet takes its share.
// Sizes go oldest first; the last is the new ReplicaSet unless noNew.
func TestProportionalScaling(t *testing.T) {
	zero, pct := intstr.FromInt32(0), intstr.FromString("25%")
	tests := []struct {
		name               string
		from, to           int32
		surge, unavailable intstr.IntOrString
		toSurge            *intstr.IntOrString
		noNew              bool
		sizes, want        []int32
	}{
		{name: "one active: 10 -> 12", from: 10, to: 12, surge: zero, unavailable: zero, sizes: []int32{10}, want: []int32{12}},
		{name: "one active: 10 -> 5", from: 10, to: 5, surge: zero, unavailable: zero, sizes: []int32{10}, want: []int32{5}},
		{name: "5 -> 10", from: 5, to: 10, surge: zero, unavailable: zero, sizes: []int32{3, 2}, want: []int32{6, 4}},
		{name: "5 -> 3", from: 5, to: 3, surge: zero, unavailable: zero, sizes: []int32{3, 2}, want: []int32{2, 1}},
		{name: "9 -> 4", from: 9, to: 4, surge: zero, unavailable: zero, sizes: []int32{1, 8}, want: []int32{0, 4}},
		{name: "7 -> 10", from: 7, to: 10, surge: zero, unavailable: zero, sizes: []int32{2, 3, 2}, want: []int32{3, 4, 3}},
		{name: "13 -> 8", from: 13, to: 8, surge: zero, unavailable: zero, sizes: []int32{3, 8, 2}, want: []int32{2, 5, 1}},
		{name: "leftover to the newest: 3 -> 4", from: 3, to: 4, surge: zero, unavailable: zero, sizes: []int32{1, 1, 1}, want: []int32{1, 1, 2}},
		{name: "leftover from the oldest: 3 -> 2", from: 3, to: 2, surge: zero, unavailable: zero, sizes: []int32{1, 1, 1}, want: []int32{0, 1, 1}},
		{name: "no new ReplicaSet: 4 -> 5", from: 4, to: 5, surge: zero, unavailable: zero, noNew: true, sizes: []int32{2, 2}, want: []int32{2, 3}},
		{name: "to zero: 6 -> 0", from: 6, to: 0, surge: zero, unavailable: zero, sizes: []int32{1, 2, 3}, want: []int32{0, 0, 0}},
		{name: "with surge pods: 10 -> 20", from: 10, to: 20, surge: intstr.FromInt32(2), unavailable: zero, sizes: []int32{6, 6}, want: []int32{11, 11}},
		{name: "surge and size change together", from: 10, to: 50, surge: intstr.FromInt32(3), unavailable: zero,
			toSurge: new(intstr.FromInt32(6)), sizes: []int32{8, 5}, want: []int32{34, 22}},
		{name: "size and template change together", from: 10, to: 14, surge: zero, unavailable: zero, noNew: true, sizes: []int32{3, 7}, want: []int32{4, 10}},
		{name: "25%: 4 -> 8", from: 4, to: 8, surge: pct, unavailable: pct, sizes: []int32{3, 2}, want: []int32{6, 4}},
		{name: "e2e: stuck 8+5 (surge 3, unavailable 2), 10 -> 30", from: 10, to: 30, surge: intstr.FromInt32(3), unavailable: intstr.FromInt32(2),
			sizes: []int32{8, 5}, want: []int32{20, 13}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			image := func(i int) string { return "app:v" + string(rune('1'+i)) }
			current := image(len(tt.sizes) - 1)
			if tt.noNew {
				current = "app:next"
			}
			// Seed the ReplicaSets as the controller left them at tt.from.
			d := f.create(newDeployment("web", tt.from, current, surgeUnavailable(tt.surge, tt.unavailable))).(*appsv1.Deployment)
			var names []string
			for i, n := range tt.sizes {
				names = append(names, f.addRS(d, rsState{image: image(i), replicas: n, revision: string(rune('1' + i)), owned: true}).Name)
			}
			d = f.deployment("web")
			d.Spec.Replicas = new(tt.to)
			if tt.toSurge != nil {
				d.Spec.Strategy.RollingUpdate.MaxSurge = tt.toSurge
			}
			f.update(d)
			f.mustSync("web")

			sizes := f.sizes()
			for i, name := range names {
				if sizes[name] != tt.want[i] {
					t.Errorf("ReplicaSet %d: %d replicas, want %d (all: %v)", i, sizes[name], tt.want[i], sizes)
				}
			}
			if n := len(sizes); n != len(names) {
				t.Errorf("%d ReplicaSets, want %d: a scaling event creates none", n, len(names))
			}
			// Every active ReplicaSet now carries the new desired-replicas,
			// so the next sync is not a scaling event again.
			for _, rs := range f.replicaSets() {
				if *rs.Spec.Replicas > 0 {
					if got, _ := rollouts.GetDesiredReplicasAnnotation(rs); got != tt.to {
						t.Errorf("%s desired-replicas %d, want %d", rs.Name, got, tt.to)
					}
				}
			}
		})
	}
}

// Paused: a template change creates nothing, scaling still happens, the
// Progressing condition says paused; resuming resumes the rollout.
func TestPauseAndResume(t *testing.T) {
	f := newFixture(t)
	d := f.create(newDeployment("web", 3, "app:v1")).(*appsv1.Deployment)
	old := f.addRS(d, rsState{image: "app:v1", replicas: 3, available: 3, revision: "1", owned: true})
	f.mustSync("web")
	f.rec.Reset()

	d = f.deployment("web")
	d.Spec.Paused = true
	d.Spec.Template.Spec.Containers[0].Image = "app:v2"
	d.Spec.Replicas = new(int32(5))
	f.update(d)
	f.mustSync("web")
	f.wantEvents("Normal ScalingReplicaSet Scaled up replica set " + old.Name + " from 3 to 5")
	if n := len(f.replicaSets()); n != 1 {
		t.Fatalf("%d replica sets while paused, want 1", n)
	}
	got := f.deployment("web")
	if p := condition(got, appsv1.DeploymentProgressing); p == nil || p.Status != corev1.ConditionUnknown ||
		p.Reason != rollouts.PausedDeployReason || p.Message != "Deployment is paused" {
		t.Errorf("Progressing %+v, want Unknown DeploymentPaused", p)
	}
	if got.Annotations[rollouts.RevisionAnnotation] != "1" {
		t.Errorf("revision bumped while paused: %q", got.Annotations[rollouts.RevisionAnnotation])
	}

	got.Spec.Paused = false
	f.update(got)
	f.mustSync("web")
	newName := rsName(d, "app:v2")
	// 5 replicas at 25%: surge 2, unavailable 1; the old ReplicaSet reports
	// only 3 available of 5, so 1 unhealthy replica goes at once.
	f.wantEvents(
		"Normal ScalingReplicaSet Scaled up replica set "+newName+" from 0 to 2",
		"Normal ScalingReplicaSet Scaled down replica set "+old.Name+" from 5 to 4",
	)
	got = f.deployment("web")
	// The resumed condition is replaced by NewReplicaSetCreated in the same sync.
	if p := condition(got, appsv1.DeploymentProgressing); p == nil || p.Reason != rollouts.NewReplicaSetReason {
		t.Errorf("Progressing %+v after resume", p)
	}
}

// The resumed condition itself, when the rollout has nothing to create.
func TestResumedCondition(t *testing.T) {
	f := newFixture(t)
	d := f.create(newDeployment("web", 1, "app:v1", paused())).(*appsv1.Deployment)
	f.addRS(d, rsState{image: "app:v1", replicas: 1, available: 1, revision: "1", owned: true})
	f.mustSync("web")
	d = f.deployment("web")
	d.Spec.Paused = false
	f.update(d)
	f.drain()
	// checkPausedConditions alone (the rest of the sync may move on).
	d = f.deployment("web")
	if err := f.dc.checkPausedConditions(f.ctx, d); err != nil {
		t.Fatal(err)
	}
	if p := condition(f.deployment("web"), appsv1.DeploymentProgressing); p == nil || p.Status != corev1.ConditionUnknown ||
		p.Reason != rollouts.ResumedDeployReason || p.Message != "Deployment is resumed" {
		t.Errorf("Progressing %+v, want Unknown DeploymentResumed", p)
	}
}

// Port of upstream's cleanupDeployment tables, through a paused sync (which
// always prunes) and through a completed rollout.
func TestRevisionHistoryCleanup(t *testing.T) {
	type old struct {
		revision         string
		spec, status     int32
		observedGenerLag bool
	}
	tests := []struct {
		name    string
		limit   int32
		olds    []old
		deleted []string // revisions
	}{
		{"limit 1 of 3", 1, []old{{"1", 0, 0, false}, {"2", 0, 0, false}, {"3", 0, 0, false}}, []string{"1", "2"}},
		{"only fully scaled down", 0, []old{{"1", 0, 0, false}, {"2", 0, 1, false}, {"3", 1, 0, false}, {"4", 1, 1, false}}, []string{"1"}},
		{"limit 0 deletes all", 0, []old{{"1", 0, 0, false}, {"2", 0, 0, false}}, []string{"1", "2"}},
		{"not yet observed by the ReplicaSet controller", 0, []old{{"1", 0, 0, true}}, nil},
		{"unlimited", math.MaxInt32, []old{{"1", 0, 0, false}, {"2", 0, 0, false}}, nil},
		{"lowest revision first, not oldest", 1, []old{{"3", 0, 0, false}, {"1", 0, 0, false}, {"2", 0, 0, false}}, []string{"1", "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			d := f.create(newDeployment("web", 1, "app:current", historyLimit(tt.limit), paused())).(*appsv1.Deployment)
			byRev := map[string]string{}
			for i, o := range tt.olds {
				rs := f.addRS(d, rsState{image: "app:old" + string(rune('a'+i)), replicas: o.spec, statusReplicas: new(o.status),
					revision: o.revision, owned: true, observedGenerationLag: o.observedGenerLag, desired: new(int32(1))})
				byRev[o.revision] = rs.Name
			}
			f.addRS(d, rsState{image: "app:current", replicas: 1, available: 1, revision: "9", owned: true})
			f.mustSync("web")
			rss := f.replicaSets()
			for rev, name := range byRev {
				_, exists := rss[name]
				wantDeleted := false
				for _, r := range tt.deleted {
					wantDeleted = wantDeleted || r == rev
				}
				if exists == wantDeleted {
					t.Errorf("revision %s: exists %v, want deleted %v", rev, exists, wantDeleted)
				}
			}
		})
	}
}

// A rolling Deployment prunes history only once its rollout is complete.
func TestCleanupOnlyWhenComplete(t *testing.T) {
	f := newFixture(t)
	d := f.create(newDeployment("web", 2, "app:v2", historyLimit(0))).(*appsv1.Deployment)
	old := f.addRS(d, rsState{image: "app:v1", replicas: 0, revision: "1", owned: true})
	f.addRS(d, rsState{image: "app:v2", replicas: 2, available: 1, revision: "2", owned: true})
	f.mustSync("web")
	f.mustSync("web")
	if _, ok := f.replicaSets()[old.Name]; !ok {
		t.Fatal("history pruned before the rollout completed")
	}
	nw := f.rs(rsName(d, "app:v2"))
	nw.Status.AvailableReplicas, nw.Status.ReadyReplicas, nw.Status.Replicas = 2, 2, 2
	f.update(nw)
	f.mustSync("web") // status becomes complete
	f.mustSync("web") // complete status seen: prune
	if _, ok := f.replicaSets()[old.Name]; ok {
		t.Fatal("old ReplicaSet kept with revisionHistoryLimit 0 after completion")
	}
}

// Port of upstream's TestDontSyncDeploymentsWithEmptyPodSelector.
func TestSelectingAll(t *testing.T) {
	f := newFixture(t)
	d := newDeployment("web", 1, "app:v1")
	d.Spec.Selector = &metav1.LabelSelector{}
	f.create(d)
	f.mustSync("web")
	f.wantEvents("Warning SelectingAll This deployment is selecting all pods. A non-empty selector is required.")
	if n := len(f.replicaSets()); n != 0 {
		t.Errorf("%d replica sets created", n)
	}
	if got := f.deployment("web"); got.Status.ObservedGeneration != got.Generation {
		t.Errorf("observedGeneration %d, want %d", got.Status.ObservedGeneration, got.Generation)
	}
}

// Port of upstream's TestSyncDeploymentDontDoAnythingDuringDeletion.
func TestDeletingDeploymentOnlySyncsStatus(t *testing.T) {
	f := newFixture(t)
	d := f.create(newDeployment("web", 3, "app:v2")).(*appsv1.Deployment)
	f.addRS(d, rsState{image: "app:v1", replicas: 3, available: 3, revision: "1", owned: true})
	now := metav1.NewTime(t0)
	d = f.deployment("web")
	d.DeletionTimestamp = &now
	f.update(d)
	f.mustSync("web")
	f.wantEvents()
	if n := len(f.replicaSets()); n != 1 {
		t.Errorf("%d replica sets, want no new one", n)
	}
	if got := f.deployment("web").Status; got.Replicas != 3 || got.AvailableReplicas != 3 {
		t.Errorf("status %+v not synced", got)
	}
}

// Adoption (upstream's TestGetReplicaSetsForDeploymentAdoptRelease) and
// the e2e case "RollingUpdateDeployment should delete old pods and create
// new ones": an adopted ReplicaSet's huge revision is continued.
func TestAdoptOrphanAndContinueRevision(t *testing.T) {
	f := newFixture(t)
	d := f.create(newDeployment("web", 1, "app:v2")).(*appsv1.Deployment)
	orphan := f.addRS(d, rsState{image: "app:v1", replicas: 1, available: 1, revision: "3546343826724305832", owned: false})
	f.mustSync("web")
	if ref := metav1.GetControllerOf(f.rs(orphan.Name)); ref == nil || ref.UID != d.UID {
		t.Fatalf("orphan not adopted: %+v", f.rs(orphan.Name).OwnerReferences)
	}
	newName := rsName(d, "app:v2")
	if rev := f.rs(newName).Annotations[rollouts.RevisionAnnotation]; rev != "3546343826724305833" {
		t.Errorf("new revision %q, want 3546343826724305833", rev)
	}

	// An owned ReplicaSet whose labels stop matching is released.
	rs := f.rs(orphan.Name)
	rs.Labels = map[string]string{"app": "other"}
	f.update(rs)
	f.mustSync("web")
	if refs := f.rs(orphan.Name).OwnerReferences; len(refs) != 0 {
		t.Errorf("non-matching ReplicaSet not released: %+v", refs)
	}
}

// A ReplicaSet of another template already holds the new one's name: the
// collision count goes up and the next sync uses another hash.
func TestHashCollision(t *testing.T) {
	f := newFixture(t)
	d := f.create(newDeployment("web", 1, "app:v1")).(*appsv1.Deployment)
	squatter := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: rsName(d, "app:v1"), Namespace: "default", Labels: map[string]string{"other": "x"}},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: new(int32(0)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"other": "x"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"other": "x"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x", Image: "x"}}}},
		},
	}
	f.create(squatter)
	if err := f.sync("web"); err == nil {
		t.Fatal("sync succeeded through a name collision")
	}
	got := f.deployment("web")
	if got.Status.CollisionCount == nil || *got.Status.CollisionCount != 1 {
		t.Fatalf("collisionCount %v, want 1", got.Status.CollisionCount)
	}
	f.mustSync("web")
	var mine []string
	for name, rs := range f.replicaSets() {
		if ref := metav1.GetControllerOf(rs); ref != nil && ref.UID == d.UID {
			mine = append(mine, name)
		}
	}
	if len(mine) != 1 || mine[0] == squatter.Name {
		t.Errorf("owned replica sets %v, want one with another name", mine)
	}
}

// A create that fails (not a collision) reports ReplicaSetCreateError.
func TestReplicaSetCreateError(t *testing.T) {
	f := newFixture(t)
	f.create(newDeployment("web", 1, "app:v1"))
	f.dc.store = &failingCreate{Store: f.store, err: errors.New("etcd is down")}
	if err := f.sync("web"); err == nil {
		t.Fatal("sync succeeded without a ReplicaSet")
	}
	d := f.deployment("web")
	name := rsName(d, "app:v1")
	msg := `Failed to create new replica set "` + name + `": etcd is down`
	f.wantEvents("Warning ReplicaSetCreateError " + msg)
	if p := condition(d, appsv1.DeploymentProgressing); p == nil || p.Status != corev1.ConditionFalse ||
		p.Reason != rollouts.FailedRSCreateReason || p.Message != msg {
		t.Errorf("Progressing %+v", p)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
