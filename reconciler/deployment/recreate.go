package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/rollouts"
)

// rolloutRecreate takes one step of a Recreate rollout (upstream's
// rolloutRecreate): scale every old ReplicaSet to 0; wait until no old pod
// runs (terminating pods included: they still run until their node stops
// them); only then create the new ReplicaSet at full size (or scale it
// there); once complete, prune history. Then sync the status.
func (c *Controller) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rsList *replicaSets, podMap map[types.UID][]*corev1.Pod) error {
	// The new ReplicaSet is not created yet, so nothing scales up before
	// the old pods are gone.
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	allRSs := append(oldRSs, newRS)

	step := rollouts.RecreateStep(d, newRS, oldRSs, podMap)
	scalesOld := false
	for _, s := range step.Scales {
		if newRS == nil || s.ReplicaSet.UID != newRS.UID {
			scalesOld = true
		}
	}
	if _, err := c.applyScales(ctx, d, step.Scales); err != nil {
		return err
	}
	if scalesOld {
		// Old ReplicaSets were scaled down: that is this sync's step.
		return c.syncRolloutStatus(ctx, allRSs, newRS, d)
	}
	if step.CreateNewReplicaSet {
		newRS, oldRSs, err = c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true)
		if err != nil {
			return err
		}
		allRSs = append(oldRSs, newRS)
	}
	if err := c.cleanupDeployment(ctx, d, step.Cleanup); err != nil {
		return err
	}
	return c.syncRolloutStatus(ctx, allRSs, newRS, d)
}
