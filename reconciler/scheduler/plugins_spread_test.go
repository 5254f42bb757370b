package scheduler

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func terminating(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: time.Unix(1e9, 0)} }

func setPods(s *Snapshot, pods ...*corev1.Pod) {
	for _, p := range pods {
		s.SetPod(p.Namespace+"/"+p.Name, p)
	}
}

func wantSchedule(t *testing.T, step string, snap *Snapshot, pod *corev1.Pod, want string) {
	t.Helper()
	if got, err := NewAlgorithm(DefaultProfile()).Schedule(podInfo(pod), snap); err != nil || got != want {
		t.Fatalf("%s: Schedule = %q, %v; want %q", step, got, err, want)
	}
}

// TestSpreadSkipsTerminatingPods: default spreading does not count the
// controller's terminating pods (as upstream's countPodsMatchSelector),
// also when a counted pod becomes terminating; inter-pod anti-affinity
// still counts them.
func TestSpreadSkipsTerminatingPods(t *testing.T) {
	nodes := []*corev1.Node{testNode("a", "4", "8Gi", inZone("za")), testNode("b", "4", "8Gi", inZone("zb"))}
	snap := snapshotOf(nodes)
	r1 := testPod("r1", "", "", ownedBy("rs"), withPodLabels("app", "x"), boundTo("a"))
	r2 := testPod("r2", "", "", ownedBy("rs"), withPodLabels("app", "x"), boundTo("a"))
	r3 := testPod("r3", "", "", ownedBy("rs"), withPodLabels("app", "x"), boundTo("b"))
	setPods(snap, r1, r2, r3)
	p := testPod("p", "", "", ownedBy("rs"), withPodLabels("app", "x"))
	wantSchedule(t, "all running", snap, p, "b")

	// Node a went unreachable: its pods were evicted and stay terminating.
	for _, r := range []*corev1.Pod{r1, r2} {
		r = r.DeepCopy()
		terminating(r)
		setPods(snap, r)
	}
	wantSchedule(t, "a's pods terminating", snap, p, "a")

	fresh := snapshotOf(nodes, r3)
	for _, r := range []*corev1.Pod{r1, r2} {
		r = r.DeepCopy()
		terminating(r)
		setPods(fresh, r)
	}
	wantSchedule(t, "terminating from the start", fresh, p, "a")

	anti := testPod("anti", "", "", ownedBy("rs"), withPodLabels("app", "x"),
		requiredAnti(term(corev1.LabelHostname, sel("app", "x"))))
	bOnly := snapshotOf(nodes)
	gone := testPod("g", "", "", withPodLabels("app", "x"), boundTo("b"), terminating)
	setPods(bOnly, gone)
	wantSchedule(t, "anti-affinity counts a terminating pod", bOnly, anti, "a")
}

// TestSpreadFollowsControllerChange: a pod orphaned or adopted by a
// controller changes group, and spreading counts it with its controller
// of the moment.
func TestSpreadFollowsControllerChange(t *testing.T) {
	nodes := []*corev1.Node{testNode("a", "4", "8Gi", inZone("za")), testNode("b", "4", "8Gi", inZone("zb"))}
	p := testPod("p", "", "", ownedBy("rs"), withPodLabels("app", "x"))

	t.Run("orphaned", func(t *testing.T) {
		r1 := testPod("r1", "", "", ownedBy("rs"), withPodLabels("app", "x"), boundTo("a"))
		r2 := testPod("r2", "", "", ownedBy("rs"), withPodLabels("app", "x"), boundTo("a"))
		r3 := testPod("r3", "", "", ownedBy("rs"), withPodLabels("app", "x"), boundTo("b"))
		snap := snapshotOf(nodes, r1, r2, r3)
		wantSchedule(t, "owned", snap, p, "b")
		for _, r := range []*corev1.Pod{r1, r2} {
			r = r.DeepCopy()
			r.OwnerReferences = nil
			setPods(snap, r)
			if g := snap.pods["default/"+r.Name].group; g.controller != "" {
				t.Fatalf("orphaned %s still in a group of controller %q", r.Name, g.controller)
			}
		}
		wantSchedule(t, "a's pods orphaned", snap, p, "a")
	})
	t.Run("adopted", func(t *testing.T) {
		r1 := testPod("r1", "", "", withPodLabels("app", "x"), boundTo("b"))
		r2 := testPod("r2", "", "", withPodLabels("app", "x"), boundTo("b"))
		r3 := testPod("r3", "", "", ownedBy("rs"), withPodLabels("app", "x"), boundTo("a"))
		snap := snapshotOf(nodes, r1, r2, r3)
		wantSchedule(t, "orphans", snap, p, "b")
		for _, r := range []*corev1.Pod{r1, r2} {
			r = r.DeepCopy()
			ownedBy("rs")(r)
			setPods(snap, r)
		}
		wantSchedule(t, "b's pods adopted", snap, p, "a")
	})
}
