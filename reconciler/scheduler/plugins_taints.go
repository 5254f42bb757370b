package scheduler

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// TaintToleration rejects nodes with a NoSchedule or NoExecute taint the
// pod does not tolerate, as upstream's plugin of the same name (a
// PreferNoSchedule taint only lowers a node's score). Its reason names the
// first such taint: "node(s) had untolerated taint {dedicated: infra}".
type TaintToleration struct{}

// Name implements Plugin.
func (TaintToleration) Name() string { return "TaintToleration" }

// Filter implements FilterPlugin.
func (TaintToleration) Filter(_ *CycleState, pod *PodInfo, node *NodeInfo) []string {
	taints := node.Node.Spec.Taints
	for i := range taints {
		t := &taints[i]
		if schedulingEffect(t) && !tolerates(pod.Pod.Spec.Tolerations, t.Key, t.Value, t.Effect) {
			if i < len(node.taintReasons) {
				return node.taintReasons[i]
			}
			return []string{UntoleratedTaintReason(t)} // a NodeInfo not from a Snapshot
		}
	}
	return nil
}

// UntoleratedTaintReason is upstream's filter reason for one taint.
func UntoleratedTaintReason(t *corev1.Taint) string {
	return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)
}

// FindUntoleratedTaint returns the first of taints that include accepts
// and no toleration tolerates (upstream's
// v1helper.FindMatchingUntoleratedTaint).
func FindUntoleratedTaint(taints []corev1.Taint, tols []corev1.Toleration, include func(*corev1.Taint) bool) (*corev1.Taint, bool) {
	for i := range taints {
		t := &taints[i]
		if include != nil && !include(t) {
			continue
		}
		if !tolerates(tols, t.Key, t.Value, t.Effect) {
			return t, true
		}
	}
	return nil, false
}

// schedulingEffect selects the taints that keep new pods off a node.
func schedulingEffect(t *corev1.Taint) bool {
	return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
}

// executionEffect selects the taints that evict running pods.
func executionEffect(t *corev1.Taint) bool { return t.Effect == corev1.TaintEffectNoExecute }
