package scheduler

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestInterPodAffinityFilter(t *testing.T) {
	const (
		aff   = ReasonAffinityRulesNotMatch
		anti  = ReasonAntiAffinityRulesNotMatch
		exist = ReasonExistingAntiAffinityNotMatch
		zone  = corev1.LabelTopologyZone
		host  = corev1.LabelHostname
	)
	db := func(node string, opts ...podOpt) *corev1.Pod {
		return testPod("db-"+node, "", "", append([]podOpt{withPodLabels("app", "db"), boundTo(node)}, opts...)...)
	}
	tests := []struct {
		name   string
		placed []*corev1.Pod
		pod    *corev1.Pod
		want   map[string]string // a1, a2, b1, n0
	}{
		{"no rules", []*corev1.Pod{db("a1")}, testPod("p", "", ""),
			map[string]string{"a1": "", "a2": "", "b1": "", "n0": ""}},
		{"required affinity: the zone of a matching pod; nodes without the key fail",
			[]*corev1.Pod{db("a1")}, testPod("p", "", "", requiredAffinity(term(zone, sel("app", "db")))),
			map[string]string{"a1": "", "a2": "", "b1": aff, "n0": aff}},
		{"required affinity per hostname",
			[]*corev1.Pod{db("a1")}, testPod("p", "", "", requiredAffinity(term(host, sel("app", "db")))),
			map[string]string{"a1": "", "a2": aff, "b1": aff, "n0": aff}},
		{"required affinity: terms ANDed on one pod",
			[]*corev1.Pod{db("a1"), testPod("web", "", "", withPodLabels("app", "web"), boundTo("b1"))},
			testPod("p", "", "", requiredAffinity(term(zone, sel("app", "db")), term(zone, sel("app", "web")))),
			map[string]string{"a1": aff, "a2": aff, "b1": aff, "n0": aff}},
		{"required affinity: no match anywhere, pod matches itself: first of its kind",
			nil, testPod("p", "", "", withPodLabels("app", "db"), requiredAffinity(term(zone, sel("app", "db")))),
			map[string]string{"a1": "", "a2": "", "b1": "", "n0": aff}},
		{"required affinity: no match anywhere, pod does not match itself",
			nil, testPod("p", "", "", requiredAffinity(term(zone, sel("app", "db")))),
			map[string]string{"a1": aff, "a2": aff, "b1": aff, "n0": aff}},
		{"required affinity: a match exists, so no self exception",
			[]*corev1.Pod{db("a1")}, testPod("p", "", "", withPodLabels("app", "db"), requiredAffinity(term(zone, sel("app", "db")))),
			map[string]string{"a1": "", "a2": "", "b1": aff, "n0": aff}},
		{"required affinity: other namespace does not count by default",
			[]*corev1.Pod{db("a1", inNamespace("other"))}, testPod("p", "", "", requiredAffinity(term(zone, sel("app", "db")))),
			map[string]string{"a1": aff, "a2": aff, "b1": aff, "n0": aff}},
		{"required affinity: namespaces list",
			[]*corev1.Pod{db("a1", inNamespace("other"))},
			testPod("p", "", "", requiredAffinity(corev1.PodAffinityTerm{LabelSelector: sel("app", "db"), TopologyKey: zone, Namespaces: []string{"other"}})),
			map[string]string{"a1": "", "a2": "", "b1": aff, "n0": aff}},
		{"required affinity: empty namespaceSelector selects all namespaces",
			[]*corev1.Pod{db("b1", inNamespace("other"))},
			testPod("p", "", "", requiredAffinity(corev1.PodAffinityTerm{LabelSelector: sel("app", "db"), TopologyKey: zone, NamespaceSelector: &metav1.LabelSelector{}})),
			map[string]string{"a1": aff, "a2": aff, "b1": "", "n0": aff}},
		{"required affinity: nil labelSelector selects nothing",
			[]*corev1.Pod{db("a1")}, testPod("p", "", "", requiredAffinity(term(zone, nil))),
			map[string]string{"a1": aff, "a2": aff, "b1": aff, "n0": aff}},
		{"required affinity: empty labelSelector selects every pod",
			[]*corev1.Pod{db("b1")}, testPod("p", "", "", requiredAffinity(term(zone, &metav1.LabelSelector{}))),
			map[string]string{"a1": aff, "a2": aff, "b1": "", "n0": aff}},
		{"selector In", []*corev1.Pod{db("b1")},
			testPod("p", "", "", requiredAffinity(term(zone, selExpr("app", metav1.LabelSelectorOpIn, "db", "cache")))),
			map[string]string{"a1": aff, "a2": aff, "b1": "", "n0": aff}},
		{"selector NotIn", []*corev1.Pod{db("b1"), testPod("c", "", "", withPodLabels("app", "cache"), boundTo("a1"))},
			testPod("p", "", "", requiredAffinity(term(zone, selExpr("app", metav1.LabelSelectorOpNotIn, "db")))),
			map[string]string{"a1": "", "a2": "", "b1": aff, "n0": aff}},
		{"selector Exists", []*corev1.Pod{db("b1")},
			testPod("p", "", "", requiredAffinity(term(zone, selExpr("app", metav1.LabelSelectorOpExists)))),
			map[string]string{"a1": aff, "a2": aff, "b1": "", "n0": aff}},
		{"selector DoesNotExist", []*corev1.Pod{db("b1"), testPod("x", "", "", boundTo("a2"))},
			testPod("p", "", "", requiredAffinity(term(zone, selExpr("app", metav1.LabelSelectorOpDoesNotExist)))),
			map[string]string{"a1": "", "a2": "", "b1": aff, "n0": aff}},
		{"required anti-affinity per hostname", []*corev1.Pod{db("a1")},
			testPod("p", "", "", requiredAnti(term(host, sel("app", "db")))),
			map[string]string{"a1": anti, "a2": "", "b1": "", "n0": ""}},
		{"required anti-affinity per zone; nodes without the key pass", []*corev1.Pod{db("a1")},
			testPod("p", "", "", requiredAnti(term(zone, sel("app", "db")))),
			map[string]string{"a1": anti, "a2": anti, "b1": "", "n0": ""}},
		{"required anti-affinity: any term", []*corev1.Pod{db("a1"), testPod("web", "", "", withPodLabels("app", "web"), boundTo("b1"))},
			testPod("p", "", "", requiredAnti(term(host, sel("app", "db")), term(host, sel("app", "web")))),
			map[string]string{"a1": anti, "a2": "", "b1": anti, "n0": ""}},
		{"existing pod's anti-affinity keeps the pod out of its zone",
			[]*corev1.Pod{db("a1", requiredAnti(term(zone, sel("app", "web"))))},
			testPod("p", "", "", withPodLabels("app", "web")),
			map[string]string{"a1": exist, "a2": exist, "b1": "", "n0": ""}},
		{"existing pod's anti-affinity: another namespace is not selected",
			[]*corev1.Pod{db("a1", requiredAnti(term(zone, sel("app", "web"))))},
			testPod("p", "", "", withPodLabels("app", "web"), inNamespace("other")),
			map[string]string{"a1": "", "a2": "", "b1": "", "n0": ""}},
		{"affinity checked before anti-affinity",
			[]*corev1.Pod{db("a1")},
			testPod("p", "", "", requiredAffinity(term(zone, sel("app", "db"))), requiredAnti(term(host, sel("app", "db")))),
			map[string]string{"a1": anti, "a2": "", "b1": aff, "n0": aff}},
		{"terminal pods do not count", []*corev1.Pod{db("a1", inPhase(corev1.PodSucceeded))},
			testPod("p", "", "", requiredAnti(term(host, sel("app", "db")))),
			map[string]string{"a1": "", "a2": "", "b1": "", "n0": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := interPodFilter(zonedNodes(), tt.placed, tt.pod)
			if !maps.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestFitErrorMessageInterPod(t *testing.T) {
	nodes := []*corev1.Node{
		testNode("a", "4", "8Gi", inZone("a")),
		testNode("b", "4", "8Gi", inZone("b")),
		testNode("c", "4", "8Gi", inZone("c"), withTaint("k", "v", corev1.TaintEffectNoSchedule)),
	}
	placed := []*corev1.Pod{
		testPod("db", "", "", withPodLabels("app", "db"), boundTo("a")),
		testPod("web", "", "", withPodLabels("app", "web"), boundTo("a")),
	}
	pod := testPod("p", "", "", withPodLabels("app", "web"),
		requiredAffinity(term(corev1.LabelTopologyZone, sel("app", "db"))),
		requiredAnti(term(corev1.LabelHostname, sel("app", "web"))))
	_, err := NewAlgorithm(DefaultProfile()).Schedule(podInfo(pod), snapshotOf(nodes, placed...))
	want := "0/3 nodes are available: 1 node(s) didn't match pod affinity rules, 1 node(s) didn't match pod anti-affinity rules, 1 node(s) had untolerated taint {k: v}."
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}
