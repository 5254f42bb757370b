package gitops

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

// TestFailedSyncRevisionPinsNothing: `berth sync --revision` of a revision
// that is refused (here by the prune-all guard) stores no pin, and the
// source follows its branch as before.
func TestFailedSyncRevisionPinsNothing(t *testing.T) {
	e := newEnv(t)
	e.deliver("rev1aaaaaaaa", file("cm.yaml", cmWeb))
	e.src.snapshot("emptyrev0000", file("README.yaml", "# nothing\n"))
	e.deliver("rev2bbbbbbbb", file("cm.yaml", strings.Replace(cmWeb, "hello", "two", 1)))
	_, err := e.c.Sync(e.ctx, "web", "emptyrev", false)
	if err == nil || !strings.Contains(err.Error(), "nothing pinned") {
		t.Errorf("sync --revision of a refused revision: %v", err)
	}
	e.run()
	if pin := e.resource("web").Spec.PinnedRevision; pin != "" {
		t.Fatalf("a refused revision was pinned: %q", pin)
	}
	e.deliver("rev3cccccccc", file("cm.yaml", strings.Replace(cmWeb, "hello", "three", 1)))
	if got := e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap).Data["greeting"]; got != "three" {
		t.Errorf("a new commit after the refused pin: greeting %q, want three", got)
	}
}

// TestPruneAllGuard: a revision that would prune every object of the
// source is refused, whether it declares nothing or only other objects;
// the message says how to allow it, with the revision named once.
func TestPruneAllGuard(t *testing.T) {
	otherCM := strings.Replace(strings.Replace(cmWeb, "web-config", "other", 1), "namespace: shop", "namespace: default", 1)
	keep := withAnnotation(strings.Replace(cmWeb, "web-config", "keep", 1), AnnotationPrune, PruneDisabled)
	for _, tc := range []struct {
		name    string
		first   []sources.File
		next    []sources.File
		refused bool
	}{
		{"empty revision", []sources.File{file("cm.yaml", cmWeb)}, nil, true},
		{"everything replaced", []sources.File{file("ns.yaml", nsShop), file("cm.yaml", cmWeb), file("web.yaml", deployWeb("nginx:1", ""))},
			[]sources.File{file("x.yaml", otherCM)}, true},
		{"some kept", []sources.File{file("cm.yaml", cmWeb), file("keep.yaml", keep)}, []sources.File{file("x.yaml", otherCM)}, false},
		{"some stay", []sources.File{file("cm.yaml", cmWeb), file("x.yaml", otherCM)}, []sources.File{file("x.yaml", otherCM)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.deliver("r1", tc.first...)
			e.deliver("r2", tc.next...)
			ready := condition(e.resource("web"), sources.ConditionReady)
			if got := strings.HasPrefix(ready, "False PruneAllRefused"); got != tc.refused {
				t.Fatalf("refused = %v, want %v: Ready = %q", got, tc.refused, ready)
			}
			if !tc.refused {
				return
			}
			if !e.exists("ConfigMap", "shop", "web-config") {
				t.Error("a refused revision pruned")
			}
			if !strings.Contains(ready, "start the source with --allow-prune-all true") || strings.Contains(ready, "spec.allowPruneAll") {
				t.Errorf("message does not say how to allow it: %q", ready)
			}
			if n := strings.Count(ready, "r2"); n != 1 {
				t.Errorf("revision named %d times: %q", n, ready)
			}
		})
	}
}

