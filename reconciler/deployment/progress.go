package deployment

import (
	"context"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/rollouts"
)

// deadlineSkew is added to the wait for a progress deadline, as upstream
// does, so the check lands after the deadline rather than on it.
const deadlineSkew = time.Second

// syncRolloutStatus writes the status of a Deployment mid-rollout: counts,
// Available, and the Progressing condition (ReplicaSetUpdated on progress,
// NewReplicaSetAvailable when complete, ProgressDeadlineExceeded past the
// deadline), plus ReplicaFailure from the ReplicaSets. With nothing to
// write, a rollout still in progress asks to be synced again at its
// progress deadline (upstream's requeueStuckDeployment).
func (c *Controller) syncRolloutStatus(ctx context.Context, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	now := c.clock.Now()
	st := rollouts.RolloutStatus(d, allRSs, newRS, now)
	if reflect.DeepEqual(d.Status, st) {
		switch after := rollouts.RequeueAfter(d, st, now); {
		case after < 0:
			return nil
		case after == 0:
			// Upstream re-adds rate-limited; the deadline is (nearly) here.
			return controller.Requeue{After: deadlineSkew}
		default:
			return controller.Requeue{After: after + deadlineSkew}
		}
	}
	d.Status = st
	return c.updateDeployment(ctx, d)
}
