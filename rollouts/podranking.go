package rollouts

import (
	"math"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IsPodReady reports whether pod has condition Ready=True (mirrors
// podutil.IsPodReady).
func IsPodReady(pod *corev1.Pod) bool {
	c := podReadyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

// podReadyCondition is pod's Ready condition, or nil.
func podReadyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodAvailable reports whether pod is ready and has been for
// minReadySeconds at now: Ready's lastTransitionTime (which must be set) +
// minReadySeconds <= now; with minReadySeconds 0 ready is enough (mirrors
// podutil.IsPodAvailable).
func IsPodAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if !IsPodReady(pod) {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	c := podReadyCondition(pod)
	return !c.LastTransitionTime.IsZero() &&
		!c.LastTransitionTime.Add(time.Duration(minReadySeconds)*time.Second).After(now)
}

// NextPodAvailabilityCheck is how long until a ready pod becomes available
// under minReadySeconds, or nil when it is not ready, already available, or
// minReadySeconds is 0 (mirrors controller nextPodAvailabilityCheck); the
// ReplicaSet controller requeues itself for then.
func NextPodAvailabilityCheck(pod *corev1.Pod, minReadySeconds int32, now time.Time) *time.Duration {
	if !IsPodReady(pod) || minReadySeconds <= 0 {
		return nil
	}
	c := podReadyCondition(pod)
	if c.LastTransitionTime.IsZero() {
		return nil
	}
	next := c.LastTransitionTime.Add(time.Duration(minReadySeconds) * time.Second).Sub(now)
	if next > 0 {
		return &next
	}
	return nil
}

// IsPodActive reports whether pod counts toward its controller's replicas:
// not Succeeded, not Failed, not being deleted (mirrors controller.IsPodActive).
func IsPodActive(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded &&
		pod.Status.Phase != corev1.PodFailed &&
		pod.DeletionTimestamp == nil
}

// IsPodTerminating reports whether pod is being deleted but has not reached
// a terminal phase (mirrors controller.IsPodTerminating); these are a
// ReplicaSet's status.terminatingReplicas.
func IsPodTerminating(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded &&
		pod.Status.Phase != corev1.PodFailed &&
		pod.DeletionTimestamp != nil
}

// PodDeletionCost parses the controller.kubernetes.io/pod-deletion-cost
// annotation: 0 when absent or invalid (a leading "+" or zero, or not an
// int32) (mirrors helper.GetDeletionCostFromPodAnnotations).
func PodDeletionCost(pod *corev1.Pod) int32 {
	v, ok := pod.Annotations[PodDeletionCostAnnotation]
	if !ok || !validFirstDigit(v) {
		return 0
	}
	i, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(i)
}

// validFirstDigit rejects "+10" and "008" as upstream does.
func validFirstDigit(s string) bool {
	if s == "" {
		return false
	}
	return s[0] == '-' || s == "0" || (s[0] >= '1' && s[0] <= '9')
}

// PodsToDelete picks which diff of a ReplicaSet's pods to delete on
// scale-down (mirrors replica_set.go getPodsToDelete). related are the pods
// of the ReplicaSet and of the others owned by the same Deployment; a pod's
// rank is how many active related pods share its node. Pods go first by,
// in turn: unassigned before assigned; Pending, then Unknown, then Running;
// not ready before ready; lower pod-deletion-cost; higher rank; ready more
// recently; more container restarts (then more sidecar restarts); created
// more recently. Ready and creation times are compared on a log2 scale of
// their age at now, with pod UIDs breaking ties within a bucket, so similar
// pods are spread rather than strictly newest first; a zero now compares
// exact times. pods is not reordered; with diff >= len(pods) all are
// returned unsorted.
func PodsToDelete(pods, related []*corev1.Pod, diff int, now time.Time) []*corev1.Pod {
	out := slices.Clone(pods)
	if diff >= len(out) {
		return out
	}
	if diff <= 0 {
		return nil
	}
	onNode := make(map[string]int)
	for _, p := range related {
		if IsPodActive(p) {
			onNode[p.Spec.NodeName]++
		}
	}
	ranked := make([]rankedPod, len(out))
	for i, p := range out {
		ranked[i] = rankedPod{pod: p, rank: onNode[p.Spec.NodeName]}
	}
	n := metav1.NewTime(now)
	slices.SortStableFunc(ranked, func(a, b rankedPod) int {
		switch {
		case deleteFirst(a, b, n):
			return -1
		case deleteFirst(b, a, n):
			return 1
		}
		return 0
	})
	for i := range ranked {
		out[i] = ranked[i].pod
	}
	return out[:diff]
}

// rankedPod pairs a pod with its co-location rank.
type rankedPod struct {
	pod  *corev1.Pod
	rank int
}

// podPhaseOrdinal orders phases for deletion; others count as Pending.
func podPhaseOrdinal(p corev1.PodPhase) int {
	switch p {
	case corev1.PodUnknown:
		return 1
	case corev1.PodRunning:
		return 2
	}
	return 0
}

// deleteFirst reports whether a should be deleted before b (mirrors
// controller.ActivePodsWithRanks.Less with PodDeletionCost enabled).
func deleteFirst(a, b rankedPod, now metav1.Time) bool {
	pa, pb := a.pod, b.pod
	if pa.Spec.NodeName != pb.Spec.NodeName && (pa.Spec.NodeName == "" || pb.Spec.NodeName == "") {
		return pa.Spec.NodeName == ""
	}
	if oa, ob := podPhaseOrdinal(pa.Status.Phase), podPhaseOrdinal(pb.Status.Phase); oa != ob {
		return oa < ob
	}
	readyA, readyB := IsPodReady(pa), IsPodReady(pb)
	if readyA != readyB {
		return !readyA
	}
	if ca, cb := PodDeletionCost(pa), PodDeletionCost(pb); ca != cb {
		return ca < cb
	}
	if a.rank != b.rank {
		return a.rank > b.rank
	}
	if readyA && readyB {
		ta, tb := podReadyTime(pa), podReadyTime(pb)
		if !ta.Equal(&tb) {
			if now.IsZero() || ta.IsZero() || tb.IsZero() {
				return afterOrZero(ta, tb)
			}
			if d := logarithmicRankDiff(ta, tb, now); d != 0 {
				return d < 0
			}
			return pa.UID < pb.UID
		}
	}
	if res := compareMaxContainerRestarts(pa, pb); res != 0 {
		return res > 0
	}
	ta, tb := pa.CreationTimestamp, pb.CreationTimestamp
	if !ta.Equal(&tb) {
		if now.IsZero() || ta.IsZero() || tb.IsZero() {
			return afterOrZero(ta, tb)
		}
		if d := logarithmicRankDiff(ta, tb, now); d != 0 {
			return d < 0
		}
		return pa.UID < pb.UID
	}
	return false
}

// afterOrZero reports whether t1 is after t2, a zero time counting as the
// latest of all.
func afterOrZero(t1, t2 metav1.Time) bool {
	if t1.IsZero() || t2.IsZero() {
		return t1.IsZero()
	}
	return t1.After(t2.Time)
}

// logarithmicRankDiff compares the base-2 logarithms of the ages of t1 and
// t2 at now; a non-positive age ranks -1.
func logarithmicRankDiff(t1, t2, now metav1.Time) int64 {
	rank := func(t metav1.Time) int64 {
		if d := now.Sub(t.Time); d > 0 {
			return int64(math.Log2(float64(d)))
		}
		return -1
	}
	return rank(t1) - rank(t2)
}

// podReadyTime is when a ready pod became ready (zero otherwise).
func podReadyTime(pod *corev1.Pod) metav1.Time {
	if c := podReadyCondition(pod); c != nil && c.Status == corev1.ConditionTrue {
		return c.LastTransitionTime
	}
	return metav1.Time{}
}

// maxContainerRestarts is the highest restart count among regular
// containers, and among sidecars (restartPolicy Always init containers).
func maxContainerRestarts(pod *corev1.Pod) (regular, sidecar int32) {
	for _, c := range pod.Status.ContainerStatuses {
		regular = max(regular, c.RestartCount)
	}
	sidecars := make(map[string]bool)
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
		}
	}
	for _, c := range pod.Status.InitContainerStatuses {
		if sidecars[c.Name] {
			sidecar = max(sidecar, c.RestartCount)
		}
	}
	return regular, sidecar
}

// compareMaxContainerRestarts is 1 when a restarted more, -1 when b did, 0
// when equal (regular containers first, then sidecars).
func compareMaxContainerRestarts(a, b *corev1.Pod) int {
	ra, sa := maxContainerRestarts(a)
	rb, sb := maxContainerRestarts(b)
	switch {
	case ra != rb:
		if ra > rb {
			return 1
		}
		return -1
	case sa != sb:
		if sa > sb {
			return 1
		}
		return -1
	}
	return 0
}
