package rollouts

import (
	"math"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
)

// HasRevisionHistoryLimit reports whether old ReplicaSets are garbage
// collected: revisionHistoryLimit is set and not MaxInt32 (mirrors
// util.HasRevisionHistoryLimit). 0 is a limit: keep none.
func HasRevisionHistoryLimit(d *appsv1.Deployment) bool {
	return d.Spec.RevisionHistoryLimit != nil && *d.Spec.RevisionHistoryLimit != math.MaxInt32
}

// ReplicaSetsToCleanup lists the old ReplicaSets to delete so that at most
// revisionHistoryLimit remain (mirrors sync.go cleanupDeployment). Only those
// not already being deleted count; the excess is taken lowest revision first
// (creation order on ties or unparseable revisions), but one still having
// replicas (spec or status) or not yet observed by the ReplicaSet controller
// (generation > observedGeneration) is skipped, not replaced by the next, so
// fewer may be returned. Upstream deletes them in this order and ignores
// NotFound.
func ReplicaSetsToCleanup(d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	if !HasRevisionHistoryLimit(d) {
		return nil
	}
	var cleanable []*appsv1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			cleanable = append(cleanable, rs)
		}
	}
	diff := len(cleanable) - int(*d.Spec.RevisionHistoryLimit)
	if diff <= 0 {
		return nil
	}
	// Validation forbids a negative limit; upstream would index out of range.
	diff = min(diff, len(cleanable))
	slices.SortStableFunc(cleanable, compareByRevision)
	var out []*appsv1.ReplicaSet
	for _, rs := range cleanable[:diff] {
		if rs.Status.Replicas != 0 || ReplicaSetReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		out = append(out, rs)
	}
	return out
}
