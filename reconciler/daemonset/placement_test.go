package daemonset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDaemonTolerations(t *testing.T) {
	tests := []struct {
		name        string
		spec        corev1.PodSpec
		wantCount   int
		wantSeconds *int64 // of the not-ready toleration
	}{
		{"the six automatic ones", corev1.PodSpec{}, 6, nil},
		{"host network adds network-unavailable", corev1.PodSpec{HostNetwork: true}, 7, nil},
		{"a user's not-ready toleration with seconds is replaced", corev1.PodSpec{Tolerations: []corev1.Toleration{{
			Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64(300)),
		}}}, 6, nil},
		{"other tolerations kept", corev1.PodSpec{Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}}, 7, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec.DeepCopy()
			addDaemonTolerations(spec)
			if len(spec.Tolerations) != tt.wantCount {
				t.Fatalf("%d tolerations, want %d: %+v", len(spec.Tolerations), tt.wantCount, spec.Tolerations)
			}
			for _, tol := range spec.Tolerations {
				if tol.Key == corev1.TaintNodeNotReady && tol.TolerationSeconds != nil {
					t.Fatalf("not-ready toleration keeps tolerationSeconds %d", *tol.TolerationSeconds)
				}
			}
			addDaemonTolerations(spec)
			if len(spec.Tolerations) != tt.wantCount {
				t.Fatal("adding twice duplicated tolerations")
			}
		})
	}
}

func TestNodeShouldRun(t *testing.T) {
	ready := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	node := func(mutate func(*corev1.Node)) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"zone": "a"}}, Status: corev1.NodeStatus{Conditions: append([]corev1.NodeCondition(nil), ready...)}}
		if mutate != nil {
			mutate(n)
		}
		return n
	}
	ds := func(mutate func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
		d := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"}}
		if mutate != nil {
			mutate(d)
		}
		return d
	}
	taint := func(key string, effect corev1.TaintEffect) func(*corev1.Node) {
		return func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Effect: effect}) }
	}
	tests := []struct {
		name           string
		ds             *appsv1.DaemonSet
		node           *corev1.Node
		run, continues bool
	}{
		{"plain", ds(nil), node(nil), true, true},
		{"nodeSelector misses", ds(func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "b"} }), node(nil), false, false},
		{"template nodeName elsewhere", ds(func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.NodeName = "n2" }), node(nil), false, false},
		{"NoSchedule taint", ds(nil), node(taint("k", corev1.TaintEffectNoSchedule)), false, true},
		{"NoExecute taint", ds(nil), node(taint("k", corev1.TaintEffectNoExecute)), false, false},
		{"PreferNoSchedule taint", ds(nil), node(taint("k", corev1.TaintEffectPreferNoSchedule)), true, true},
		{"cordoned: tolerated automatically", ds(nil), node(func(n *corev1.Node) { n.Spec.Unschedulable = true }), true, true},
		{"not-ready NoExecute: tolerated automatically", ds(nil), node(taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)), true, true},
		{"memory pressure: tolerated automatically", ds(nil), node(taint(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule)), true, true},
		{"network unavailable: only with host network", ds(nil), node(taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), false, true},
		{"network unavailable, host network", ds(func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.HostNetwork = true }),
			node(taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), true, true},
		{"node not ready: no new pod, the old stays", ds(nil), node(func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, cont, reason := nodeShouldRun(placementPod(tt.ds), tt.node)
			if run != tt.run || cont != tt.continues {
				t.Fatalf("nodeShouldRun = %v, %v (%s); want %v, %v", run, cont, reason, tt.run, tt.continues)
			}
		})
	}
}

func TestNodeNameAffinity(t *testing.T) {
	a := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}},
		}}},
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 1}},
	}}
	got := nodeNameAffinity(a, "n7")
	terms := got.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 0 || terms[0].MatchFields[0].Values[0] != "n7" {
		t.Fatalf("terms %+v", terms)
	}
	if len(got.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Fatal("preferred terms dropped")
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{Affinity: nodeNameAffinity(nil, "n3")}}
	if n := targetNode(pod); n != "n3" {
		t.Fatalf("targetNode = %q", n)
	}
	pod.Spec.NodeName = "n4"
	if n := targetNode(pod); n != "n4" {
		t.Fatalf("targetNode of a bound pod = %q", n)
	}
}
