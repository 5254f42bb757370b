package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// ReasonNodeName is upstream's NodeName filter reason: the pod asks for
// another node by spec.nodeName.
const ReasonNodeName = "node(s) didn't match the requested node name"

// Placement says whether a pod may go on a node, by the rules that do not
// depend on other pods (name, node affinity and selector, taints), and
// whether a pod already there may stay.
type Placement struct {
	// Schedule: the scheduler would place the pod on the node, resources
	// permitting.
	Schedule bool
	// KeepRunning: a pod already on the node may stay, as it tolerates
	// every NoExecute taint (a NoSchedule taint only keeps new pods off).
	KeepRunning bool
	// Reason says why not Schedule, in the filter's words.
	Reason string
}

// PlacePod decides pod's Placement on node as the scheduler's filters do
// (NodeName, NodeUnschedulable, NodeReady, TaintToleration, NodeAffinity),
// leaving resources out: upstream's DaemonSet controller decides which
// nodes get a daemon pod this way (nodeShouldRunDaemonPod), and berth's
// DaemonSet controller calls it so that it and the scheduler never
// disagree. A cordoned node and a node that is not Ready count as tainted
// node.kubernetes.io/unschedulable, not-ready or unreachable with
// NoSchedule, the taints upstream's node lifecycle controller puts there.
func PlacePod(pod *corev1.Pod, node *corev1.Node) Placement {
	if pod.Spec.NodeName != "" && pod.Spec.NodeName != node.Name {
		return Placement{Reason: ReasonNodeName}
	}
	if !MatchesNodeAffinity(pod, node) {
		return Placement{Reason: ReasonNodeSelector}
	}
	tols := pod.Spec.Tolerations
	if t, ok := FindUntoleratedTaint(node.Spec.Taints, tols, schedulingEffect); ok {
		_, evicted := FindUntoleratedTaint(node.Spec.Taints, tols, executionEffect)
		return Placement{KeepRunning: !evicted, Reason: UntoleratedTaintReason(t)}
	}
	if node.Spec.Unschedulable && !tolerates(tols, corev1.TaintNodeUnschedulable, "", corev1.TaintEffectNoSchedule) {
		return Placement{KeepRunning: true, Reason: ReasonUnschedulable}
	}
	if key, ok := readinessTaint(node); ok && !tolerates(tols, key, "", corev1.TaintEffectNoSchedule) {
		return Placement{KeepRunning: true, Reason: UntoleratedTaintReason(&corev1.Taint{Key: key})}
	}
	return Placement{Schedule: true, KeepRunning: true}
}

// readinessTaint is the NoSchedule taint NodeReady stands for on a node
// whose Ready condition is not True.
func readinessTaint(node *corev1.Node) (string, bool) {
	switch readyStatus(node) {
	case corev1.ConditionTrue:
		return "", false
	case corev1.ConditionFalse:
		return corev1.TaintNodeNotReady, true
	}
	return corev1.TaintNodeUnreachable, true
}
