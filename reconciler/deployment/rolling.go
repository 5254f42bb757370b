package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/berth-io/berth/rollouts"
)

// rolloutRolling takes one step of a RollingUpdate rollout (upstream's
// rolloutRolling): create the new ReplicaSet if missing; scale it up within
// maxSurge (or down to spec.replicas) if it can move; else scale old
// ReplicaSets down within maxUnavailable, unhealthy replicas first; else,
// once the rollout is complete, prune history. Then sync the status.
func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList *replicaSets) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	// Like upstream, the status below is computed from the ReplicaSets as
	// they were before this step's writes; the next sync sees the rest.
	allRSs := append(oldRSs, newRS)

	step, err := rollouts.RollingStep(d, newRS, oldRSs)
	if err != nil {
		return err
	}
	if len(step.Scales) > 0 {
		if _, err := c.applyScales(ctx, d, step.Scales); err != nil {
			return err
		}
		return c.syncRolloutStatus(ctx, allRSs, newRS, d)
	}
	if err := c.cleanupDeployment(ctx, d, step.Cleanup); err != nil {
		return err
	}
	return c.syncRolloutStatus(ctx, allRSs, newRS, d)
}