// TestKeptObjectReleased: an object annotated berth.io/prune: disabled
// that leaves its source is released: no longer labeled or drift
// corrected, free for another source, and reported.
func TestKeptObjectReleased(t *testing.T) {
	other := newFakeSource("other")
	e := newEnv(t, newFakeSource("web"), other)
	keep := withAnnotation(cmWeb, AnnotationPrune, PruneDisabled)
	cm2 := strings.Replace(cmWeb, "web-config", "cm2", 1)
	e.deliver("r1", file("keep.yaml", keep), file("cm2.yaml", cm2))
	e.deliver("r2", file("cm2.yaml", cm2))
	cm := e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap)
	if _, ok := cm.Labels[LabelSource]; ok {
		t.Errorf("kept object still labeled: %v", cm.Labels)
	}
	for _, a := range []string{AnnotationLastApplied, AnnotationRevision} {
		if _, ok := cm.Annotations[a]; ok {
			t.Errorf("kept object still has %s", a)
		}
	}
	if cm.Annotations[AnnotationPrune] != PruneDisabled {
		t.Error("the user's berth.io/prune annotation was removed")
	}
	if ev := e.events(ReasonKept); len(ev) != 1 {
		t.Errorf("Kept events: %v", e.rec.Events())
	}
	if ev := e.events(ReasonSucceeded); !strings.Contains(ev[len(ev)-1], "1 kept") {
		t.Errorf("summary: %v", ev)
	}
	cm.Data["greeting"] = "now managed by hand"
	if _, err := e.st.Update(e.ctx, cm); err != nil {
		t.Fatal(err)
	}
	e.run()
	if got := e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap).Data["greeting"]; got != "now managed by hand" {
		t.Errorf("a released object was drift-corrected: %q", got)
	}
	e.c.Update("other", other.snapshot("o1", file("cm.yaml", cmWeb)), nil)
	e.run()
	if c := condition(e.resource("other"), sources.ConditionReady); !strings.HasPrefix(c, "True") {
		t.Errorf("another source cannot take a released object: %q", c)
	}
}

// TestSourceNoLongerConfigured: after a rename, the new source adopts the
// objects of the old one (with a warning), and the old Source says it is
// no longer configured.
func TestSourceNoLongerConfigured(t *testing.T) {
	e := newEnv(t, newFakeSource("old"))
	e.deliver("r1", file("cm.yaml", cmWeb))
	if c := condition(e.resource("old"), sources.ConditionReady); !strings.HasPrefix(c, "True") {
		t.Fatalf("old Ready = %q", c)
	}
	e2 := newEnvOn(t, e.st, e.clock, newFakeSource("new"))
	e2.deliver("r1", file("cm.yaml", cmWeb))
	if c := condition(e2.resource("new"), sources.ConditionReady); !strings.HasPrefix(c, "True") {
		t.Errorf("new Ready = %q", c)
	}
	if got := e2.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap).Labels[LabelSource]; got != "new" {
		t.Errorf("label %q, want new", got)
	}
	want := `Warning Adopted adopted from source "old", which is no longer configured on this server`
	if ev := e2.events(ReasonAdopted); len(ev) != 1 || ev[0] != want {
		t.Errorf("events %v, want %q", ev, want)
	}
	c := condition(e2.resource("old"), sources.ConditionReady)
	if !strings.HasPrefix(c, "False NotConfigured") || !strings.Contains(c, "no longer has source \"old\"") || !strings.Contains(c, "DELETE /apis/berth.io/v1/sources/old") {
		t.Errorf("old Ready = %q", c)
	}
	// Another source still configured keeps its objects.
	third := newFakeSource("third")
	e3 := newEnvOn(t, e.st, e.clock, newFakeSource("new"), third)
	e3.c.Update("third", third.snapshot("t1", file("cm.yaml", cmWeb)), nil)
	e3.run()
	if c := condition(e3.resource("third"), sources.ConditionReady); !strings.Contains(c, "Conflict") {
		t.Errorf("a configured source's object was adopted: Ready = %q", c)
	}
}

