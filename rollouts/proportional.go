package rollouts

import (
	"math"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
)

// IsSaturated reports whether rs alone serves d: its spec.replicas, its
// desired-replicas annotation and its available replicas all equal
// d.spec.replicas (mirrors util.IsSaturated).
func IsSaturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, err := strconv.Atoi(rs.Annotations[DesiredReplicasAnnotation])
	if err != nil {
		return false
	}
	replicas := DeploymentReplicas(d)
	return ReplicaSetReplicas(rs) == replicas && int32(desired) == replicas && rs.Status.AvailableReplicas == replicas
}

// GetProportion is how many replicas rs gains (or, negative, loses) in a
// proportional scale, given the total toAdd for the Deployment and the
// amount already handed out (mirrors util.GetReplicaSetProportion). It is
// rs's share, capped so the total never overshoots toAdd; 0 for an empty
// ReplicaSet, which is never scaled up from zero proportionally.
func GetProportion(d *appsv1.Deployment, rs *appsv1.ReplicaSet, toAdd, added int32) int32 {
	if rs == nil || ReplicaSetReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	fraction := replicaSetFraction(d, rs)
	allowed := toAdd - added
	if toAdd > 0 {
		return min(fraction, allowed)
	}
	return max(fraction, allowed)
}

// replicaSetFraction is rs's size scaled from the Deployment's size when rs
// was last scaled (its max-replicas annotation, i.e. replicas + surge then)
// to the size now, minus its current size (mirrors getReplicaSetFraction).
// Without a usable annotation it falls back to d.status.replicas, and to no
// change when that is 0 too.
func replicaSetFraction(d *appsv1.Deployment, rs *appsv1.ReplicaSet) int32 {
	cur := ReplicaSetReplicas(rs)
	replicas := DeploymentReplicas(d)
	if replicas == 0 {
		return -cur
	}
	maxNow := replicas + MaxSurge(d)
	maxBefore, ok := getMaxReplicasAnnotation(rs)
	if !ok || maxBefore == 0 {
		maxBefore = d.Status.Replicas
		if maxBefore == 0 {
			return 0
		}
	}
	// Upstream multiplies in int32; int64 only differs where that overflowed.
	size := float64(int64(cur)*int64(maxNow)) / float64(maxBefore)
	return int32(math.Round(size)) - cur
}

// ScalePlan plans a scaling event or a paused Deployment's resize (mirrors
// sync.go scale):
//   - with at most one active ReplicaSet (FindActiveOrLatest), that one (or
//     the newest) goes to spec.replicas;
//   - with a saturated new ReplicaSet, every active old one goes to 0;
//   - otherwise, for RollingUpdate, the difference between spec.replicas +
//     maxSurge (0 when scaling to 0) and the active total is spread over the
//     active ReplicaSets in proportion to their size (GetProportion), largest
//     first, newer first on ties when adding and older first when removing;
//     what rounding leaves over goes to the first in that order (never below
//     0). Every active ReplicaSet gets a Force step so its desired-/max-replicas
//     annotations are refreshed even when its size stays.
//
// For example old 8 and new 5 (max-replicas 13: 10 replicas, surge 3)
// scaled to 30 become 20 and 13. Recreate with several active ReplicaSets
// plans nothing, as upstream.
func ScalePlan(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) []ReplicaSetScale {
	replicas := DeploymentReplicas(d)
	if rs := FindActiveOrLatest(newRS, oldRSs); rs != nil {
		if cur := ReplicaSetReplicas(rs); cur != replicas {
			return []ReplicaSetScale{{ReplicaSet: rs, From: cur, To: replicas}}
		}
		return nil
	}
	if IsSaturated(d, newRS) {
		var plan []ReplicaSetScale
		for _, rs := range FilterActiveReplicaSets(oldRSs) {
			plan = append(plan, ReplicaSetScale{ReplicaSet: rs, From: ReplicaSetReplicas(rs), To: 0})
		}
		return plan
	}
	if !IsRollingUpdate(d) {
		return nil
	}
	active := FilterActiveReplicaSets(append(slices.Clone(oldRSs), newRS))
	var allowed int32
	if replicas > 0 {
		allowed = replicas + MaxSurge(d)
	}
	toAdd := allowed - GetReplicaCountForReplicaSets(active)
	switch {
	case toAdd > 0:
		sortBySizeNewer(active)
	case toAdd < 0:
		sortBySizeOlder(active)
	}
	sizes := make([]int32, len(active))
	var added int32
	for i, rs := range active {
		sizes[i] = ReplicaSetReplicas(rs)
		if toAdd != 0 {
			p := GetProportion(d, rs, toAdd, added)
			sizes[i] += p
			added += p
		}
	}
	plan := make([]ReplicaSetScale, len(active))
	for i, rs := range active {
		if i == 0 && toAdd != 0 {
			sizes[0] = max(sizes[0]+toAdd-added, 0)
		}
		plan[i] = ReplicaSetScale{ReplicaSet: rs, From: ReplicaSetReplicas(rs), To: sizes[i], Force: true}
	}
	return plan
}
