package rollouts

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NewDeploymentCondition is a condition whose lastUpdateTime and
// lastTransitionTime are now (mirrors util.NewDeploymentCondition, which
// reads the clock itself).
func NewDeploymentCondition(condType appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason, message string, now time.Time) appsv1.DeploymentCondition {
	t := metav1.NewTime(now)
	return appsv1.DeploymentCondition{
		Type:               condType,
		Status:             status,
		LastUpdateTime:     t,
		LastTransitionTime: t,
		Reason:             reason,
		Message:            message,
	}
}

// GetDeploymentCondition returns a copy of the condition of condType, or nil.
func GetDeploymentCondition(status appsv1.DeploymentStatus, condType appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == condType {
			c := status.Conditions[i]
			return &c
		}
	}
	return nil
}

// SetDeploymentCondition puts cond into status (mirrors
// util.SetDeploymentCondition): nothing changes when a condition of that type
// already has the same status and reason; when only the reason differs the
// old lastTransitionTime is kept. The condition moves to the end of the list.
func SetDeploymentCondition(status *appsv1.DeploymentStatus, cond appsv1.DeploymentCondition) {
	cur := GetDeploymentCondition(*status, cond.Type)
	if cur != nil && cur.Status == cond.Status && cur.Reason == cond.Reason {
		return
	}
	if cur != nil && cur.Status == cond.Status {
		cond.LastTransitionTime = cur.LastTransitionTime
	}
	status.Conditions = append(filterOutCondition(status.Conditions, cond.Type), cond)
}

// RemoveDeploymentCondition drops the condition of condType from status.
func RemoveDeploymentCondition(status *appsv1.DeploymentStatus, condType appsv1.DeploymentConditionType) {
	status.Conditions = filterOutCondition(status.Conditions, condType)
}

// filterOutCondition returns a new slice (nil when empty) without condType.
func filterOutCondition(conds []appsv1.DeploymentCondition, condType appsv1.DeploymentConditionType) []appsv1.DeploymentCondition {
	var out []appsv1.DeploymentCondition
	for _, c := range conds {
		if c.Type != condType {
			out = append(out, c)
		}
	}
	return out
}

// ReplicaSetToDeploymentCondition promotes a ReplicaSet condition (a
// ReplicaFailure) to the Deployment, both times set to its lastTransitionTime.
func ReplicaSetToDeploymentCondition(cond appsv1.ReplicaSetCondition) appsv1.DeploymentCondition {
	return appsv1.DeploymentCondition{
		Type:               appsv1.DeploymentConditionType(cond.Type),
		Status:             cond.Status,
		LastTransitionTime: cond.LastTransitionTime,
		LastUpdateTime:     cond.LastTransitionTime,
		Reason:             cond.Reason,
		Message:            cond.Message,
	}
}

// NewReplicaSetCreatedCondition: Progressing=True NewReplicaSetCreated
// `Created new replica set "NAME"`.
func NewReplicaSetCreatedCondition(rsName string, now time.Time) appsv1.DeploymentCondition {
	return NewDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, NewReplicaSetReason,
		fmt.Sprintf("Created new replica set %q", rsName), now)
}

// FoundNewReplicaSetCondition: Progressing=True FoundNewReplicaSet
// `Found new replica set "NAME"`, set when an existing new ReplicaSet is
// found and no Progressing condition exists yet.
func FoundNewReplicaSetCondition(rsName string, now time.Time) appsv1.DeploymentCondition {
	return NewDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, FoundNewRSReason,
		fmt.Sprintf("Found new replica set %q", rsName), now)
}

// ReplicaSetCreateErrorCondition: Progressing=False ReplicaSetCreateError
// `Failed to create new replica set "NAME": ERR`; the same message is the
// Warning event (reason ReplicaSetCreateError).
func ReplicaSetCreateErrorCondition(rsName string, err error, now time.Time) appsv1.DeploymentCondition {
	return NewDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, FailedRSCreateReason,
		fmt.Sprintf("Failed to create new replica set %q: %v", rsName, err), now)
}

// ProgressingCondition: Progressing=True ReplicaSetUpdated
// `ReplicaSet "NAME" is progressing.` (`Deployment "NAME" ...` without a new
// ReplicaSet).
func ProgressingCondition(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, now time.Time) appsv1.DeploymentCondition {
	return NewDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReplicaSetUpdatedReason,
		subject(d, newRS)+" is progressing.", now)
}

// CompleteCondition: Progressing=True NewReplicaSetAvailable
// `ReplicaSet "NAME" has successfully progressed.`
func CompleteCondition(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, now time.Time) appsv1.DeploymentCondition {
	return NewDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, NewRSAvailableReason,
		subject(d, newRS)+" has successfully progressed.", now)
}

// TimedOutCondition: Progressing=False ProgressDeadlineExceeded
// `ReplicaSet "NAME" has timed out progressing.`
func TimedOutCondition(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, now time.Time) appsv1.DeploymentCondition {
	return NewDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, TimedOutReason,
		subject(d, newRS)+" has timed out progressing.", now)
}

// PausedCondition: Progressing=Unknown DeploymentPaused "Deployment is paused".
func PausedCondition(now time.Time) appsv1.DeploymentCondition {
	return NewDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, PausedDeployReason, "Deployment is paused", now)
}

// ResumedCondition: Progressing=Unknown DeploymentResumed "Deployment is resumed".
func ResumedCondition(now time.Time) appsv1.DeploymentCondition {
	return NewDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ResumedDeployReason, "Deployment is resumed", now)
}

// AvailableCondition: Available=True MinimumReplicasAvailable "Deployment has
// minimum availability." or Available=False MinimumReplicasUnavailable
// "Deployment does not have minimum availability.".
func AvailableCondition(available bool, now time.Time) appsv1.DeploymentCondition {
	if available {
		return NewDeploymentCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, MinimumReplicasAvailable, "Deployment has minimum availability.", now)
	}
	return NewDeploymentCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, MinimumReplicasUnavailable, "Deployment does not have minimum availability.", now)
}

// subject is how progress messages name what progresses.
func subject(d *appsv1.Deployment, newRS *appsv1.ReplicaSet) string {
	if newRS != nil {
		return fmt.Sprintf("ReplicaSet %q", newRS.Name)
	}
	return fmt.Sprintf("Deployment %q", d.Name)
}
