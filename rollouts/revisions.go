package rollouts

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Revision parses obj's deployment.kubernetes.io/revision annotation; a
// missing annotation is revision 0 (mirrors util.Revision).
func Revision(obj metav1.Object) (int64, error) {
	v, ok := obj.GetAnnotations()[RevisionAnnotation]
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// MaxRevision is the highest revision among rss; unparseable revisions are
// skipped (mirrors util.MaxRevision).
func MaxRevision(rss []*appsv1.ReplicaSet) int64 {
	var maxRev int64
	for _, rs := range rss {
		if rs == nil {
			continue
		}
		if v, err := Revision(rs); err == nil && v > maxRev {
			maxRev = v
		}
	}
	return maxRev
}

// LastRevision is the second highest revision among rss, the one the legacy
// rollback annotation with revision 0 goes back to (mirrors util.LastRevision).
func LastRevision(rss []*appsv1.ReplicaSet) int64 {
	var maxRev, secMax int64
	for _, rs := range rss {
		if rs == nil {
			continue
		}
		v, err := Revision(rs)
		switch {
		case err != nil:
		case v >= maxRev:
			secMax, maxRev = maxRev, v
		case v > secMax:
			secMax = v
		}
	}
	return secMax
}

// NextRevision is the revision the new ReplicaSet should carry:
// MaxRevision(oldRSs)+1, in decimal (sync.go getNewReplicaSet). Pass the old
// ReplicaSets only; the new one keeps a higher revision it already has.
func NextRevision(oldRSs []*appsv1.ReplicaSet) string {
	return strconv.FormatInt(MaxRevision(oldRSs)+1, 10)
}

// SetNewReplicaSetAnnotations brings newRS's annotations up to date and
// reports whether any changed (mirrors util.SetNewReplicaSetAnnotations):
//   - every Deployment annotation except SkipCopyAnnotation ones is copied;
//   - the revision becomes newRevision when that is higher (numerically);
//   - if the ReplicaSet already had a revision that was raised (a rollback
//     brought an old template back), the old value is appended to
//     revision-history ("1", then "1,3"), dropping the oldest entries so the
//     result stays within revHistoryLimitInChars (upstream passes
//     MaxRevisionHistoryLengthInChars); an entry that cannot fit is dropped;
//   - for a ReplicaSet about to be created (exists false), desired-replicas
//     and max-replicas are set (SetReplicasAnnotations).
//
// An unparseable existing revision or newRevision leaves the revision alone
// and returns false, even when annotations were copied, as upstream does.
func SetNewReplicaSetAnnotations(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, newRevision string, exists bool, revHistoryLimitInChars int) bool {
	changed := copyDeploymentAnnotationsToReplicaSet(d, newRS)
	oldRevision, had := newRS.Annotations[RevisionAnnotation]
	oldRev, err := strconv.ParseInt(oldRevision, 10, 64)
	if err != nil {
		if oldRevision != "" {
			return false
		}
		oldRev = 0
	}
	newRev, err := strconv.ParseInt(newRevision, 10, 64)
	if err != nil {
		return false
	}
	if oldRev < newRev {
		newRS.Annotations[RevisionAnnotation] = newRevision
		changed = true
		if had {
			appendRevisionHistory(newRS.Annotations, oldRevision, revHistoryLimitInChars)
		}
	}
	replicas := DeploymentReplicas(d)
	if !exists && SetReplicasAnnotations(newRS, replicas, replicas+MaxSurge(d)) {
		changed = true
	}
	return changed
}

// appendRevisionHistory appends rev to the revision-history list, trimming
// the oldest entries to stay within limit characters.
func appendRevisionHistory(annotations map[string]string, rev string, limit int) {
	history := annotations[RevisionHistoryAnnotation]
	old := strings.Split(history, ",")
	if len(old[0]) == 0 {
		// Upstream tests only the first element: an empty or leading-comma
		// history is replaced, not appended to.
		annotations[RevisionHistoryAnnotation] = rev
		return
	}
	total := len(history) + len(rev) + 1
	start := 0
	for total > limit && start < len(old) {
		total -= len(old[start]) + 1
		start++
	}
	if total <= limit {
		annotations[RevisionHistoryAnnotation] = strings.Join(append(old[start:], rev), ",")
	}
}

// copyDeploymentAnnotationsToReplicaSet copies d's annotations, except the
// skipped ones, onto rs and reports whether rs changed.
func copyDeploymentAnnotationsToReplicaSet(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	changed := false
	if rs.Annotations == nil {
		rs.Annotations = make(map[string]string)
	}
	for k, v := range d.Annotations {
		if cur, ok := rs.Annotations[k]; SkipCopyAnnotation(k) || (ok && cur == v) {
			continue
		}
		rs.Annotations[k] = v
		changed = true
	}
	return changed
}

// SetDeploymentRevision sets d's revision annotation and reports whether it
// changed (mirrors util.SetDeploymentRevision). The controller copies the new
// ReplicaSet's revision onto the Deployment this way.
func SetDeploymentRevision(d *appsv1.Deployment, revision string) bool {
	if d.Annotations == nil {
		d.Annotations = make(map[string]string)
	}
	if d.Annotations[RevisionAnnotation] == revision {
		return false
	}
	d.Annotations[RevisionAnnotation] = revision
	return true
}

// SetDeploymentAnnotationsTo replaces d's annotations with rs's, keeping d's
// own skipped annotations (revision, last-applied, ...), as a rollback does
// so the change-cause follows the template back (mirrors
// util.SetDeploymentAnnotationsTo).
func SetDeploymentAnnotationsTo(d *appsv1.Deployment, rs *appsv1.ReplicaSet) {
	d.Annotations = RollbackAnnotations(d, rs)
}

// RollbackAnnotations is the annotation set a Deployment gets when rolled
// back to rs: d's skipped annotations plus rs's non-skipped ones (kubectl's
// undo patch and util.SetDeploymentAnnotationsTo agree on this).
func RollbackAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet) map[string]string {
	out := make(map[string]string)
	for k, v := range d.Annotations {
		if SkipCopyAnnotation(k) {
			out[k] = v
		}
	}
	for k, v := range rs.Annotations {
		if !SkipCopyAnnotation(k) {
			out[k] = v
		}
	}
	return out
}

