package daemonset

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/scheduler"
)

// daemonTolerations are the tolerations upstream adds to every daemon pod
// (util.AddOrUpdateDaemonPodTolerations): a daemon stays on a node that
// goes NotReady or unreachable, for ever, and is placed on nodes under
// pressure and on cordoned ones.
var daemonTolerations = []corev1.Toleration{
	{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
}

// hostNetworkToleration is added too when the pod uses the host's network,
// which works before the node's pod network does.
var hostNetworkToleration = corev1.Toleration{
	Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
}

// addDaemonTolerations adds the automatic tolerations to spec, replacing a
// toleration of the same key, operator, value and effect (which may differ
// in tolerationSeconds), as upstream's AddOrUpdateTolerationInPodSpec.
func addDaemonTolerations(spec *corev1.PodSpec) {
	for _, t := range daemonTolerations {
		addOrUpdateToleration(spec, t)
	}
	if spec.HostNetwork {
		addOrUpdateToleration(spec, hostNetworkToleration)
	}
}

func addOrUpdateToleration(spec *corev1.PodSpec, tol corev1.Toleration) {
	for i := range spec.Tolerations {
		if tol.MatchToleration(&spec.Tolerations[i]) {
			if !equality.Semantic.DeepEqual(tol, spec.Tolerations[i]) {
				spec.Tolerations[i] = tol
			}
			return
		}
	}
	spec.Tolerations = append(spec.Tolerations, tol)
}

// placementPod is the pod the DaemonSet would run, as its placement rules
// see it: the template with the automatic tolerations (upstream's NewPod).
func placementPod(ds *appsv1.DaemonSet) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: *ds.Spec.Template.ObjectMeta.DeepCopy(), Spec: *ds.Spec.Template.Spec.DeepCopy()}
	pod.Namespace = ds.Namespace
	addDaemonTolerations(&pod.Spec)
	return pod
}

// nodeShouldRun is upstream's NodeShouldRunDaemonPod for the placement pod
// of a DaemonSet: shouldRun when the node admits a new daemon pod (name,
// node affinity and selector, NoSchedule and NoExecute taints);
// shouldContinueRunning when a daemon pod already there may stay (no
// untolerated NoExecute taint). reason says why not shouldRun. It is the
// scheduler's own decision (scheduler.PlacePod), so a pod created for a
// node is also placed there.
func nodeShouldRun(pod *corev1.Pod, node *corev1.Node) (shouldRun, shouldContinueRunning bool, reason string) {
	p := scheduler.PlacePod(pod, node)
	return p.Schedule, p.KeepRunning, p.Reason
}

// nodeNameAffinity replaces the required node affinity of a daemon pod's
// spec with the one term `matchFields metadata.name In [node]`, which the
// scheduler honours: the pod goes to its node and nowhere else (upstream's
// ReplaceDaemonSetPodNodeNameNodeAffinity; preferred terms stay).
func nodeNameAffinity(affinity *corev1.Affinity, node string) *corev1.Affinity {
	sel := &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchFields: []corev1.NodeSelectorRequirement{{
			Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
		}},
	}}}
	if affinity == nil {
		affinity = &corev1.Affinity{}
	}
	if affinity.NodeAffinity == nil {
		affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = sel
	return affinity
}

// targetNode is the node a daemon pod is for: its spec.nodeName once
// bound, else the node its matchFields affinity names (upstream's
// util.GetTargetNodeName); "" when neither says.
func targetNode(pod *corev1.Pod) string {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, r := range term.MatchFields {
			if r.Key == metav1.ObjectNameField && r.Operator == corev1.NodeSelectorOpIn && len(r.Values) == 1 {
				return r.Values[0]
			}
		}
	}
	return ""
}
