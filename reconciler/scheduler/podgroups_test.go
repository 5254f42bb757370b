package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestSnapshotPodIndex follows the per-zone count of the pods labelled
// app=db through pod and node changes: what the inter-pod rules read.
func TestSnapshotPodIndex(t *testing.T) {
	const zone = corev1.LabelTopologyZone
	snap := snapshotOf([]*corev1.Node{testNode("a1", "4", "8Gi", inZone("a")), testNode("b1", "4", "8Gi", inZone("b"))})
	count := func(node string) int {
		t.Helper()
		n := 0
		for _, g := range snap.groupList {
			if g.labels["app"] == "db" {
				c, _ := snap.domains(g, zone).at(snap.Node(node))
				n += c
			}
		}
		return n
	}
	check := func(step string, a, b int) {
		t.Helper()
		if ga, gb := count("a1"), count("b1"); ga != a || gb != b {
			t.Fatalf("%s: zone a %d, zone b %d; want %d, %d", step, ga, gb, a, b)
		}
	}
	p1 := testPod("p1", "", "", withPodLabels("app", "db"), boundTo("a1"))
	p2 := testPod("p2", "", "", withPodLabels("app", "db"), boundTo("a1"))
	snap.SetPod("default/p1", p1)
	check("one pod", 1, 0)
	snap.SetPod("default/p2", p2)
	check("two pods, counts kept up to date", 2, 0)
	if len(snap.groupList) != 1 {
		t.Fatalf("%d groups, want 1 for equal pods", len(snap.groupList))
	}
	p3 := testPod("p3", "", "", withPodLabels("app", "db"))
	snap.Assume("default/p3", p3, "b1")
	check("assumed pod counts", 2, 1)
	snap.Forget("default/p3")
	check("forgotten pod does not", 2, 0)

	relabelled := p2.DeepCopy()
	relabelled.Labels["app"] = "web"
	snap.SetPod("default/p2", relabelled)
	check("relabelled pod leaves the group", 1, 0)

	snap.SetNode(testNode("a1", "4", "8Gi", inZone("b")))
	check("node moved to zone b: both nodes see its pod", 1, 1)
	snap.SetNode(testNode("a1", "4", "8Gi"))
	check("node without zone", 0, 0)
	snap.SetNode(testNode("a1", "4", "8Gi", inZone("a")))
	snap.RemovePod("default/p1")
	check("pod removed", 0, 0)
	snap.RemovePod("default/p2")
	if len(snap.groupList) != 0 || len(snap.groups) != 0 || len(snap.withTerms) != 0 {
		t.Fatalf("empty snapshot keeps groups: %d", len(snap.groupList))
	}

	// A node that leaves and comes back gets a node id again.
	snap.RemoveNode("b1")
	snap.SetNode(testNode("c1", "4", "8Gi", inZone("c")))
	snap.SetPod("default/p1", testPod("p1", "", "", withPodLabels("app", "db"), boundTo("c1")))
	if c, _ := snap.domains(snap.groupList[0], zone).at(snap.Node("c1")); c != 1 {
		t.Fatalf("new node: %d, want 1", c)
	}
}