// TestDriftAgainstAppliedRevision: drift is checked against the revision
// the controller applied, not the object's own annotations or label.
func TestDriftAgainstAppliedRevision(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(cm *corev1.ConfigMap)
	}{
		{"last-applied removed", func(cm *corev1.ConfigMap) {
			delete(cm.Annotations, AnnotationLastApplied)
		}},
		{"last-applied edited", func(cm *corev1.ConfigMap) {
			cm.Annotations[AnnotationLastApplied] = strings.Replace(cm.Annotations[AnnotationLastApplied], "hello", "by hand", 1)
		}},
		{"source label removed", func(cm *corev1.ConfigMap) {
			delete(cm.Labels, LabelSource)
		}},
		{"source label and annotations removed", func(cm *corev1.ConfigMap) {
			cm.Labels, cm.Annotations = nil, nil
		}},
		{"revision annotation edited", func(cm *corev1.ConfigMap) {
			cm.Annotations[AnnotationRevision] = "forged"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.deliver("r1", file("cm.yaml", cmWeb))
			want := e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap)
			cm := want.DeepCopy()
			cm.Data["greeting"] = "by hand"
			tc.edit(cm)
			if _, err := e.st.Update(e.ctx, cm); err != nil {
				t.Fatal(err)
			}
			e.run()
			got := e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap)
			if got.Data["greeting"] != "hello" {
				t.Errorf("drift not corrected: %q", got.Data["greeting"])
			}
			if got.Labels[LabelSource] != "web" || got.Annotations[AnnotationLastApplied] != want.Annotations[AnnotationLastApplied] ||
				got.Annotations[AnnotationRevision] != "r1" {
				t.Errorf("label %v annotations %v not put back", got.Labels, got.Annotations)
			}
			if len(e.events(ReasonDriftCorrected)) != 1 {
				t.Errorf("events %v", e.rec.Events())
			}
		})
	}
}

// TestPeriodicResync: the current revision is applied again every
// ResyncInterval, which puts back drift the watch did not deliver.
func TestPeriodicResync(t *testing.T) {
	clk := newFakeClock()
	st := store.NewMemory(clk)
	t.Cleanup(func() { st.Close() })
	e := newEnvResync(t, st, clk, 10*time.Minute)
	e.c.Update("web", e.src.snapshot("r1", file("cm.yaml", cmWeb)), nil)
	e.step(0)
	if !e.exists("ConfigMap", "shop", "web-config") {
		t.Fatal("not applied")
	}
	// A hand edit whose watch event is lost (a restart of the watch, say):
	// its queued keys are dropped unprocessed.
	cm := e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap)
	cm.Data["greeting"] = "by hand"
	if _, err := e.st.Update(e.ctx, cm); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mgr.Cache().Drain(e.ctx); err != nil {
		t.Fatal(err)
	}
	q := e.mgr.Queue(Name)
	for {
		k, ok := q.Pop()
		if !ok {
			break
		}
		q.Done(k)
	}
	greeting := func() string { return e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap).Data["greeting"] }
	e.step(9 * time.Minute)
	if greeting() != "by hand" {
		t.Fatal("the lost edit was seen; the test does not test the resync")
	}
	e.step(time.Minute)
	if greeting() != "hello" {
		t.Errorf("the periodic apply did not put the drift back: %q", greeting())
	}
	// And again ten minutes later.
	cm = e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap)
	cm.Data["greeting"] = "again"
	if _, err := e.st.Update(e.ctx, cm); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mgr.Cache().Drain(e.ctx); err != nil {
		t.Fatal(err)
	}
	for {
		k, ok := q.Pop()
		if !ok {
			break
		}
		q.Done(k)
	}
	e.step(10 * time.Minute)
	if greeting() != "hello" {
		t.Errorf("second period: %q", greeting())
	}
}

