package rollouts

import (
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NewReplicaSet builds (does not create) the new ReplicaSet for d, as
// sync.go getNewReplicaSet does when none exists: name ReplicaSetName(d,
// hash) with hash = ComputeHash(d's template, status.collisionCount); labels,
// template labels and selector gain pod-template-hash; a controller owner
// reference to d; minReadySeconds from d; replicas from NewRSNewReplicas
// (counting oldRSs); annotations from SetNewReplicaSetAnnotations with
// revision NextRevision(oldRSs) plus desired-/max-replicas. Pass every old
// ReplicaSet (FindOldReplicaSets' all). d must carry its UID, Name and
// Namespace. When the create fails with AlreadyExists and the existing
// ReplicaSet is not d's (controller ref) with an EqualIgnoreHash template,
// upstream bumps status.collisionCount and retries on the next sync.
func NewReplicaSet(d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	template := *d.Spec.Template.DeepCopy()
	hash := ComputeHash(&d.Spec.Template, d.Status.CollisionCount)
	template.Labels = cloneAndAdd(template.Labels, PodTemplateHashLabel, hash)

	selector := &metav1.LabelSelector{}
	if d.Spec.Selector != nil {
		selector = d.Spec.Selector.DeepCopy()
	}
	selector.MatchLabels = cloneAndAdd(selector.MatchLabels, PodTemplateHashLabel, hash)

	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            ReplicaSetName(d.Name, hash),
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
			Labels:          cloneAndAdd(template.Labels, PodTemplateHashLabel, hash),
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        new(int32(0)),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        selector,
			Template:        template,
		},
	}
	all := append(slices.Clone(oldRSs), rs)
	n, err := NewRSNewReplicas(d, all, rs)
	if err != nil {
		return nil, err
	}
	*rs.Spec.Replicas = n
	SetNewReplicaSetAnnotations(d, rs, NextRevision(oldRSs), false, MaxRevisionHistoryLengthInChars)
	return rs, nil
}

// SyncExistingNewReplicaSet is sync.go getNewReplicaSet when the new
// ReplicaSet exists. It returns a copy of newRS with annotations brought up
// to date (SetNewReplicaSetAnnotations, revision NextRevision(oldRSs)) and
// minReadySeconds from d; when rsChanged, upstream writes that copy and ends
// there. Otherwise it copies the ReplicaSet's revision onto d
// (SetDeploymentRevision) and, when d has a progress deadline but no
// Progressing condition yet, sets FoundNewReplicaSet; deploymentChanged says
// d was modified (annotations and/or status) and must be written.
func SyncExistingNewReplicaSet(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, now time.Time) (rs *appsv1.ReplicaSet, rsChanged, deploymentChanged bool) {
	rs = newRS.DeepCopy()
	annotationsChanged := SetNewReplicaSetAnnotations(d, rs, NextRevision(oldRSs), true, MaxRevisionHistoryLengthInChars)
	if annotationsChanged || rs.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
		rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
		return rs, true, false
	}
	deploymentChanged = SetDeploymentRevision(d, rs.Annotations[RevisionAnnotation])
	if HasProgressDeadline(d) && GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing) == nil {
		SetDeploymentCondition(&d.Status, FoundNewReplicaSetCondition(rs.Name, now))
		deploymentChanged = true
	}
	return rs, false, deploymentChanged
}

// HashCollision reports whether existing, found under the name NewReplicaSet
// chose, is someone else's: not controlled by d (UID) or with a different
// template. Upstream then increments d.status.collisionCount (from nil to 1)
// and retries on the next sync, which yields a different hash and name.
// Otherwise the existing ReplicaSet is d's new one (alreadyExisted).
func HashCollision(d *appsv1.Deployment, existing *appsv1.ReplicaSet) bool {
	ref := metav1.GetControllerOf(existing)
	return ref == nil || ref.UID != d.UID || !EqualIgnoreHash(&d.Spec.Template, &existing.Spec.Template)
}

// RecordNewReplicaSet updates d after the new ReplicaSet was created (or
// found already created, alreadyExisted) as sync.go getNewReplicaSet does:
// d's revision becomes NextRevision(oldRSs) and, for a fresh creation with a
// progress deadline, Progressing becomes NewReplicaSetCreated. It reports
// whether d must be written. A fresh creation with replicas > 0 also records
// the event ScalingMessage(name, 0, replicas).
func RecordNewReplicaSet(d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet, created *appsv1.ReplicaSet, alreadyExisted bool, now time.Time) bool {
	changed := SetDeploymentRevision(d, NextRevision(oldRSs))
	if !alreadyExisted && HasProgressDeadline(d) {
		SetDeploymentCondition(&d.Status, NewReplicaSetCreatedCondition(created.Name, now))
		changed = true
	}
	return changed
}
