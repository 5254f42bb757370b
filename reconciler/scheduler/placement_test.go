package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func withAffinity(terms ...corev1.NodeSelectorTerm) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms},
		}}
	}
}

func expr(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func nameField(op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: op, Values: values}}}
}

func withTaint(key, value string, effect corev1.TaintEffect) nodeOpt {
	return func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	}
}

func TestNodeAffinityFilter(t *testing.T) {
	node := testNode("n1", "1", "1Gi", withLabel("zone", "a"), withLabel("cores", "8"))
	tests := []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{"no affinity", testPod("p", "", ""), true},
		{"In matches", testPod("p", "", "", withAffinity(expr("zone", corev1.NodeSelectorOpIn, "a", "b"))), true},
		{"In misses", testPod("p", "", "", withAffinity(expr("zone", corev1.NodeSelectorOpIn, "b"))), false},
		{"In without values is invalid", testPod("p", "", "", withAffinity(expr("zone", corev1.NodeSelectorOpIn))), false},
		{"NotIn of another value", testPod("p", "", "", withAffinity(expr("zone", corev1.NodeSelectorOpNotIn, "b"))), true},
		{"NotIn of an absent label", testPod("p", "", "", withAffinity(expr("disk", corev1.NodeSelectorOpNotIn, "ssd"))), true},
		{"NotIn of its value", testPod("p", "", "", withAffinity(expr("zone", corev1.NodeSelectorOpNotIn, "a"))), false},
		{"Exists", testPod("p", "", "", withAffinity(expr("zone", corev1.NodeSelectorOpExists))), true},
		{"DoesNotExist", testPod("p", "", "", withAffinity(expr("zone", corev1.NodeSelectorOpDoesNotExist))), false},
		{"Gt", testPod("p", "", "", withAffinity(expr("cores", corev1.NodeSelectorOpGt, "4"))), true},
		{"Gt equal", testPod("p", "", "", withAffinity(expr("cores", corev1.NodeSelectorOpGt, "8"))), false},
		{"Lt", testPod("p", "", "", withAffinity(expr("cores", corev1.NodeSelectorOpLt, "16"))), true},
		{"Gt not a number", testPod("p", "", "", withAffinity(expr("cores", corev1.NodeSelectorOpGt, "x"))), false},
		{"Gt of a label that is not a number", testPod("p", "", "", withAffinity(expr("zone", corev1.NodeSelectorOpGt, "1"))), false},
		{"terms ORed", testPod("p", "", "", withAffinity(expr("zone", corev1.NodeSelectorOpIn, "b"), expr("cores", corev1.NodeSelectorOpExists))), true},
		{"expressions ANDed", testPod("p", "", "", withAffinity(corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}},
			{Key: "disk", Operator: corev1.NodeSelectorOpExists},
		}})), false},
		{"empty term matches nothing", testPod("p", "", "", withAffinity(corev1.NodeSelectorTerm{})), false},
		{"no terms match nothing", testPod("p", "", "", withAffinity()), false},
		{"matchFields name In", testPod("p", "", "", withAffinity(nameField(corev1.NodeSelectorOpIn, "n1"))), true},
		{"matchFields name In another", testPod("p", "", "", withAffinity(nameField(corev1.NodeSelectorOpIn, "n2"))), false},
		{"matchFields name NotIn", testPod("p", "", "", withAffinity(nameField(corev1.NodeSelectorOpNotIn, "n2"))), true},
		{"matchFields two values invalid", testPod("p", "", "", withAffinity(nameField(corev1.NodeSelectorOpIn, "n1", "n2"))), false},
		{"matchFields Exists invalid", testPod("p", "", "", withAffinity(nameField(corev1.NodeSelectorOpExists, "n1"))), false},
		{"selector and affinity ANDed", testPod("p", "", "", withSelector("zone", "b"), withAffinity(expr("zone", corev1.NodeSelectorOpExists))), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NodeAffinity{}.Filter(nil, podInfo(tt.pod), &NodeInfo{Node: node, Name: node.Name})
			if (got == nil) != tt.want {
				t.Fatalf("Filter = %v, want fits=%v", got, tt.want)
			}
			if got != nil && got[0] != ReasonNodeSelector {
				t.Fatalf("reason %q", got[0])
			}
		})
	}
}

