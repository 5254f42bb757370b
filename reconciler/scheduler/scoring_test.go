package scheduler

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestScorePicks checks which node the default profile prefers when the
// filters leave several.
func TestScorePicks(t *testing.T) {
	const (
		zone = corev1.LabelTopologyZone
		host = corev1.LabelHostname
	)
	two := func(opts ...nodeOpt) []*corev1.Node {
		return []*corev1.Node{testNode("a", "4", "8Gi", append([]nodeOpt{inZone("za")}, opts...)...), testNode("b", "4", "8Gi", inZone("zb"))}
	}
	tests := []struct {
		name   string
		nodes  []*corev1.Node
		placed []*corev1.Pod
		pod    *corev1.Pod
		want   string
	}{
		{"preferred node affinity", two(), nil,
			testPod("p", "", "", preferredNode(10, expr(zone, corev1.NodeSelectorOpIn, "zb"))), "b"},
		{"preferred node affinity: the heavier term wins",
			[]*corev1.Node{testNode("a", "4", "8Gi", withLabel("disk", "ssd")), testNode("b", "4", "8Gi", withLabel("gpu", "yes"))}, nil,
			testPod("p", "", "", preferredNode(10, expr("disk", corev1.NodeSelectorOpExists)), preferredNode(20, expr("gpu", corev1.NodeSelectorOpIn, "yes"))), "b"},
		{"preferred node affinity: terms add up",
			[]*corev1.Node{testNode("a", "4", "8Gi", withLabel("disk", "ssd"), withLabel("gpu", "yes")), testNode("b", "4", "8Gi", withLabel("gpu", "yes"))}, nil,
			testPod("p", "", "", preferredNode(10, expr("disk", corev1.NodeSelectorOpExists)), preferredNode(20, expr("gpu", corev1.NodeSelectorOpIn, "yes"))), "a"},
		{"preferred node affinity Gt",
			[]*corev1.Node{testNode("a", "4", "8Gi", withLabel("cores", "4")), testNode("b", "4", "8Gi", withLabel("cores", "16"))}, nil,
			testPod("p", "", "", preferredNode(10, expr("cores", corev1.NodeSelectorOpGt, "8"))), "b"},
		{"preferred node affinity Lt",
			[]*corev1.Node{testNode("a", "4", "8Gi", withLabel("cores", "4")), testNode("b", "4", "8Gi", withLabel("cores", "16"))}, nil,
			testPod("p", "", "", preferredNode(10, expr("cores", corev1.NodeSelectorOpLt, "8"))), "a"},
		{"preferred node affinity NotIn and DoesNotExist",
			[]*corev1.Node{testNode("a", "4", "8Gi", withLabel("spot", "1")), testNode("b", "4", "8Gi")}, nil,
			testPod("p", "", "", preferredNode(10, expr("spot", corev1.NodeSelectorOpDoesNotExist))), "b"},
		{"preferred node affinity outweighs a little less room",
			two(), []*corev1.Pod{testPod("o", "500m", "512Mi", boundTo("b"))},
			testPod("p", "", "", preferredNode(1, expr(zone, corev1.NodeSelectorOpIn, "zb"))), "b"},
		{"PreferNoSchedule taint avoided", two(withTaint("spot", "true", corev1.TaintEffectPreferNoSchedule)), nil,
			testPod("p", "", ""), "b"},
		{"PreferNoSchedule taint tolerated: least allocated decides",
			two(withTaint("spot", "true", corev1.TaintEffectPreferNoSchedule)), []*corev1.Pod{testPod("o", "2", "4Gi", boundTo("b"))},
			testPod("p", "", "", withToleration(corev1.Toleration{Key: "spot", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectPreferNoSchedule})), "a"},
		{"NoSchedule toleration does not tolerate PreferNoSchedule",
			two(withTaint("spot", "true", corev1.TaintEffectPreferNoSchedule)), []*corev1.Pod{testPod("o", "2", "4Gi", boundTo("b"))},
			testPod("p", "", "", withToleration(corev1.Toleration{Key: "spot", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})), "b"},
		{"fewer PreferNoSchedule taints is better",
			[]*corev1.Node{
				testNode("a", "4", "8Gi", withTaint("x", "", corev1.TaintEffectPreferNoSchedule), withTaint("y", "", corev1.TaintEffectPreferNoSchedule)),
				testNode("b", "4", "8Gi", withTaint("x", "", corev1.TaintEffectPreferNoSchedule)),
			}, []*corev1.Pod{testPod("o", "1", "2Gi", boundTo("b"))}, testPod("p", "", ""), "b"},
		{"preferred pod affinity: the zone of the matching pod", two(),
			[]*corev1.Pod{testPod("db", "1", "2Gi", withPodLabels("app", "db"), boundTo("a"))},
			testPod("p", "", "", preferredAffinity(weighted(10, term(zone, sel("app", "db"))))), "a"},
		{"preferred pod anti-affinity: away from the matching pod", two(),
			[]*corev1.Pod{testPod("db", "", "", withPodLabels("app", "db"), boundTo("b"))},
			testPod("p", "", "", preferredAnti(weighted(10, term(host, sel("app", "db"))))), "a"},
		{"existing pod's preferred anti-affinity pushes the pod away", two(),
			[]*corev1.Pod{testPod("db", "", "", withPodLabels("app", "db"), boundTo("a"),
				preferredAnti(weighted(50, term(host, sel("app", "web")))))},
			testPod("p", "", "", withPodLabels("app", "web")), "b"},
		{"existing pod's preferred affinity pulls the pod", two(),
			[]*corev1.Pod{testPod("db", "1", "2Gi", withPodLabels("app", "db"), boundTo("b"),
				preferredAffinity(weighted(50, term(host, sel("app", "web")))))},
			testPod("p", "", "", withPodLabels("app", "web")), "b"},
		{"existing pod's required affinity pulls the pod (hard weight)", two(),
			[]*corev1.Pod{testPod("db", "1", "2Gi", withPodLabels("app", "db"), boundTo("b"),
				requiredAffinity(term(zone, sel("app", "web"))))},
			testPod("p", "", "", withPodLabels("app", "web")), "b"},
		{"affinity outweighs anti-affinity of lower weight", two(),
			[]*corev1.Pod{
				testPod("db", "", "", withPodLabels("app", "db"), boundTo("a")),
				testPod("cache", "", "", withPodLabels("app", "cache"), boundTo("a")),
			},
			testPod("p", "", "", preferredAffinity(weighted(20, term(zone, sel("app", "db")))),
				preferredAnti(weighted(10, term(zone, sel("app", "cache"))))), "a"},
		{"spreading: away from the controller's pods", two(),
			[]*corev1.Pod{testPod("r1", "", "", ownedBy("rs"), boundTo("a"))},
			testPod("p", "", "", ownedBy("rs")), "b"},
		{"spreading ignores other controllers' pods",
			two(), []*corev1.Pod{testPod("r1", "", "", ownedBy("other"), boundTo("b")), testPod("r2", "", "", ownedBy("rs"), boundTo("b"))},
			testPod("p", "", "", ownedBy("rs")), "a"},
		{"spreading per zone",
			[]*corev1.Node{testNode("a1", "4", "8Gi", inZone("za")), testNode("a2", "4", "8Gi", inZone("za")), testNode("b1", "4", "8Gi", inZone("zb")), testNode("b2", "4", "8Gi", inZone("zb"))},
			[]*corev1.Pod{
				testPod("r1", "", "", ownedBy("rs"), boundTo("a1")), testPod("r2", "", "", ownedBy("rs"), boundTo("a2")),
				testPod("r3", "", "", ownedBy("rs"), boundTo("b1")),
			},
			testPod("p", "", "", ownedBy("rs")), "b2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewAlgorithm(DefaultProfile()).Schedule(podInfo(tt.pod), snapshotOf(tt.nodes, tt.placed...))
			if err != nil || got != tt.want {
				t.Fatalf("Schedule = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestControllerSpreadsAcrossZones schedules a controller's replicas one
// by one: they spread over nodes, and over zones, so the zone with fewer
// nodes gets more per node.
func TestControllerSpreadsAcrossZones(t *testing.T) {
	nodes := []*corev1.Node{
		testNode("a1", "64", "256Gi", inZone("za")), testNode("a2", "64", "256Gi", inZone("za")),
		testNode("a3", "64", "256Gi", inZone("za")), testNode("b1", "64", "256Gi", inZone("zb")),
	}
	snap := snapshotOf(nodes)
	alg := NewAlgorithm(DefaultProfile())
	perNode, perZone := map[string]int{}, map[string]int{}
	for i := range 8 {
		p := testPod(fmt.Sprintf("r%d", i), "10m", "10Mi", ownedBy("rs"))
		node, err := alg.Schedule(podInfo(p), snap)
		if err != nil {
			t.Fatal(err)
		}
		snap.Assume(p.Namespace+"/"+p.Name, p, node)
		perNode[node]++
		perZone[snap.Node(node).Node.Labels[corev1.LabelTopologyZone]]++
	}
	for _, n := range nodes {
		if c := perNode[n.Name]; c < 1 || c > 3 {
			t.Errorf("per node %v: %s has %d, want 1..3", perNode, n.Name, c)
		}
	}
	// Per node alone zb would get 2 of 8; its own zone pulls one more.
	if perZone["zb"] != 3 {
		t.Errorf("per zone %v, want 3 in zb", perZone)
	}
}

// TestRequiredAntiAffinityOnePerNode: a controller with required
// anti-affinity to itself per node fills every node once, then fits no
// more, with upstream's message.
func TestRequiredAntiAffinityOnePerNode(t *testing.T) {
	snap := snapshotOf([]*corev1.Node{testNode("a", "4", "8Gi"), testNode("b", "4", "8Gi"), testNode("c", "4", "8Gi")})
	alg := NewAlgorithm(DefaultProfile())
	var got []string
	for i := range 4 {
		p := testPod(fmt.Sprintf("r%d", i), "", "", withPodLabels("app", "x"), ownedBy("rs"),
			requiredAnti(term(corev1.LabelHostname, sel("app", "x"))))
		node, err := alg.Schedule(podInfo(p), snap)
		if i == 3 {
			want := "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
			if err == nil || err.Error() != want {
				t.Fatalf("4th pod: %q, %v; want %s", node, err, want)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		snap.Assume(p.Namespace+"/"+p.Name, p, node)
		got = append(got, node)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("placed on %v", got)
	}
}

func TestNormalizeScores(t *testing.T) {
	tests := []struct {
		name string
		f    func([]int64)
		in   []int64
		want []int64
	}{
		{"default", func(s []int64) { defaultNormalizeScore(s, false) }, []int64{0, 5, 10}, []int64{0, 50, 100}},
		{"default all zero", func(s []int64) { defaultNormalizeScore(s, false) }, []int64{0, 0}, []int64{0, 0}},
		{"reversed", func(s []int64) { defaultNormalizeScore(s, true) }, []int64{0, 1, 2}, []int64{100, 50, 0}},
		{"reversed all zero", func(s []int64) { defaultNormalizeScore(s, true) }, []int64{0, 0}, []int64{100, 100}},
		{"min-max with negatives", minMaxNormalizeScore, []int64{-10, 0, 10}, []int64{0, 50, 100}},
		{"min-max all equal", minMaxNormalizeScore, []int64{7, 7}, []int64{0, 0}},
		{"spread", func(s []int64) { PodTopologySpread{}.NormalizeScores(nil, nil, s) }, []int64{2, 4, 6}, []int64{100, 66, 33}},
		{"spread all zero", func(s []int64) { PodTopologySpread{}.NormalizeScores(nil, nil, s) }, []int64{0, 0}, []int64{100, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := slices.Clone(tt.in)
			tt.f(s)
			if !slices.Equal(s, tt.want) {
				t.Fatalf("got %v, want %v", s, tt.want)
			}
		})
	}
}
