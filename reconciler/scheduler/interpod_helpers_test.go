package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// Helpers for the inter-pod and spreading tests.

func withPodLabels(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

func inNamespace(ns string) podOpt { return func(p *corev1.Pod) { p.Namespace = ns } }

// ownedBy makes uid the pod's controller.
func ownedBy(uid string) podOpt {
	return func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: uid,
			UID: types.UID(uid), Controller: ptr.To(true)}}
	}
}

// inZone labels a node with its zone.
func inZone(z string) nodeOpt { return withLabel(corev1.LabelTopologyZone, z) }

// sel is a label selector of matchLabels kv.
func sel(kv ...string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

func selExpr(key string, op metav1.LabelSelectorOperator, values ...string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func term(topologyKey string, s *metav1.LabelSelector) corev1.PodAffinityTerm {
	return corev1.PodAffinityTerm{LabelSelector: s, TopologyKey: topologyKey}
}

func weighted(w int32, t corev1.PodAffinityTerm) corev1.WeightedPodAffinityTerm {
	return corev1.WeightedPodAffinityTerm{Weight: w, PodAffinityTerm: t}
}

func affinityOf(p *corev1.Pod) *corev1.Affinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &corev1.Affinity{}
	}
	return p.Spec.Affinity
}

func requiredAffinity(ts ...corev1.PodAffinityTerm) podOpt {
	return func(p *corev1.Pod) {
		a := affinityOf(p)
		if a.PodAffinity == nil {
			a.PodAffinity = &corev1.PodAffinity{}
		}
		a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = ts
	}
}

func requiredAnti(ts ...corev1.PodAffinityTerm) podOpt {
	return func(p *corev1.Pod) {
		a := affinityOf(p)
		if a.PodAntiAffinity == nil {
			a.PodAntiAffinity = &corev1.PodAntiAffinity{}
		}
		a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = ts
	}
}

func preferredAffinity(ts ...corev1.WeightedPodAffinityTerm) podOpt {
	return func(p *corev1.Pod) {
		a := affinityOf(p)
		if a.PodAffinity == nil {
			a.PodAffinity = &corev1.PodAffinity{}
		}
		a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution = ts
	}
}

func preferredAnti(ts ...corev1.WeightedPodAffinityTerm) podOpt {
	return func(p *corev1.Pod) {
		a := affinityOf(p)
		if a.PodAntiAffinity == nil {
			a.PodAntiAffinity = &corev1.PodAntiAffinity{}
		}
		a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = ts
	}
}

func preferredNode(w int32, t corev1.NodeSelectorTerm) podOpt {
	return func(p *corev1.Pod) {
		a := affinityOf(p)
		if a.NodeAffinity == nil {
			a.NodeAffinity = &corev1.NodeAffinity{}
		}
		a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(
			a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
			corev1.PreferredSchedulingTerm{Weight: w, Preference: t})
	}
}

// zonedNodes are a1, a2 in zone a and b1 in zone b, plus n0 without a
// zone.
func zonedNodes() []*corev1.Node {
	return []*corev1.Node{
		testNode("a1", "4", "8Gi", inZone("a")),
		testNode("a2", "4", "8Gi", inZone("a")),
		testNode("b1", "4", "8Gi", inZone("b")),
		testNode("n0", "4", "8Gi"),
	}
}

// interPodFilter runs InterPodAffinity's PreFilter and Filter on every
// node: the reason per node, "" when it passes.
func interPodFilter(nodes []*corev1.Node, placed []*corev1.Pod, pod *corev1.Pod) map[string]string {
	snap := snapshotOf(nodes, placed...)
	state := &CycleState{snap: snap}
	p := InterPodAffinity{}
	p.PreFilter(state, podInfo(pod))
	out := map[string]string{}
	for _, ni := range snap.Nodes() {
		out[ni.Name] = ""
		if state.skipped(p.Name()) {
			continue
		}
		if r := p.Filter(state, podInfo(pod), ni); len(r) > 0 {
			out[ni.Name] = r[0]
		}
	}
	return out
}
