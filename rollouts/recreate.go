package rollouts

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// OldPodsRunning reports whether any old ReplicaSet still reports pods
// (status.replicas) or any pod outside the new ReplicaSet is not Succeeded
// or Failed; Unknown counts as running (mirrors recreate.go oldPodsRunning).
// podsByRS maps a ReplicaSet UID to its pods.
func OldPodsRunning(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, podsByRS map[types.UID][]*corev1.Pod) bool {
	if GetActualReplicaCountForReplicaSets(oldRSs) > 0 {
		return true
	}
	for uid, pods := range podsByRS {
		if newRS != nil && newRS.UID == uid {
			continue
		}
		for _, pod := range pods {
			switch pod.Status.Phase {
			case corev1.PodSucceeded, corev1.PodFailed:
			default:
				return true
			}
		}
	}
	return false
}

// RecreateStep plans one sync of a Recreate rollout (mirrors recreate.go
// rolloutRecreate): scale every active old ReplicaSet to 0 and stop; wait
// while OldPodsRunning; then ask for the new ReplicaSet (if missing) or scale
// it to spec.replicas, and clean up history when d's current status says the
// rollout is complete. oldRSs are all old ReplicaSets.
func RecreateStep(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, podsByRS map[types.UID][]*corev1.Pod) Step {
	var step Step
	for _, rs := range FilterActiveReplicaSets(oldRSs) {
		step.Scales = append(step.Scales, ReplicaSetScale{ReplicaSet: rs, From: ReplicaSetReplicas(rs), To: 0})
	}
	if len(step.Scales) > 0 || OldPodsRunning(newRS, oldRSs, podsByRS) {
		return step
	}
	if newRS == nil {
		step.CreateNewReplicaSet = true
	} else if cur, want := ReplicaSetReplicas(newRS), DeploymentReplicas(d); cur != want {
		step.Scales = append(step.Scales, ReplicaSetScale{ReplicaSet: newRS, From: cur, To: want})
	}
	if DeploymentComplete(d, &d.Status) {
		step.Cleanup = ReplicaSetsToCleanup(d, oldRSs)
	}
	return step
}