func TestTaintTolerationFilter(t *testing.T) {
	tol := func(key, value string, op corev1.TolerationOperator, effect corev1.TaintEffect) podOpt {
		return withToleration(corev1.Toleration{Key: key, Value: value, Operator: op, Effect: effect})
	}
	tests := []struct {
		name string
		node *corev1.Node
		pod  *corev1.Pod
		want string // "" fits
	}{
		{"no taints", testNode("n", "1", "1Gi"), testPod("p", "", ""), ""},
		{"NoSchedule untolerated", testNode("n", "1", "1Gi", withTaint("dedicated", "infra", corev1.TaintEffectNoSchedule)), testPod("p", "", ""),
			"node(s) had untolerated taint {dedicated: infra}"},
		{"NoExecute untolerated", testNode("n", "1", "1Gi", withTaint("evict", "", corev1.TaintEffectNoExecute)), testPod("p", "", ""),
			"node(s) had untolerated taint {evict: }"},
		{"PreferNoSchedule does not filter", testNode("n", "1", "1Gi", withTaint("soft", "x", corev1.TaintEffectPreferNoSchedule)), testPod("p", "", ""), ""},
		{"Equal toleration", testNode("n", "1", "1Gi", withTaint("dedicated", "infra", corev1.TaintEffectNoSchedule)),
			testPod("p", "", "", tol("dedicated", "infra", corev1.TolerationOpEqual, corev1.TaintEffectNoSchedule)), ""},
		{"Equal toleration of another value", testNode("n", "1", "1Gi", withTaint("dedicated", "infra", corev1.TaintEffectNoSchedule)),
			testPod("p", "", "", tol("dedicated", "web", corev1.TolerationOpEqual, "")), "node(s) had untolerated taint {dedicated: infra}"},
		{"Exists toleration of any effect", testNode("n", "1", "1Gi", withTaint("dedicated", "infra", corev1.TaintEffectNoExecute)),
			testPod("p", "", "", tol("dedicated", "", corev1.TolerationOpExists, "")), ""},
		{"toleration of another effect", testNode("n", "1", "1Gi", withTaint("dedicated", "infra", corev1.TaintEffectNoExecute)),
			testPod("p", "", "", tol("dedicated", "", corev1.TolerationOpExists, corev1.TaintEffectNoSchedule)), "node(s) had untolerated taint {dedicated: infra}"},
		{"empty key Exists tolerates all", testNode("n", "1", "1Gi", withTaint("a", "1", corev1.TaintEffectNoSchedule), withTaint("b", "2", corev1.TaintEffectNoExecute)),
			testPod("p", "", "", tol("", "", corev1.TolerationOpExists, "")), ""},
		{"first untolerated named", testNode("n", "1", "1Gi", withTaint("a", "1", corev1.TaintEffectNoSchedule), withTaint("b", "2", corev1.TaintEffectNoExecute)),
			testPod("p", "", "", tol("a", "", corev1.TolerationOpExists, "")), "node(s) had untolerated taint {b: 2}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TaintToleration{}.Filter(nil, podInfo(tt.pod), &NodeInfo{Node: tt.node, Name: tt.node.Name})
			if tt.want == "" && got != nil || tt.want != "" && (len(got) != 1 || got[0] != tt.want) {
				t.Fatalf("Filter = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPlacePod(t *testing.T) {
	exists := corev1.TolerationOpExists
	tests := []struct {
		name string
		node *corev1.Node
		pod  *corev1.Pod
		want Placement
	}{
		{"fits", testNode("n", "1", "1Gi"), testPod("p", "", ""), Placement{Schedule: true, KeepRunning: true}},
		{"other node name", testNode("n", "1", "1Gi"), testPod("p", "", "", boundTo("m")), Placement{Reason: ReasonNodeName}},
		{"affinity", testNode("n", "1", "1Gi"), testPod("p", "", "", withSelector("zone", "a")), Placement{Reason: ReasonNodeSelector}},
		{"NoSchedule taint: may stay", testNode("n", "1", "1Gi", withTaint("k", "v", corev1.TaintEffectNoSchedule)), testPod("p", "", ""),
			Placement{KeepRunning: true, Reason: "node(s) had untolerated taint {k: v}"}},
		{"NoExecute taint: must go", testNode("n", "1", "1Gi", withTaint("k", "v", corev1.TaintEffectNoExecute)), testPod("p", "", ""),
			Placement{Reason: "node(s) had untolerated taint {k: v}"}},
		{"NoExecute tolerated, NoSchedule not", testNode("n", "1", "1Gi", withTaint("k", "v", corev1.TaintEffectNoExecute), withTaint("s", "", corev1.TaintEffectNoSchedule)),
			testPod("p", "", "", withToleration(corev1.Toleration{Key: "k", Operator: exists})),
			Placement{KeepRunning: true, Reason: "node(s) had untolerated taint {s: }"}},
		{"cordoned", testNode("n", "1", "1Gi", cordoned()), testPod("p", "", ""), Placement{KeepRunning: true, Reason: ReasonUnschedulable}},
		{"cordoned, tolerated", testNode("n", "1", "1Gi", cordoned()),
			testPod("p", "", "", withToleration(corev1.Toleration{Key: corev1.TaintNodeUnschedulable, Operator: exists, Effect: corev1.TaintEffectNoSchedule})),
			Placement{Schedule: true, KeepRunning: true}},
		{"not ready", testNode("n", "1", "1Gi", withReady(corev1.ConditionFalse)), testPod("p", "", ""),
			Placement{KeepRunning: true, Reason: "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlacePod(tt.pod, tt.node); got != tt.want {
				t.Fatalf("PlacePod = %+v, want %+v", got, tt.want)
			}
		})
	}
}
