package rollouts

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// defaultFencepost is the API default of maxSurge and maxUnavailable; it
// only matters for a Deployment that skipped workloads.Default.
func defaultFencepost() *intstr.IntOrString { return new(intstr.FromString("25%")) }

// ResolveFenceposts turns maxSurge and maxUnavailable into absolute numbers
// for desired replicas (mirrors upstream's util.ResolveFenceposts). A nil
// value counts as 0. Surge rounds up and unavailable rounds down, so a rollout
// can always move: when both resolve to 0, unavailable becomes 1 (validation
// forbids both being 0 explicitly, but 25% of 1 rounds down to 0).
func ResolveFenceposts(maxSurge, maxUnavailable *intstr.IntOrString, desired int32) (surge, unavailable int32, err error) {
	zero := intstr.FromInt32(0)
	s, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(maxSurge, zero), int(desired), true)
	if err != nil {
		return 0, 0, err
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(maxUnavailable, zero), int(desired), false)
	if err != nil {
		return 0, 0, err
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u), nil
}

// IsRollingUpdate reports whether d uses the RollingUpdate strategy.
func IsRollingUpdate(d *appsv1.Deployment) bool {
	return d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType
}

// fenceposts resolves d's own maxSurge/maxUnavailable. Errors are ignored as
// upstream does ("caught by validation"): an invalid value resolves to 0,0.
func fenceposts(d *appsv1.Deployment) (surge, unavailable int32) {
	var ms, mu *intstr.IntOrString
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		ms, mu = ru.MaxSurge, ru.MaxUnavailable
	}
	if ms == nil {
		ms = defaultFencepost()
	}
	if mu == nil {
		mu = defaultFencepost()
	}
	surge, unavailable, _ = ResolveFenceposts(ms, mu, DeploymentReplicas(d))
	return surge, unavailable
}

// MaxSurge is how many pods above spec.replicas a rolling Deployment may run;
// 0 for Recreate (mirrors upstream's util.MaxSurge). A field left nil (a
// Deployment that skipped defaulting) counts as the API default, 25%.
func MaxSurge(d *appsv1.Deployment) int32 {
	if !IsRollingUpdate(d) {
		return 0
	}
	surge, _ := fenceposts(d)
	return surge
}

// MaxUnavailable is how many of spec.replicas a rolling Deployment may have
// unavailable, never more than spec.replicas; 0 for Recreate or 0 replicas
// (mirrors upstream's util.MaxUnavailable).
func MaxUnavailable(d *appsv1.Deployment) int32 {
	replicas := DeploymentReplicas(d)
	if !IsRollingUpdate(d) || replicas == 0 {
		return 0
	}
	_, unavailable := fenceposts(d)
	return min(unavailable, replicas)
}

// MinAvailable is spec.replicas - MaxUnavailable for a rolling Deployment and
// 0 for Recreate (mirrors upstream's util.MinAvailable).
func MinAvailable(d *appsv1.Deployment) int32 {
	if !IsRollingUpdate(d) {
		return 0
	}
	return DeploymentReplicas(d) - MaxUnavailable(d)
}