// TestStrategySwitch: a Deployment's strategy follows Git from
// RollingUpdate to Recreate and back, with no rollingUpdate left beside
// Recreate (retainKeys, as Kubernetes patches it).
func TestStrategySwitch(t *testing.T) {
	e := newEnv(t)
	withStrategy := func(s string) string {
		return strings.Replace(deployWeb("nginx:1", ""), "  replicas: 3\n", "  replicas: 3\n"+s, 1)
	}
	for i, tc := range []struct {
		manifest string
		typ      appsv1.DeploymentStrategyType
		surge    string // "" when rollingUpdate must be absent
	}{
		{withStrategy("  strategy:\n    rollingUpdate:\n      maxSurge: 2\n"), appsv1.RollingUpdateDeploymentStrategyType, "2"},
		{withStrategy("  strategy:\n    type: Recreate\n"), appsv1.RecreateDeploymentStrategyType, ""},
		{withStrategy("  strategy:\n    type: RollingUpdate\n"), appsv1.RollingUpdateDeploymentStrategyType, "25%"},
		{withStrategy("  strategy:\n    type: Recreate\n"), appsv1.RecreateDeploymentStrategyType, ""},
		{deployWeb("nginx:1", ""), appsv1.RollingUpdateDeploymentStrategyType, "25%"},
	} {
		e.deliver("r"+string(rune('1'+i)), file("web.yaml", tc.manifest))
		if c := condition(e.resource("web"), sources.ConditionReady); !strings.HasPrefix(c, "True") {
			t.Fatalf("step %d: Ready = %q", i, c)
		}
		s := e.get("Deployment", "shop", "web").(*appsv1.Deployment).Spec.Strategy
		surge := ""
		if s.RollingUpdate != nil && s.RollingUpdate.MaxSurge != nil {
			surge = s.RollingUpdate.MaxSurge.String()
		}
		if s.Type != tc.typ || surge != tc.surge || (tc.surge == "" && s.RollingUpdate != nil) {
			t.Errorf("step %d: strategy %s rollingUpdate %+v, want %s maxSurge %q", i, s.Type, s.RollingUpdate, tc.typ, tc.surge)
		}
	}
}

// TestUpdateStrategyRetainKeys: the same for the updateStrategy of
// DaemonSets and StatefulSets, on the merge itself.
func TestUpdateStrategyRetainKeys(t *testing.T) {
	one := intstr.FromInt32(1)
	for _, tc := range []struct {
		name    string
		live    store.Object
		desired string
		check   func(store.Object) bool
	}{
		{"DaemonSet to OnDelete", &appsv1.DaemonSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: metav1.ObjectMeta{Name: "ds", Namespace: "shop"},
			Spec: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one}}},
		}, `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ds","namespace":"shop"},"spec":{"updateStrategy":{"type":"OnDelete"}}}`,
			func(o store.Object) bool {
				s := o.(*appsv1.DaemonSet).Spec.UpdateStrategy
				return s.Type == appsv1.OnDeleteDaemonSetStrategyType && s.RollingUpdate == nil
			}},
		{"StatefulSet to OnDelete", &appsv1.StatefulSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"},
			Spec: appsv1.StatefulSetSpec{UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
				Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{MaxUnavailable: &one}}},
		}, `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db","namespace":"shop"},"spec":{"updateStrategy":{"type":"OnDelete"}}}`,
			func(o store.Object) bool {
				s := o.(*appsv1.StatefulSet).Spec.UpdateStrategy
				return s.Type == appsv1.OnDeleteStatefulSetStrategyType && s.RollingUpdate == nil
			}},
		{"Deployment to Recreate", &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
			Spec: appsv1.DeploymentSpec{Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &one}}},
		}, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"},"spec":{"strategy":{"type":"Recreate"}}}`,
			func(o store.Object) bool {
				s := o.(*appsv1.Deployment).Spec.Strategy
				return s.Type == appsv1.RecreateDeploymentStrategyType && s.RollingUpdate == nil
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			desired, err := decodeJSONMap([]byte(tc.desired))
			if err != nil {
				t.Fatal(err)
			}
			out, err := mergeObject(tc.live, nil, desired)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(out) {
				b, _ := json.Marshal(out)
				t.Errorf("merged: %s", b)
			}
		})
	}
}

