package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// NodeAffinity rejects nodes that don't match the pod's nodeSelector
// (every key=value) and its required node affinity, ANDed, as upstream's
// plugin of the same name (preferred terms only score, so they do not
// filter).
type NodeAffinity struct{}

// Name implements Plugin.
func (NodeAffinity) Name() string { return "NodeAffinity" }

// Filter implements FilterPlugin.
func (NodeAffinity) Filter(_ *CycleState, pod *PodInfo, node *NodeInfo) []string {
	if MatchesNodeAffinity(pod.Pod, node.Node) {
		return nil
	}
	return reasonsNodeSelector
}

// MatchesNodeAffinity reports whether node satisfies pod's nodeSelector and
// its requiredDuringSchedulingIgnoredDuringExecution node affinity
// (upstream's nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)).
func MatchesNodeAffinity(pod *corev1.Pod, node *corev1.Node) bool {
	for k, v := range pod.Spec.NodeSelector {
		if got, ok := node.Labels[k]; !ok || got != v {
			return false
		}
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	return MatchesNodeSelectorTerms(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms, node)
}

// MatchesNodeSelectorTerms reports whether node matches any of terms
// (ORed). Within a term, every matchExpressions requirement on the node's
// labels and every matchFields requirement on its fields (metadata.name
// only) must hold. An empty term matches nothing, and so does a term with
// an invalid requirement (an unknown operator, In without values, Gt with
// a value that is not an integer), as upstream parses terms.
func MatchesNodeSelectorTerms(terms []corev1.NodeSelectorTerm, node *corev1.Node) bool {
	for i := range terms {
		if matchesTerm(&terms[i], node) {
			return true
		}
	}
	return false
}

// matchesTerm matches one node selector term.
func matchesTerm(t *corev1.NodeSelectorTerm, node *corev1.Node) bool {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return false
	}
	if len(t.MatchExpressions) > 0 {
		sel, ok := labelRequirements(t.MatchExpressions)
		if !ok || !sel.Matches(labels.Set(node.Labels)) {
			return false
		}
	}
	for _, r := range t.MatchFields {
		if !matchesField(r, node) {
			return false
		}
	}
	return true
}

// labelRequirements turns matchExpressions into a label selector with
// upstream's operator mapping (Gt and Lt compare integers); ok is false
// when a requirement is invalid.
func labelRequirements(reqs []corev1.NodeSelectorRequirement) (labels.Selector, bool) {
	sel := labels.NewSelector()
	for _, r := range reqs {
		var op selection.Operator
		switch r.Operator {
		case corev1.NodeSelectorOpIn:
			op = selection.In
		case corev1.NodeSelectorOpNotIn:
			op = selection.NotIn
		case corev1.NodeSelectorOpExists:
			op = selection.Exists
		case corev1.NodeSelectorOpDoesNotExist:
			op = selection.DoesNotExist
		case corev1.NodeSelectorOpGt:
			op = selection.GreaterThan
		case corev1.NodeSelectorOpLt:
			op = selection.LessThan
		default:
			return nil, false
		}
		req, err := labels.NewRequirement(r.Key, op, r.Values)
		if err != nil {
			return nil, false
		}
		sel = sel.Add(*req)
	}
	return sel, true
}

// matchesField matches one matchFields requirement: In or NotIn with
// exactly one value, on metadata.name (any other field of a node reads as
// empty, as in upstream's field set).
func matchesField(r corev1.NodeSelectorRequirement, node *corev1.Node) bool {
	if len(r.Values) != 1 {
		return false
	}
	value := ""
	if r.Key == metav1.ObjectNameField {
		value = node.Name
	}
	switch r.Operator {
	case corev1.NodeSelectorOpIn:
		return value == r.Values[0]
	case corev1.NodeSelectorOpNotIn:
		return value != r.Values[0]
	}
	return false
}
