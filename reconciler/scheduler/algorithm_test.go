package scheduler

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestScheduleFitErrorMessage(t *testing.T) {
	tests := []struct {
		name  string
		nodes []*corev1.Node
		pod   *corev1.Pod
		want  string
	}{
		{"brief's example",
			[]*corev1.Node{
				testNode("a", "1", "1Gi", withLabel("disk", "ssd")),
				testNode("b", "4", "1Gi"),
				testNode("c", "4", "1Gi"),
			},
			testPod("p", "2", "", withSelector("disk", "ssd")),
			"0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."},
		{"several reasons on one node count each",
			[]*corev1.Node{testNode("a", "1", "1Gi"), testNode("b", "1", "1Gi")},
			testPod("p", "2", "2Gi"),
			"0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory."},
		{"first rejecting filter wins per node",
			[]*corev1.Node{
				testNode("a", "1", "1Gi", cordoned()),
				testNode("b", "1", "1Gi", withReady(corev1.ConditionFalse)),
				testNode("c", "1", "1Gi"),
			},
			testPod("p", "2", ""),
			"0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable."},
		{"entries sort as strings, count first",
			func() []*corev1.Node {
				var ns []*corev1.Node
				for _, name := range nodeNames(10, "big-") {
					ns = append(ns, testNode(name, "1", "1Gi", withLabel("x", "y")))
				}
				return append(ns, testNode("other", "8", "8Gi"), testNode("other2", "8", "8Gi"))
			}(),
			testPod("p", "2", "", withSelector("x", "y")),
			"0/12 nodes are available: 10 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewAlgorithm(DefaultProfile()).Schedule(podInfo(tt.pod), snapshotOf(tt.nodes))
			var fe *FitError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FitError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("message\n got %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
}

func TestScheduleNoNodes(t *testing.T) {
	_, err := NewAlgorithm(DefaultProfile()).Schedule(podInfo(testPod("p", "", "")), NewSnapshot())
	if !errors.Is(err, ErrNoNodes) {
		t.Fatalf("err = %v, want ErrNoNodes", err)
	}
}

// rejectAll is a PreFilter that rejects every pod.
type rejectAll struct{}

func (rejectAll) Name() string                           { return "RejectAll" }
func (rejectAll) PreFilter(*CycleState, *PodInfo) string { return "pod is gated" }

func TestSchedulePreFilterMessage(t *testing.T) {
	prof := DefaultProfile()
	prof.PreFilters = []PreFilterPlugin{rejectAll{}}
	_, err := NewAlgorithm(prof).Schedule(podInfo(testPod("p", "", "")),
		snapshotOf([]*corev1.Node{testNode("a", "1", "1Gi"), testNode("b", "1", "1Gi")}))
	if want := "0/2 nodes are available: pod is gated."; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestSchedulePicks(t *testing.T) {
	tests := []struct {
		name  string
		nodes []*corev1.Node
		pods  []*corev1.Pod // already bound
		pod   *corev1.Pod
		want  string
	}{
		{"least allocated wins",
			[]*corev1.Node{testNode("a", "4", "8Gi"), testNode("b", "4", "8Gi")},
			[]*corev1.Pod{testPod("o", "2", "4Gi", boundTo("a"))},
			testPod("p", "1", "1Gi"), "b"},
		{"bigger node wins",
			[]*corev1.Node{testNode("a", "2", "4Gi"), testNode("b", "8", "16Gi")},
			nil, testPod("p", "1", "1Gi"), "b"},
		{"only feasible node wins",
			[]*corev1.Node{testNode("a", "16", "64Gi"), testNode("b", "1", "1Gi", withLabel("gpu", "yes"))},
			nil, testPod("p", "500m", "", withSelector("gpu", "yes")), "b"},
		{"tie goes to the first by name",
			[]*corev1.Node{testNode("b", "4", "8Gi"), testNode("a", "4", "8Gi")},
			nil, testPod("p", "1", "1Gi"), "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewAlgorithm(DefaultProfile()).Schedule(podInfo(tt.pod), snapshotOf(tt.nodes, tt.pods...))
			if err != nil || got != tt.want {
				t.Fatalf("Schedule = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestScheduleSpreads places equal pods on equal nodes: ties go round the
// nodes, and least-allocated keeps them even.
func TestScheduleSpreads(t *testing.T) {
	names := nodeNames(5, "n")
	var nodes []*corev1.Node
	for _, n := range names {
		nodes = append(nodes, testNode(n, "64", "256Gi"))
	}
	snap := snapshotOf(nodes)
	alg := NewAlgorithm(DefaultProfile())
	count := map[string]int{}
	for i := range 50 {
		p := testPod("p"+string(rune('a'+i%26))+string(rune('a'+i/26)), "10m", "1Mi")
		node, err := alg.Schedule(podInfo(p), snap)
		if err != nil {
			t.Fatal(err)
		}
		snap.Assume(p.Namespace+"/"+p.Name, p, node)
		count[node]++
		if i < 5 && node != names[i] {
			t.Errorf("pod %d went to %s, want %s (round-robin over ties)", i, node, names[i])
		}
	}
	for _, n := range names {
		if count[n] != 10 {
			t.Errorf("node %s got %d pods, want 10: %v", n, count[n], count)
		}
	}
}

func TestSnapshotAccounting(t *testing.T) {
	snap := snapshotOf([]*corev1.Node{testNode("a", "4", "8Gi")})
	key := "default/p"
	p := testPod("p", "1", "1Gi")

	snap.Assume(key, p, "a")
	if got := snap.Node("a").Requested.MilliCPU; got != 1000 {
		t.Fatalf("after Assume: %dm requested, want 1000", got)
	}
	// The cache still shows the pod unbound (older than the binding): the
	// assumption stands.
	snap.SetPod(key, p)
	if got := snap.Node("a").Pods; got != 1 {
		t.Fatalf("after a lagging event: %d pods, want 1", got)
	}
	// The binding shows up: counted once.
	bound := p.DeepCopy()
	bound.Spec.NodeName = "a"
	snap.SetPod(key, bound)
	snap.Forget(key) // no effect once confirmed
	if ni := snap.Node("a"); ni.Pods != 1 || ni.Requested.MilliCPU != 1000 {
		t.Fatalf("after confirmation: %d pods, %dm; want 1, 1000", ni.Pods, ni.Requested.MilliCPU)
	}
	// It finishes: its room is free again.
	done := bound.DeepCopy()
	done.Status.Phase = corev1.PodSucceeded
	snap.SetPod(key, done)
	if ni := snap.Node("a"); ni.Pods != 0 || ni.Requested.MilliCPU != 0 || ni.NonZeroMemory != 0 {
		t.Fatalf("after completion: %+v", ni)
	}
	// A failed binding is forgotten.
	snap.Assume(key, p, "a")
	snap.Forget(key)
	if ni := snap.Node("a"); ni.Pods != 0 {
		t.Fatalf("after Forget: %d pods, want 0", ni.Pods)
	}
	// A node that leaves and comes back keeps the pods bound to it.
	snap.SetPod(key, bound)
	snap.RemoveNode("a")
	if snap.Node("a") != nil || len(snap.Nodes()) != 0 {
		t.Fatal("removed node still listed")
	}
	snap.SetNode(testNode("a", "4", "8Gi"))
	if ni := snap.Node("a"); ni == nil || ni.Pods != 1 {
		t.Fatalf("returning node: %+v, want 1 pod", ni)
	}
	snap.RemovePod(key)
	snap.RemoveNode("a")
	if len(snap.nodes) != 0 {
		t.Fatalf("empty snapshot keeps %d node infos", len(snap.nodes))
	}
}
