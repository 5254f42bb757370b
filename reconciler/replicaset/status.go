package replicaset

import (
	"context"
	"errors"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// calculateStatus is upstream's: replicas counts the active pods the
// ReplicaSet controls (terminating and finished pods are not active),
// fullyLabeledReplicas those that also carry every template label,
// readyReplicas the Ready ones, availableReplicas those Ready for
// minReadySeconds at now, terminatingReplicas the controlled pods with a
// deletionTimestamp that have not finished (Kubernetes 1.35+ default). A
// failed create or delete sets the ReplicaFailure condition; a clean sync
// removes it.
func calculateStatus(rs *appsv1.ReplicaSet, active, terminating []*corev1.Pod, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	st := *rs.Status.DeepCopy()
	templateLabels := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	var fullyLabeled, ready, available int32
	for _, pod := range active {
		if templateLabels.Matches(labels.Set(pod.Labels)) {
			fullyLabeled++
		}
		if rollouts.IsPodReady(pod) {
			ready++
			if rollouts.IsPodAvailable(pod, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}

	failure := getCondition(st, appsv1.ReplicaSetReplicaFailure)
	switch {
	case manageErr != nil && failure == nil:
		reason := ""
		if diff := len(active) - int(rollouts.ReplicaSetReplicas(rs)); diff < 0 {
			reason = FailedCreatePodReason
		} else if diff > 0 {
			reason = FailedDeletePodReason
		}
		st.Conditions = append(withoutCondition(st.Conditions, appsv1.ReplicaSetReplicaFailure), appsv1.ReplicaSetCondition{
			Type:               appsv1.ReplicaSetReplicaFailure,
			Status:             corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now),
			Reason:             reason,
			Message:            manageErr.Error(),
		})
	case manageErr == nil && failure != nil:
		st.Conditions = withoutCondition(st.Conditions, appsv1.ReplicaSetReplicaFailure)
	}

	st.Replicas = int32(len(active))
	st.FullyLabeledReplicas = fullyLabeled
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	st.TerminatingReplicas = new(int32(len(terminating)))
	return st
}

// updateStatus writes st unless the stored status already says the same
// and the generation was observed. Like upstream it retries once on a
// conflict with a fresh copy, recording the generation it acted on.
func (c *Controller) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	if rs.Status.Replicas == st.Replicas &&
		rs.Status.FullyLabeledReplicas == st.FullyLabeledReplicas &&
		rs.Status.ReadyReplicas == st.ReadyReplicas &&
		rs.Status.AvailableReplicas == st.AvailableReplicas &&
		int32PtrEqual(rs.Status.TerminatingReplicas, st.TerminatingReplicas) &&
		rs.Generation == rs.Status.ObservedGeneration &&
		reflect.DeepEqual(rs.Status.Conditions, st.Conditions) {
		return rs, nil
	}
	st.ObservedGeneration = rs.Generation
	cur := rs.DeepCopy()
	for i := 0; ; i++ {
		cur.Status = st
		obj, err := c.store.Update(ctx, cur)
		if err == nil {
			return obj.(*appsv1.ReplicaSet), nil
		}
		if !errors.Is(err, store.ErrConflict) || i >= 1 {
			return nil, err
		}
		fresh, err := c.store.Get(ctx, "ReplicaSet", rs.Namespace, rs.Name)
		if err != nil {
			return nil, err
		}
		cur = fresh.(*appsv1.ReplicaSet)
		if cur.UID != rs.UID {
			return nil, store.ErrNotFound
		}
	}
}

// nextAvailabilityCheck returns how long until the earliest Ready pod that
// is not yet available becomes so (upstream's
// FindMinNextPodAvailabilityCheck), or false when none is waiting.
func nextAvailabilityCheck(pods []*corev1.Pod, minReadySeconds int32, now time.Time) (time.Duration, bool) {
	var next *time.Duration
	for _, pod := range pods {
		if d := rollouts.NextPodAvailabilityCheck(pod, minReadySeconds, now); d != nil && (next == nil || *d < *next) {
			next = d
		}
	}
	if next == nil {
		return 0, false
	}
	return *next, true
}

func getCondition(st appsv1.ReplicaSetStatus, t appsv1.ReplicaSetConditionType) *appsv1.ReplicaSetCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func withoutCondition(conds []appsv1.ReplicaSetCondition, t appsv1.ReplicaSetConditionType) []appsv1.ReplicaSetCondition {
	var out []appsv1.ReplicaSetCondition
	for _, c := range conds {
		if c.Type != t {
			out = append(out, c)
		}
	}
	return out
}

func int32PtrEqual(a, b *int32) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
