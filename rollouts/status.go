package rollouts

import (
	"fmt"
	"math"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// CalculateStatus is the Deployment status the ReplicaSets imply (mirrors
// sync.go calculateStatus): replicas, readyReplicas, availableReplicas and
// terminatingReplicas summed from the ReplicaSets' status, updatedReplicas
// from the new one, unavailableReplicas = max(0, Σ spec.replicas - available),
// observedGeneration = generation, collisionCount kept. d's conditions are
// carried over and Available is set from availableReplicas >= spec.replicas
// - MaxUnavailable; no other condition is touched (RolloutStatus does the
// Progressing one). terminatingReplicas follows upstream with the
// DeploymentReplicaSetTerminatingReplicas gate on (its default since 1.35).
func CalculateStatus(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, now time.Time) appsv1.DeploymentStatus {
	available := GetAvailableReplicaCountForReplicaSets(allRSs)
	unavailable := max(GetReplicaCountForReplicaSets(allRSs)-available, 0)
	status := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            GetActualReplicaCountForReplicaSets(allRSs),
		UpdatedReplicas:     GetActualReplicaCountForReplicaSets([]*appsv1.ReplicaSet{newRS}),
		ReadyReplicas:       GetReadyReplicaCountForReplicaSets(allRSs),
		AvailableReplicas:   available,
		UnavailableReplicas: unavailable,
		TerminatingReplicas: GetTerminatingReplicaCountForReplicaSets(allRSs),
		CollisionCount:      d.Status.CollisionCount,
		Conditions:          slices.Clone(d.Status.Conditions),
	}
	SetDeploymentCondition(&status, AvailableCondition(available >= DeploymentReplicas(d)-MaxUnavailable(d), now))
	return status
}

// DeploymentComplete reports whether every desired replica is updated and
// available, no old pod remains and the status is current (mirrors
// util.DeploymentComplete).
func DeploymentComplete(d *appsv1.Deployment, status *appsv1.DeploymentStatus) bool {
	replicas := DeploymentReplicas(d)
	return status.UpdatedReplicas == replicas &&
		status.Replicas == replicas &&
		status.AvailableReplicas == replicas &&
		status.ObservedGeneration >= d.Generation
}

// DeploymentProgressing reports progress from d.status to status: more
// updated, fewer old, more ready or more available replicas (mirrors
// util.DeploymentProgressing).
func DeploymentProgressing(d *appsv1.Deployment, status *appsv1.DeploymentStatus) bool {
	old := d.Status
	return status.UpdatedReplicas > old.UpdatedReplicas ||
		status.Replicas-status.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		status.ReadyReplicas > old.ReadyReplicas ||
		status.AvailableReplicas > old.AvailableReplicas
}

// HasProgressDeadline reports whether d reports ProgressDeadlineExceeded:
// progressDeadlineSeconds is set and not MaxInt32 (mirrors util.HasProgressDeadline).
func HasProgressDeadline(d *appsv1.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

// DeploymentTimedOut reports whether the Progressing condition in status is
// older than progressDeadlineSeconds at now, or already says
// ProgressDeadlineExceeded; never after NewReplicaSetAvailable, without a
// deadline, or without a Progressing condition (mirrors
// util.DeploymentTimedOut, which reads the clock itself). Exactly at the
// deadline it has not timed out yet.
func DeploymentTimedOut(d *appsv1.Deployment, status *appsv1.DeploymentStatus, now time.Time) bool {
	if !HasProgressDeadline(d) {
		return false
	}
	cond := GetDeploymentCondition(*status, appsv1.DeploymentProgressing)
	if cond == nil {
		return false
	}
	switch cond.Reason {
	case NewRSAvailableReason:
		return false
	case TimedOutReason:
		return true
	}
	deadline := cond.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second)
	return deadline.Before(now)
}

// DeploymentRolloutStatus is `rollout status`'s view of d (mirrors
// kubectl's DeploymentStatusViewer): a message saying what the rollout
// waits for, and done once it is complete. Until the controller has
// observed d's latest generation it says so and is not done, whatever the
// counts; a Progressing condition with reason ProgressDeadlineExceeded is
// an error ("deployment \"web\" exceeded its progress deadline"). The
// message has no trailing newline.
func DeploymentRolloutStatus(d *appsv1.Deployment) (msg string, done bool, err error) {
	if d.Generation > d.Status.ObservedGeneration {
		return "Waiting for deployment spec update to be observed...", false, nil
	}
	if c := GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing); c != nil && c.Reason == TimedOutReason {
		return "", false, fmt.Errorf("deployment %q exceeded its progress deadline", d.Name)
	}
	st := d.Status
	switch {
	case d.Spec.Replicas != nil && st.UpdatedReplicas < *d.Spec.Replicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...", d.Name, st.UpdatedReplicas, *d.Spec.Replicas), false, nil
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", d.Name, st.Replicas-st.UpdatedReplicas), false, nil
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", d.Name, st.AvailableReplicas, st.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out", d.Name), true, nil
}

// DaemonSetRolloutStatus is kubectl's DaemonSetStatusViewer: whether ds's
// rollout is done, and what it waits for. Only RollingUpdate DaemonSets
// have a rollout to follow. The message has no trailing newline.
func DaemonSetRolloutStatus(ds *appsv1.DaemonSet) (msg string, done bool, err error) {
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return "", true, fmt.Errorf("rollout status is only available for %s strategy type", appsv1.RollingUpdateDaemonSetStrategyType)
	}
	if ds.Generation > ds.Status.ObservedGeneration {
		return "Waiting for daemon set spec update to be observed...", false, nil
	}
	st := ds.Status
	if st.UpdatedNumberScheduled < st.DesiredNumberScheduled {
		return fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d out of %d new pods have been updated...", ds.Name, st.UpdatedNumberScheduled, st.DesiredNumberScheduled), false, nil
	}
	if st.NumberAvailable < st.DesiredNumberScheduled {
		return fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d of %d updated pods are available...", ds.Name, st.NumberAvailable, st.DesiredNumberScheduled), false, nil
	}
	return fmt.Sprintf("daemon set %q successfully rolled out", ds.Name), true, nil
}
