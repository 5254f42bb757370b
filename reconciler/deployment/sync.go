package deployment

import (
	"context"
	"errors"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// syncStatusOnly updates the status of a Deployment being deleted and
// changes nothing else.
func (c *Controller) syncStatusOnly(ctx context.Context, d *appsv1.Deployment, rsList *replicaSets) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	return c.syncDeploymentStatus(ctx, append(oldRSs, newRS), newRS, d)
}

// sync handles a scaling event or a paused Deployment: proportional
// scaling, no rollout; a paused Deployment also prunes its history.
func (c *Controller) sync(ctx context.Context, d *appsv1.Deployment, rsList *replicaSets) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	if _, err := c.applyScales(ctx, d, rollouts.ScalePlan(d, newRS, oldRSs)); err != nil {
		return err
	}
	if d.Spec.Paused && getRollbackTo(d) == nil {
		if err := c.cleanupDeployment(ctx, d, rollouts.ReplicaSetsToCleanup(d, oldRSs)); err != nil {
			return err
		}
	}
	return c.syncDeploymentStatus(ctx, append(oldRSs, newRS), newRS, d)
}

// checkPausedConditions writes the DeploymentPaused or DeploymentResumed
// Progressing condition when spec.paused changed.
func (c *Controller) checkPausedConditions(ctx context.Context, d *appsv1.Deployment) error {
	if !rollouts.CheckPausedConditions(d, c.clock.Now()) {
		return nil
	}
	return c.updateDeployment(ctx, d)
}

// isScalingEvent reports whether spec.replicas changed since the active
// ReplicaSets were last scaled (their desired-replicas annotation). Like
// upstream it syncs the revision first.
func (c *Controller) isScalingEvent(ctx context.Context, d *appsv1.Deployment, rsList *replicaSets) (bool, error) {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return false, err
	}
	return rollouts.IsScalingEvent(d, newRS, oldRSs), nil
}

// getAllReplicaSetsAndSyncRevision splits rsList into the new ReplicaSet
// (the one whose template is d's; nil if none and !create) and all the old
// ones, bringing the new one's revision to max(old)+1 and copying it onto
// d. With create it creates the new ReplicaSet when missing.
func (c *Controller) getAllReplicaSetsAndSyncRevision(ctx context.Context, d *appsv1.Deployment, rsList *replicaSets, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	existing, oldRSs := rsList.split(d)
	newRS, err := c.getNewReplicaSet(ctx, d, rsList, existing, oldRSs, create)
	if err != nil {
		return nil, nil, err
	}
	return newRS, oldRSs, nil
}