// SetReplicasAnnotations sets desired-replicas and max-replicas on rs and
// reports whether either changed (mirrors util.SetReplicasAnnotations).
func SetReplicasAnnotations(rs *appsv1.ReplicaSet, desiredReplicas, maxReplicas int32) bool {
	if rs.Annotations == nil {
		rs.Annotations = make(map[string]string)
	}
	changed := false
	if s := strconv.FormatInt(int64(desiredReplicas), 10); rs.Annotations[DesiredReplicasAnnotation] != s {
		rs.Annotations[DesiredReplicasAnnotation] = s
		changed = true
	}
	if s := strconv.FormatInt(int64(maxReplicas), 10); rs.Annotations[MaxReplicasAnnotation] != s {
		rs.Annotations[MaxReplicasAnnotation] = s
		changed = true
	}
	return changed
}

// ReplicasAnnotationsNeedUpdate reports whether SetReplicasAnnotations would
// change rs (mirrors util.ReplicasAnnotationsNeedUpdate).
func ReplicasAnnotationsNeedUpdate(rs *appsv1.ReplicaSet, desiredReplicas, maxReplicas int32) bool {
	if rs.Annotations == nil {
		return true
	}
	return rs.Annotations[DesiredReplicasAnnotation] != strconv.FormatInt(int64(desiredReplicas), 10) ||
		rs.Annotations[MaxReplicasAnnotation] != strconv.FormatInt(int64(maxReplicas), 10)
}

// GetDesiredReplicasAnnotation reads desired-replicas; ok is false when it is
// missing or not a non-negative int32 (mirrors util.GetDesiredReplicasAnnotation).
func GetDesiredReplicasAnnotation(rs *appsv1.ReplicaSet) (value int32, ok bool) {
	value, ok, _ = nonNegativeInt32Annotation(rs, DesiredReplicasAnnotation)
	return value, ok
}

// getMaxReplicasAnnotation reads max-replicas like GetDesiredReplicasAnnotation.
func getMaxReplicasAnnotation(rs *appsv1.ReplicaSet) (int32, bool) {
	value, ok, _ := nonNegativeInt32Annotation(rs, MaxReplicasAnnotation)
	return value, ok
}

// nonNegativeInt32Annotation mirrors util.getNonNegativeInt32FromAnnotation:
// "-1" and "+1" are syntax errors, values above MaxInt32 are out of range.
func nonNegativeInt32Annotation(rs *appsv1.ReplicaSet, key string) (int32, bool, error) {
	s, ok := rs.Annotations[key]
	if !ok {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false, err
	}
	if v > math.MaxInt32 {
		return 0, false, fmt.Errorf("value %d is out of range (higher than %d)", v, math.MaxInt32)
	}
	return int32(v), true, nil
}

// IsScalingEvent reports whether spec.replicas changed since the active
// ReplicaSets were last scaled: some active one's desired-replicas annotation
// differs from it (mirrors deployment_controller isScalingEvent). A scaling
// event is handled by ScalePlan instead of a rollout step.
func IsScalingEvent(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) bool {
	for _, rs := range FilterActiveReplicaSets(append(slices.Clone(oldRSs), newRS)) {
		if desired, ok := GetDesiredReplicasAnnotation(rs); ok && desired != DeploymentReplicas(d) {
			return true
		}
	}
	return false
}

// compareByRevision orders by revision ascending; unparseable or equal
// revisions fall back to creation order (upstream's ReplicaSetsByRevision).
func compareByRevision(a, b *appsv1.ReplicaSet) int {
	ra, errA := Revision(a)
	rb, errB := Revision(b)
	if errA != nil || errB != nil || ra == rb {
		return compareByCreation(a, b)
	}
	if ra < rb {
		return -1
	}
	return 1
}
