package rollouts

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// RolloutStatus is the status a rollout sync writes (mirrors progress.go
// syncRolloutStatus, without the write): CalculateStatus, then the
// Progressing condition when d has a progress deadline (removed when it has
// none), then the first ReplicaFailure condition of the ReplicaSets (the new
// one's first). The Progressing condition is left alone when the rollout
// already completed (status.replicas == updated and reason
// NewReplicaSetAvailable); otherwise, in this order: complete →
// NewReplicaSetAvailable; progress since d.status → ReplicaSetUpdated,
// refreshing lastUpdateTime and keeping lastTransitionTime when it was
// already True; timed out → ProgressDeadlineExceeded. Timing out only sets
// the condition; the rollout carries on. Write the result when it differs
// from d.status (reflect.DeepEqual), else consider RequeueAfter.
func RolloutStatus(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, now time.Time) appsv1.DeploymentStatus {
	status := CalculateStatus(d, allRSs, newRS, now)
	if !HasProgressDeadline(d) {
		RemoveDeploymentCondition(&status, appsv1.DeploymentProgressing)
	}
	cur := GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	completed := status.Replicas == status.UpdatedReplicas && cur != nil && cur.Reason == NewRSAvailableReason
	if HasProgressDeadline(d) && !completed {
		switch {
		case DeploymentComplete(d, &status):
			SetDeploymentCondition(&status, CompleteCondition(d, newRS, now))
		case DeploymentProgressing(d, &status):
			// Same reason, new lastUpdateTime: SetDeploymentCondition would
			// ignore it, so replace the condition by hand.
			cond := ProgressingCondition(d, newRS, now)
			if cur != nil {
				if cur.Status == corev1.ConditionTrue {
					cond.LastTransitionTime = cur.LastTransitionTime
				}
				RemoveDeploymentCondition(&status, appsv1.DeploymentProgressing)
			}
			SetDeploymentCondition(&status, cond)
		case DeploymentTimedOut(d, &status, now):
			SetDeploymentCondition(&status, TimedOutCondition(d, newRS, now))
		}
	}
	if failure := replicaFailure(allRSs, newRS); failure != nil {
		SetDeploymentCondition(&status, *failure)
	} else {
		RemoveDeploymentCondition(&status, appsv1.DeploymentReplicaFailure)
	}
	return status
}

// replicaFailure is the first ReplicaFailure condition of newRS, else of
// allRSs in order (mirrors progress.go getReplicaFailures).
func replicaFailure(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
	for _, rs := range append([]*appsv1.ReplicaSet{newRS}, allRSs...) {
		if rs == nil {
			continue
		}
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure {
				cond := ReplicaSetToDeploymentCondition(c)
				return &cond
			}
		}
	}
	return nil
}

// RequeueAfter says when to look at a Deployment again for a progress check
// when RolloutStatus found nothing to write (mirrors progress.go
// requeueStuckDeployment): -1 for never (no deadline, no Progressing
// condition in d.status, complete per status, or already timed out), 0 for
// now (rate-limited; the deadline is less than a second away or past), else
// the time left until lastUpdateTime + progressDeadlineSeconds. Upstream
// enqueues after that duration plus one second, against clock skew.
func RequeueAfter(d *appsv1.Deployment, status appsv1.DeploymentStatus, now time.Time) time.Duration {
	cur := GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	if !HasProgressDeadline(d) || cur == nil {
		return -1
	}
	if DeploymentComplete(d, &status) || cur.Reason == TimedOutReason {
		return -1
	}
	after := cur.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(now)
	if after < time.Second {
		return 0
	}
	return after
}

// CheckPausedConditions keeps the Progressing condition in step with
// spec.paused (mirrors sync.go checkPausedConditions): paused without a
// DeploymentPaused condition sets it, resumed with one sets
// DeploymentResumed, so time spent paused never counts against the deadline.
// A ProgressDeadlineExceeded condition is never overwritten; nothing happens
// without a progress deadline. It modifies d.status and reports whether the
// status must be written.
func CheckPausedConditions(d *appsv1.Deployment, now time.Time) bool {
	if !HasProgressDeadline(d) {
		return false
	}
	cond := GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	if cond != nil && cond.Reason == TimedOutReason {
		return false
	}
	pausedCond := cond != nil && cond.Reason == PausedDeployReason
	switch {
	case d.Spec.Paused && !pausedCond:
		SetDeploymentCondition(&d.Status, PausedCondition(now))
	case !d.Spec.Paused && pausedCond:
		SetDeploymentCondition(&d.Status, ResumedCondition(now))
	default:
		return false
	}
	return true
}