// TestPinHashSpecOnly: the pin holds through revisions that change only
// an object's metadata, and ends with one that changes its spec.
func TestPinHashSpecOnly(t *testing.T) {
	base := deployWeb("nginx:1", "")
	for _, tc := range []struct {
		name   string
		next   string
		lifted bool
	}{
		{"label added", strings.Replace(base, "  name: web\n", "  name: web\n  labels:\n    chart: web-1.2.4\n", 1), false},
		{"annotation added", withAnnotation(base, "team", "shop"), false},
		{"same manifest", base, false},
		{"image changed", deployWeb("nginx:2", ""), true},
		{"replicas changed", strings.Replace(base, "replicas: 3", "replicas: 4", 1), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.deliver("r1", file("web.yaml", base))
			d := e.get("Deployment", "shop", "web").(*appsv1.Deployment)
			d.Spec.Template.Spec.Containers[0].Image = "nginx:0"
			d.Annotations[AnnotationPinned] = PinHash(d.Annotations[AnnotationLastApplied])
			if _, err := e.st.Update(e.ctx, d); err != nil {
				t.Fatal(err)
			}
			e.run()
			e.deliver("r2", file("web.yaml", tc.next))
			d = e.get("Deployment", "shop", "web").(*appsv1.Deployment)
			lifted := d.Annotations[AnnotationPinned] == ""
			if lifted != tc.lifted || (d.Spec.Template.Spec.Containers[0].Image == "nginx:0") == tc.lifted {
				t.Errorf("lifted %v (image %s), want lifted %v", lifted, d.Spec.Template.Spec.Containers[0].Image, tc.lifted)
			}
		})
	}
	a := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"1"}},"data":{"k":"v"}}`
	b := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}`
	c := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"w"}}`
	if PinHash(a) != PinHash(b) || PinHash(b) == PinHash(c) {
		t.Error("PinHash does not hash the spec alone")
	}
	if !pinHolds(legacyPinHash(b), b) {
		t.Error("a pin of an earlier version (whole-manifest hash) no longer holds")
	}
}

// TestNamespaceNotPrunedWhileNotEmpty: a Namespace that left the source
// is not pruned while objects stay in it after the apply.
func TestNamespaceNotPrunedWhileNotEmpty(t *testing.T) {
	keep := withAnnotation(cmWeb, AnnotationPrune, PruneDisabled)
	for _, tc := range []struct {
		name     string
		first    []sources.File
		next     []sources.File
		byHand   bool
		nsPruned bool
	}{
		{"objects still declared", []sources.File{file("ns.yaml", nsShop), file("cm.yaml", cmWeb)}, []sources.File{file("cm.yaml", cmWeb)}, false, false},
		{"object kept", []sources.File{file("ns.yaml", nsShop), file("cm.yaml", keep), file("x.yaml", deployWeb("nginx:1", ""))},
			[]sources.File{file("x.yaml", strings.Replace(deployWeb("nginx:1", ""), "namespace: shop", "namespace: default", 1))}, false, false},
		{"object made by hand", []sources.File{file("ns.yaml", nsShop), file("x.yaml", strings.Replace(cmWeb, "namespace: shop", "namespace: default", 1))},
			[]sources.File{file("x.yaml", strings.Replace(cmWeb, "namespace: shop", "namespace: default", 1))}, true, false},
		{"everything in it pruned", []sources.File{file("ns.yaml", nsShop), file("cm.yaml", cmWeb), file("x.yaml", strings.Replace(cmWeb, "namespace: shop", "namespace: default", 1))},
			[]sources.File{file("x.yaml", strings.Replace(cmWeb, "namespace: shop", "namespace: default", 1))}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.deliver("r1", tc.first...)
			if tc.byHand {
				cm := &corev1.ConfigMap{ObjectMeta: metav1ObjectMeta("hand", "shop", nil)}
				if _, err := e.st.Create(e.ctx, cm); err != nil {
					t.Fatal(err)
				}
			}
			e.deliver("r2", tc.next...)
			if c := condition(e.resource("web"), sources.ConditionReady); !strings.HasPrefix(c, "True") {
				t.Fatalf("Ready = %q", c)
			}
			if pruned := !e.exists("Namespace", "", "shop"); pruned != tc.nsPruned {
				t.Fatalf("Namespace pruned %v, want %v", pruned, tc.nsPruned)
			}
			if ev := e.events(ReasonNamespaceKept); (len(ev) == 0) != tc.nsPruned {
				t.Errorf("NamespaceNotEmpty events: %v", ev)
			}
		})
	}
}

// TestTerminatingPodNotPrunedAgain: a pruned Pod that is stopping on its
// node is not pruned again by the next revisions.
func TestTerminatingPodNotPrunedAgain(t *testing.T) {
	const pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: one\n  namespace: shop\nspec:\n  containers:\n  - name: c\n    image: busybox\n"
	e := newEnv(t)
	if _, err := e.st.Create(e.ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}); err != nil {
		t.Fatal(err)
	}
	e.deliver("r1", file("cm.yaml", cmWeb), file("pod.yaml", pod))
	p := e.get("Pod", "shop", "one").(*corev1.Pod)
	p.Spec.NodeName = "n1"
	p.Status.Phase = corev1.PodRunning
	if _, err := e.st.Update(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	e.run()
	e.deliver("r2", file("cm.yaml", cmWeb))
	if p := e.get("Pod", "shop", "one").(*corev1.Pod); p.DeletionTimestamp == nil {
		t.Fatal("the pod was not pruned (gracefully)")
	}
	// `berth diff` does not show it as to be pruned either.
	if diffs, err := e.c.Diff(e.ctx, "web"); err != nil || len(diffs) != 0 {
		t.Errorf("diff after the prune: %v %+v", err, diffs)
	}
	// The same revision again (the periodic apply), then a new one.
	applied := e.resource("web").Status.LastAppliedTime
	e.clock.Step(time.Minute)
	e.deliver("r2", file("cm.yaml", cmWeb))
	if !e.resource("web").Status.LastAppliedTime.Equal(applied) {
		t.Error("lastAppliedTime moved: the terminating pod was pruned again")
	}
	e.deliver("r3", file("cm.yaml", cmWeb))
	ev := e.events(ReasonSucceeded)
	if !strings.HasSuffix(ev[len(ev)-1], "no changes") || strings.Count(strings.Join(ev, "\n"), "pruned") != 1 {
		t.Errorf("events: %v", ev)
	}
}

// TestRefreshStatusIncremental: a status refresh recomputes only the
// entries of objects that changed, does not wait for the GitOps lock,
// and writes nothing when nothing changed.
func TestRefreshStatusIncremental(t *testing.T) {
	e := newEnv(t)
	e.deliver("r1", file("cm.yaml", cmWeb), file("web.yaml", deployWeb("nginx:1", "")))
	entry := func(kind string) sources.ResourceStatus {
		for _, r := range e.resource("web").Status.Resources {
			if r.Kind == kind {
				return r
			}
		}
		t.Fatalf("no %s entry", kind)
		return sources.ResourceStatus{}
	}
	if h := entry("Deployment").Health; h != sources.HealthProgressing {
		t.Fatalf("health %q", h)
	}
	// The Deployment becomes available (a status write): its health moves.
	d := e.get("Deployment", "shop", "web").(*appsv1.Deployment)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}
	if _, err := e.st.Update(e.ctx, d); err != nil {
		t.Fatal(err)
	}
	// The refresh runs while an apply holds the lock.
	e.c.lock.Lock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.run()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		e.c.lock.Unlock()
		<-done
		t.Fatal("the status refresh waited for the GitOps lock")
	}
	e.c.lock.Unlock()
	if h := entry("Deployment"); h.Health != sources.HealthHealthy || h.Sync != sources.SyncSynced {
		t.Errorf("Deployment entry %+v", h)
	}
	// Nothing changed: nothing written.
	rv := e.storeVersion()
	e.c.mu.Lock()
	e.c.state["web"].dirty = map[objectKey]bool{{Kind: "ConfigMap", Namespace: "shop", Name: "web-config"}: true}
	e.c.mu.Unlock()
	if err := e.c.refreshStatus(e.ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if e.storeVersion() != rv {
		t.Error("a refresh that changed nothing wrote the Source")
	}
	// Deleted: Missing (the source re-creates it).
	if err := e.st.Delete(e.ctx, "ConfigMap", "shop", "web-config", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.mgr.Cache().Drain(e.ctx)
	if err := e.c.refreshStatus(e.ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if c := entry("ConfigMap"); c.Health != sources.HealthMissing || c.Sync != sources.SyncOutOfSync {
		t.Errorf("deleted ConfigMap entry %+v", c)
	}
	e.run()
	if c := entry("ConfigMap"); c.Health != "" || c.Sync != sources.SyncSynced {
		t.Errorf("re-created ConfigMap entry %+v", c)
	}
}

// TestApplyFailedIsRetried: an apply that fails for a reason other than
// the revision (here, a merge error on one read) says Reconciling
// ProgressingWithRetry, and is retried.
func TestApplyFailedIsRetried(t *testing.T) {
	clk := newFakeClock()
	inner := store.NewMemory(clk)
	t.Cleanup(func() { inner.Close() })
	hs := &hookStore{Store: inner}
	failures := 3 // more than the attempts that events alone queue
	hs.get = func(kind, ns, name string) store.Object {
		if kind != "ConfigMap" || name != "web-config" || failures == 0 {
			return nil
		}
		failures--
		// A Secret where the ConfigMap is: its data cannot take the
		// ConfigMap's (not base64), so the merge fails.
		return &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: metav1ObjectMeta("web-config", "shop", nil)}
	}
	e := newEnvOn(t, hs, clk)
	e.c.Update("web", e.src.snapshot("r1", file("cm.yaml", cmWeb)), nil)
	e.mgr.Step(e.ctx)
	res := e.resource("web")
	if c := condition(res, sources.ConditionReconciling); !strings.HasPrefix(c, "True ProgressingWithRetry") {
		t.Fatalf("Reconciling = %q (Ready %q)", c, condition(res, sources.ConditionReady))
	}
	e.run()
	if !e.exists("ConfigMap", "shop", "web-config") {
		t.Error("the failed apply was not retried")
	}
	if c := condition(e.resource("web"), sources.ConditionReady); !strings.HasPrefix(c, "True") {
		t.Errorf("Ready = %q", c)
	}
}

// TestPruneRecheckedInTransaction: an object opted out of pruning between
// the plan and its transaction is kept, not deleted.
func TestPruneRecheckedInTransaction(t *testing.T) {
	clk := newFakeClock()
	inner := store.NewMemory(clk)
	t.Cleanup(func() { inner.Close() })
	hs := &hookStore{Store: inner}
	e := newEnvOn(t, hs, clk)
	cm2 := strings.Replace(cmWeb, "web-config", "cm2", 1)
	e.deliver("r1", file("cm.yaml", cmWeb), file("cm2.yaml", cm2))
	hs.mu.Lock()
	hs.beforeTxn = func() {
		obj, err := inner.Get(context.Background(), "ConfigMap", "shop", "web-config")
		if err != nil {
			t.Error(err)
			return
		}
		cm := obj.(*corev1.ConfigMap)
		cm.Annotations[AnnotationPrune] = PruneDisabled
		if _, err := inner.Update(context.Background(), cm); err != nil {
			t.Error(err)
		}
	}
	hs.mu.Unlock()
	e.deliver("r2", file("cm2.yaml", cm2))
	if !e.exists("ConfigMap", "shop", "web-config") {
		t.Fatal("an object opted out of pruning meanwhile was deleted")
	}
	if ev := e.events(ReasonSucceeded); strings.Contains(ev[len(ev)-1], "pruned") || !strings.Contains(ev[len(ev)-1], "1 kept") {
		t.Errorf("summary: %v", ev)
	}
}