// getNewReplicaSet is upstream's. An existing new ReplicaSet gets its
// annotations and minReadySeconds synced; when that needs a write, the
// Deployment's revision annotation follows on the next sync. A missing one is
// created as "<deployment>-<hash>"; if that name is taken by a ReplicaSet
// that is not this template's, status.collisionCount goes up and the
// create is retried with a new hash on the next sync.
func (c *Controller) getNewReplicaSet(ctx context.Context, d *appsv1.Deployment, rsList *replicaSets, existing *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, error) {
	now := c.clock.Now()
	if existing != nil {
		rs, rsChanged, dChanged := rollouts.SyncExistingNewReplicaSet(d, existing, oldRSs, now)
		if rsChanged {
			updated, err := c.updateReplicaSet(ctx, rs)
			if err != nil {
				return nil, err
			}
			// Later lookups in this sync (isScalingEvent runs this too) must
			// see the written copy, not write the stale one again.
			rsList.replace(updated)
			return updated, nil
		}
		if dChanged {
			if err := c.updateDeployment(ctx, d); err != nil {
				return nil, err
			}
		}
		return rs, nil
	}
	if !create {
		return nil, nil
	}

	newRS, err := rollouts.NewReplicaSet(d, oldRSs)
	if err != nil {
		return nil, err
	}
	alreadyExists := false
	var created *appsv1.ReplicaSet
	obj, err := c.store.Create(ctx, newRS)
	switch {
	case err == nil:
		created = obj.(*appsv1.ReplicaSet)
	case errors.Is(err, store.ErrAlreadyExists):
		// A cache that has not seen our own earlier create yet, or a hash
		// collision. Read the store, not the cache, to tell them apart.
		alreadyExists = true
		got, getErr := c.store.Get(ctx, "ReplicaSet", newRS.Namespace, newRS.Name)
		if getErr != nil {
			return nil, getErr
		}
		existing := got.(*appsv1.ReplicaSet)
		if !rollouts.HashCollision(d, existing) {
			created = existing
			break
		}
		if d.Status.CollisionCount == nil {
			d.Status.CollisionCount = new(int32)
		}
		*d.Status.CollisionCount++
		_ = c.updateDeployment(ctx, d) // requeued by the original error either way
		return nil, err
	default:
		cond := rollouts.ReplicaSetCreateErrorCondition(newRS.Name, err, now)
		if rollouts.HasProgressDeadline(d) {
			rollouts.SetDeploymentCondition(&d.Status, cond)
			_ = c.updateDeployment(ctx, d) // the create error is the one to report
		}
		c.recorder.Eventf(d, corev1.EventTypeWarning, rollouts.FailedRSCreateReason, "%s", cond.Message)
		return nil, err
	}
	if n := rollouts.ReplicaSetReplicas(created); !alreadyExists && n > 0 {
		c.recorder.Eventf(d, corev1.EventTypeNormal, rollouts.ScalingReplicaSetReason, "%s", rollouts.ScalingMessage(created.Name, 0, n))
	}
	if rollouts.RecordNewReplicaSet(d, oldRSs, created, alreadyExists, now) {
		if err := c.updateDeployment(ctx, d); err != nil {
			return created, err
		}
	}
	return created, nil
}

// applyScales performs a plan of ReplicaSet resizes in order, recording a
// ScalingReplicaSet event for every size change, and reports whether any
// size changed. A ReplicaSet that appears twice is resized again from the
// object its first write returned. The first failed write ends the plan.
func (c *Controller) applyScales(ctx context.Context, d *appsv1.Deployment, plan []rollouts.ReplicaSetScale) (bool, error) {
	scaled := false
	written := map[types.UID]*appsv1.ReplicaSet{}
	for _, s := range plan {
		if rs, ok := written[s.ReplicaSet.UID]; ok {
			s.ReplicaSet = rs
		}
		from := rollouts.ReplicaSetReplicas(s.ReplicaSet)
		rs, write, sizeChanged := rollouts.ScaledReplicaSet(d, s)
		if !write {
			continue
		}
		updated, err := c.updateReplicaSet(ctx, rs)
		if err != nil {
			return scaled, err
		}
		written[updated.UID] = updated
		if sizeChanged {
			scaled = true
			c.recorder.Eventf(d, corev1.EventTypeNormal, rollouts.ScalingReplicaSetReason, "%s", rollouts.ScalingMessage(updated.Name, from, s.To))
		}
	}
	return scaled, nil
}

// cleanupDeployment deletes the old ReplicaSets beyond
// revisionHistoryLimit that rollouts.ReplicaSetsToCleanup picked (only
// fully scaled-down ones). The first error other than NotFound stops it.
func (c *Controller) cleanupDeployment(ctx context.Context, d *appsv1.Deployment, victims []*appsv1.ReplicaSet) error {
	for _, rs := range victims {
		err := c.store.Delete(ctx, "ReplicaSet", rs.Namespace, rs.Name, store.DeleteOptions{UID: string(rs.UID)})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// syncDeploymentStatus writes the status the ReplicaSets imply, leaving
// the Progressing condition alone (scaling events, pause, deletion).
func (c *Controller) syncDeploymentStatus(ctx context.Context, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	st := rollouts.CalculateStatus(d, allRSs, newRS, c.clock.Now())
	if reflect.DeepEqual(d.Status, st) {
		return nil
	}
	d.Status = st
	return c.updateDeployment(ctx, d)
}
