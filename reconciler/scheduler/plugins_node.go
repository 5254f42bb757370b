package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// Filter reasons, upstream's words.
const (
	ReasonUnschedulable     = "node(s) were unschedulable"
	ReasonNodeSelector      = "node(s) didn't match Pod's node affinity/selector"
	ReasonInsufficientCPU   = "Insufficient cpu"
	ReasonInsufficientMem   = "Insufficient memory"
	ReasonInsufficientStore = "Insufficient ephemeral-storage"
	ReasonTooManyPods       = "Too many pods"
)

// One-element reason lists, shared read only so a rejection allocates
// nothing.
var (
	reasonsUnschedulable = []string{ReasonUnschedulable}
	// readinessReasons are what the node lifecycle's taints would say,
	// in the TaintToleration filter's words, so one message never mixes
	// two forms.
	readinessReasons = map[string][]string{
		corev1.TaintNodeNotReady:    {UntoleratedTaintReason(&corev1.Taint{Key: corev1.TaintNodeNotReady})},
		corev1.TaintNodeUnreachable: {UntoleratedTaintReason(&corev1.Taint{Key: corev1.TaintNodeUnreachable})},
	}
	reasonsNodeSelector = []string{ReasonNodeSelector}
)

// NodeUnschedulable rejects nodes with spec.unschedulable (cordoned)
// unless the pod tolerates the node.kubernetes.io/unschedulable:NoSchedule
// taint, as upstream's plugin.
type NodeUnschedulable struct{}

// Name implements Plugin.
func (NodeUnschedulable) Name() string { return "NodeUnschedulable" }

// Filter implements FilterPlugin.
func (NodeUnschedulable) Filter(_ *CycleState, pod *PodInfo, node *NodeInfo) []string {
	if !node.Node.Spec.Unschedulable ||
		tolerates(pod.Pod.Spec.Tolerations, corev1.TaintNodeUnschedulable, "", corev1.TaintEffectNoSchedule) {
		return nil
	}
	return reasonsUnschedulable
}

// NodeReady rejects nodes whose Ready condition is not True. Upstream
// gets this from the node lifecycle controller, which taints such nodes
// node.kubernetes.io/not-ready (Ready False) or
// node.kubernetes.io/unreachable (Ready Unknown or missing) with
// NoSchedule, and the TaintToleration filter; until berth has that
// controller, this plugin applies the same taints itself, tolerations and
// message included.
type NodeReady struct{}

// Name implements Plugin.
func (NodeReady) Name() string { return "NodeReady" }

// Filter implements FilterPlugin.
func (NodeReady) Filter(_ *CycleState, pod *PodInfo, node *NodeInfo) []string {
	key := corev1.TaintNodeUnreachable
	switch node.Ready {
	case corev1.ConditionTrue:
		return nil
	case corev1.ConditionFalse:
		key = corev1.TaintNodeNotReady
	}
	if tolerates(pod.Pod.Spec.Tolerations, key, "", corev1.TaintEffectNoSchedule) {
		return nil
	}
	return readinessReasons[key]
}

// tolerates reports whether any toleration tolerates the taint
// key=value:effect (k8s-semantics 7.3, Toleration.ToleratesTaint): the
// effect empty or equal, the key empty or equal, and Exists or an equal
// value.
func tolerates(tols []corev1.Toleration, key, value string, effect corev1.TaintEffect) bool {
	for i := range tols {
		t := &tols[i]
		if t.Effect != "" && t.Effect != effect {
			continue
		}
		if t.Key != "" && t.Key != key {
			continue
		}
		switch t.Operator {
		case corev1.TolerationOpExists:
			return true
		case "", corev1.TolerationOpEqual:
			if t.Value == value {
				return true
			}
		}
	}
	return false
}
