package rollouts

import (
	"errors"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Step is what one sync of a rollout does, as upstream's rolloutRolling and
// rolloutRecreate decide it: create the new ReplicaSet if asked, apply
// Scales in order, delete Cleanup (old ReplicaSets beyond
// revisionHistoryLimit), then recompute the rollout status (RolloutStatus).
// An empty Step still ends with the status sync.
type Step struct {
	// CreateNewReplicaSet (Recreate only) asks the caller to create the new
	// ReplicaSet now (NewReplicaSet; it starts at spec.replicas): old pods are
	// gone and it did not exist yet.
	CreateNewReplicaSet bool
	Scales              []ReplicaSetScale
	Cleanup             []*appsv1.ReplicaSet
}

// ErrNoNewReplicaSet is returned by RollingStep without a new ReplicaSet:
// RollingUpdate creates it (NewReplicaSet) before planning a step.
var ErrNoNewReplicaSet = errors.New("rolling update needs the new replica set: create it first")

// NewRSNewReplicas is the size the new ReplicaSet may grow to now (mirrors
// util.NewRSNewReplicas). RollingUpdate: while the total of spec.replicas
// over allRSs is below spec.replicas + maxSurge (rounded up), grow by the
// room left, never past spec.replicas; otherwise keep its size. Recreate:
// spec.replicas at once. allRSs includes newRS.
func NewRSNewReplicas(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (int32, error) {
	replicas := DeploymentReplicas(d)
	switch d.Spec.Strategy.Type {
	case appsv1.RollingUpdateDeploymentStrategyType:
		maxSurge := defaultFencepost()
		if ru := d.Spec.Strategy.RollingUpdate; ru != nil && ru.MaxSurge != nil {
			maxSurge = ru.MaxSurge
		}
		surge, err := intstr.GetScaledValueFromIntOrPercent(maxSurge, int(replicas), true)
		if err != nil {
			return 0, err
		}
		current := GetReplicaCountForReplicaSets(allRSs)
		maxTotal := replicas + int32(surge)
		newReplicas := ReplicaSetReplicas(newRS)
		if current >= maxTotal {
			return newReplicas, nil
		}
		return newReplicas + min(maxTotal-current, replicas-newReplicas), nil
	case appsv1.RecreateDeploymentStrategyType:
		return replicas, nil
	default:
		return 0, fmt.Errorf("deployment type %v isn't supported", d.Spec.Strategy.Type)
	}
}

// ReconcileNewReplicaSet is the scale-up half of a rolling step (mirrors
// rolling.go reconcileNewReplicaSet): the new ReplicaSet's target size and
// whether it differs from the current one. Above spec.replicas it shrinks to
// spec.replicas; below, it grows to NewRSNewReplicas.
func ReconcileNewReplicaSet(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (target int32, scale bool, err error) {
	cur, replicas := ReplicaSetReplicas(newRS), DeploymentReplicas(d)
	switch {
	case cur == replicas:
		return cur, false, nil
	case cur > replicas:
		return replicas, true, nil
	}
	target, err = NewRSNewReplicas(d, allRSs, newRS)
	if err != nil {
		return cur, false, err
	}
	return target, target != cur, nil
}

// MaxScaledDown is how many old replicas a rolling step may remove:
// Σ spec.replicas (all) - minAvailable - (newRS spec.replicas - available).
// Counting the new ReplicaSet's unavailable pods keeps a crashlooping new
// template from eating the availability budget (see rolling.go's worked
// example: 10 replicas, surge 3, unavailable 2, old 8 + new 5 crashlooping
// gives 13 - 8 - 5 = 0). May be negative.
func MaxScaledDown(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	minAvailable := DeploymentReplicas(d) - MaxUnavailable(d)
	var newUnavailable int32
	if newRS != nil {
		newUnavailable = ReplicaSetReplicas(newRS) - newRS.Status.AvailableReplicas
	}
	return GetReplicaCountForReplicaSets(allRSs) - minAvailable - newUnavailable
}

// CleanupUnhealthyReplicas plans removing unavailable replicas from old
// ReplicaSets, oldest first, at most maxCleanupCount in total (mirrors
// rolling.go cleanupUnhealthyReplicas). Removing them costs no availability,
// and the ReplicaSet controller deletes not-ready pods first (PodsToDelete).
// A ReplicaSet reporting more available than desired replicas (a stale
// status) stops the plan with upstream's error; the steps before it stand.
func CleanupUnhealthyReplicas(oldRSs []*appsv1.ReplicaSet, maxCleanupCount int32) (plan []ReplicaSetScale, cleaned int32, err error) {
	for _, rs := range SortByCreation(oldRSs) {
		if cleaned >= maxCleanupCount {
			break
		}
		cur := ReplicaSetReplicas(rs)
		if cur == 0 || cur == rs.Status.AvailableReplicas {
			continue
		}
		n := min(maxCleanupCount-cleaned, cur-rs.Status.AvailableReplicas)
		to := cur - n
		if to > cur {
			return plan, cleaned, fmt.Errorf("when cleaning up unhealthy replicas, got invalid request to scale down %s/%s %d -> %d", rs.Namespace, rs.Name, cur, to)
		}
		plan = append(plan, ReplicaSetScale{ReplicaSet: rs, From: cur, To: to})
		cleaned += n
	}
	return plan, cleaned, nil
}

// ScaleDownOldReplicaSetsForRollingUpdate plans scaling old ReplicaSets down,
// oldest first, by as much as availability allows: Σ status.availableReplicas
// over allRSs minus (spec.replicas - MaxUnavailable) (mirrors the rolling.go
// function of the same name). Nothing when availability is at or below that.
func ScaleDownOldReplicaSetsForRollingUpdate(d *appsv1.Deployment, allRSs, oldRSs []*appsv1.ReplicaSet) (plan []ReplicaSetScale, scaled int32) {
	minAvailable := DeploymentReplicas(d) - MaxUnavailable(d)
	available := GetAvailableReplicaCountForReplicaSets(allRSs)
	if available <= minAvailable {
		return nil, 0
	}
	budget := available - minAvailable
	for _, rs := range SortByCreation(oldRSs) {
		if scaled >= budget {
			break
		}
		cur := ReplicaSetReplicas(rs)
		if cur == 0 {
			continue
		}
		n := min(cur, budget-scaled)
		plan = append(plan, ReplicaSetScale{ReplicaSet: rs, From: cur, To: cur - n})
		scaled += n
	}
	return plan, scaled
}

// ReconcileOldReplicaSets is the scale-down half of a rolling step (mirrors
// rolling.go reconcileOldReplicaSets): within MaxScaledDown, first
// CleanupUnhealthyReplicas, then ScaleDownOldReplicaSetsForRollingUpdate on
// the result. activeOldRSs are the old ReplicaSets with replicas; allRSs
// includes newRS. Upstream writes the cleanup before planning the
// scale-down, so a ReplicaSet can appear twice: its second step's
// ReplicaSet is an in-memory copy already at the first step's size (with
// the stale resourceVersion), so apply the second step to the object the
// first write returned.
func ReconcileOldReplicaSets(d *appsv1.Deployment, allRSs, activeOldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []ReplicaSetScale {
	if GetReplicaCountForReplicaSets(activeOldRSs) == 0 {
		return nil
	}
	maxScaledDown := MaxScaledDown(d, allRSs, newRS)
	if maxScaledDown <= 0 {
		return nil
	}
	plan, _, err := CleanupUnhealthyReplicas(activeOldRSs, maxScaledDown)
	if err != nil {
		// Upstream stops here, keeping the writes already made.
		return plan
	}
	olds := slices.Clone(activeOldRSs)
	for i, rs := range olds {
		for _, s := range plan {
			if s.ReplicaSet == rs {
				c := rs.DeepCopy()
				c.Spec.Replicas = new(s.To)
				olds[i] = c
			}
		}
	}
	all := append(slices.Clone(olds), newRS)
	down, _ := ScaleDownOldReplicaSetsForRollingUpdate(d, all, olds)
	return append(plan, down...)
}

// RollingStep plans one sync of a RollingUpdate rollout (mirrors rolling.go
// rolloutRolling, after the new ReplicaSet exists): scale the new ReplicaSet
// up (or down to spec.replicas) if it can move; else scale old ones down if
// availability allows; else, when d's current status says the rollout is
// complete, clean up history. oldRSs are all old ReplicaSets.
func RollingStep(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) (Step, error) {
	if newRS == nil {
		return Step{}, ErrNoNewReplicaSet
	}
	allRSs := append(slices.Clone(oldRSs), newRS)
	target, scale, err := ReconcileNewReplicaSet(d, allRSs, newRS)
	if err != nil {
		return Step{}, err
	}
	if scale {
		return Step{Scales: []ReplicaSetScale{{ReplicaSet: newRS, From: ReplicaSetReplicas(newRS), To: target}}}, nil
	}
	if plan := ReconcileOldReplicaSets(d, allRSs, FilterActiveReplicaSets(oldRSs), newRS); len(plan) > 0 {
		return Step{Scales: plan}, nil
	}
	var step Step
	if DeploymentComplete(d, &d.Status) {
		step.Cleanup = ReplicaSetsToCleanup(d, oldRSs)
	}
	return step, nil
}
