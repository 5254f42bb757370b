package rollouts

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// DaemonSet API defaults of the rolling update fenceposts; they only matter
// for a DaemonSet that skipped workloads.Default.
var (
	defaultDaemonSetMaxUnavailable = intstr.FromInt32(1)
	defaultDaemonSetMaxSurge       = intstr.FromInt32(0)
)

// IsDaemonSetRollingUpdate reports whether ds uses the RollingUpdate update
// strategy (the API default when the type is empty).
func IsDaemonSetRollingUpdate(ds *appsv1.DaemonSet) bool {
	t := ds.Spec.UpdateStrategy.Type
	return t == appsv1.RollingUpdateDaemonSetStrategyType || t == ""
}

// daemonSetFencepostValues returns ds's maxUnavailable and maxSurge, with the
// API defaults (1 and 0) for unset values.
func daemonSetFencepostValues(ds *appsv1.DaemonSet) (maxUnavailable, maxSurge intstr.IntOrString) {
	maxUnavailable, maxSurge = defaultDaemonSetMaxUnavailable, defaultDaemonSetMaxSurge
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		if ru.MaxUnavailable != nil {
			maxUnavailable = *ru.MaxUnavailable
		}
		if ru.MaxSurge != nil {
			maxSurge = *ru.MaxSurge
		}
	}
	return maxUnavailable, maxSurge
}

// DaemonSetUnavailableCount is how many of desired nodes a rolling update
// may leave without an available pod: maxUnavailable scaled to desired,
// a percentage rounded UP (unlike a Deployment's, which rounds down); 0 for
// OnDelete (mirrors upstream's daemon util.UnavailableCount).
func DaemonSetUnavailableCount(ds *appsv1.DaemonSet, desired int) (int, error) {
	if !IsDaemonSetRollingUpdate(ds) {
		return 0, nil
	}
	u, _ := daemonSetFencepostValues(ds)
	return intstr.GetScaledValueFromIntOrPercent(&u, desired, true)
}

// DaemonSetSurgeCount is how many nodes a rolling update may run a new pod
// on next to the old one: maxSurge scaled to desired, rounded up; 0 for
// OnDelete (mirrors upstream's daemon util.SurgeCount).
func DaemonSetSurgeCount(ds *appsv1.DaemonSet, desired int) (int, error) {
	if !IsDaemonSetRollingUpdate(ds) {
		return 0, nil
	}
	_, s := daemonSetFencepostValues(ds)
	return intstr.GetScaledValueFromIntOrPercent(&s, desired, true)
}

// DaemonSetAllowsSurge reports whether ds's rolling update starts the new pod
// before stopping the old one (maxSurge > 0; mirrors util.AllowsSurge).
func DaemonSetAllowsSurge(ds *appsv1.DaemonSet) bool {
	s, err := DaemonSetSurgeCount(ds, 1)
	return err == nil && s != 0
}

// DaemonSetFenceposts resolves maxSurge and maxUnavailable for desired
// nodes as upstream's updatedDesiredNodeCounts does: when a DaemonSet with
// nodes to run on resolves both to 0 (validation forbids it, but "0%" of a
// few nodes rounds to 0 only for maxSurge), maxUnavailable becomes 1 so the
// rollout can move.
func DaemonSetFenceposts(ds *appsv1.DaemonSet, desired int) (maxSurge, maxUnavailable int, err error) {
	maxUnavailable, err = DaemonSetUnavailableCount(ds, desired)
	if err != nil {
		return 0, 0, err
	}
	maxSurge, err = DaemonSetSurgeCount(ds, desired)
	if err != nil {
		return 0, 0, err
	}
	if desired > 0 && maxUnavailable == 0 && maxSurge == 0 {
		maxUnavailable = 1
	}
	return maxSurge, maxUnavailable, nil
}
