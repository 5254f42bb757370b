package workloads

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var specPath = field.NewPath("spec")

// deployment checks a Deployment (upstream's ValidateDeployment).
func (c *checks) deployment(d *appsv1.Deployment) {
	s := &d.Spec
	c.objectMeta(&d.ObjectMeta, subdomainName)
	nonNegativeOptional(c, s.Replicas, specPath.Child("replicas"))
	c.workloadSelector(s.Selector, &s.Template, specPath, "Deployment")
	c.podTemplate(&s.Template, specPath.Child("template"), controllerPods)
	c.noActiveDeadline(&s.Template, specPath.Child("template"), "Deployment")
	c.deploymentStrategy(&s.Strategy, specPath.Child("strategy"))
	c.nonNegative(int64(s.MinReadySeconds), specPath.Child("minReadySeconds"))
	nonNegativeOptional(c, s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))
	if pd := s.ProgressDeadlineSeconds; pd != nil {
		p := specPath.Child("progressDeadlineSeconds")
		switch {
		case *pd < 0:
			c.nonNegative(int64(*pd), p)
		case *pd <= s.MinReadySeconds:
			c.invalid(p, RuleInvalid, *pd, "must be greater than minReadySeconds")
		}
	}
}

// deploymentStrategy checks spec.strategy. An empty type and an absent
// rollingUpdate are left to Default (RollingUpdate, 25%/25%).
func (c *checks) deploymentStrategy(st *appsv1.DeploymentStrategy, path *field.Path) {
	switch st.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if st.RollingUpdate != nil {
			c.forbidden(path.Child("rollingUpdate"), RuleInvalid, "may not be specified when strategy `type` is 'Recreate'")
		}
	case "", appsv1.RollingUpdateDeploymentStrategyType:
		if ru := st.RollingUpdate; ru != nil {
			c.rollingUpdateDeployment(ru, path.Child("rollingUpdate"))
		}
	default:
		unsupportedValue(c, path.Child("type"), RuleEnum, st.Type,
			appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType)
	}
}

// rollingUpdateDeployment checks maxUnavailable and maxSurge: each a count
// or a percentage, not both zero (the rollout could never make progress).
func (c *checks) rollingUpdateDeployment(ru *appsv1.RollingUpdateDeployment, path *field.Path) {
	unavailable := c.intOrPercent(ru.MaxUnavailable, path.Child("maxUnavailable"), "25%", true)
	surge := c.intOrPercent(ru.MaxSurge, path.Child("maxSurge"), "25%", false)
	if unavailable == 0 && surge == 0 {
		v := intstr.FromInt32(0)
		if ru.MaxUnavailable != nil {
			v = *ru.MaxUnavailable
		}
		c.invalid(path.Child("maxUnavailable"), RuleSurgeUnavail, v, "may not be 0 when `maxSurge` is 0")
	}
}

// intOrPercent checks a rolling-update bound (nil: def) and returns its
// value, a count or a percentage, for the checks that combine bounds. A
// percentage above 100 is an error when atMost100 is set.
func (c *checks) intOrPercent(v *intstr.IntOrString, path *field.Path, def string, atMost100 bool) int {
	if v == nil {
		d := intstr.Parse(def)
		v = &d
	}
	if v.Type == intstr.Int {
		if v.IntVal < 0 {
			c.invalid(path, RuleIntOrPercent, v.IntVal, "must be greater than or equal to 0")
		}
		return int(v.IntVal)
	}
	if msgs := validation.IsValidPercent(v.StrVal); len(msgs) > 0 {
		c.invalidAll(path, RuleIntOrPercent, v.StrVal, msgs)
		return -1 // neither zero nor usable
	}
	n, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	if atMost100 && n > 100 {
		c.invalid(path, RuleIntOrPercent, v.StrVal, "must not be greater than 100%")
	}
	return n
}

// replicaSet checks a ReplicaSet.
func (c *checks) replicaSet(rs *appsv1.ReplicaSet) {
	s := &rs.Spec
	c.objectMeta(&rs.ObjectMeta, subdomainName)
	nonNegativeOptional(c, s.Replicas, specPath.Child("replicas"))
	c.nonNegative(int64(s.MinReadySeconds), specPath.Child("minReadySeconds"))
	c.workloadSelector(s.Selector, &s.Template, specPath, "ReplicaSet")
	c.podTemplate(&s.Template, specPath.Child("template"), controllerPods)
	c.noActiveDeadline(&s.Template, specPath.Child("template"), "ReplicaSet")
}

// daemonSet checks a DaemonSet.
func (c *checks) daemonSet(ds *appsv1.DaemonSet) {
	s := &ds.Spec
	c.objectMeta(&ds.ObjectMeta, subdomainName)
	c.workloadSelector(s.Selector, &s.Template, specPath, "DaemonSet")
	c.podTemplate(&s.Template, specPath.Child("template"), controllerPods)
	c.noActiveDeadline(&s.Template, specPath.Child("template"), "DaemonSet")
	c.nonNegative(int64(s.MinReadySeconds), specPath.Child("minReadySeconds"))
	nonNegativeOptional(c, s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))
	c.daemonSetStrategy(&s.UpdateStrategy, specPath.Child("updateStrategy"))
}

// daemonSetStrategy checks spec.updateStrategy; empty values are left to
// Default (RollingUpdate, maxUnavailable 1, maxSurge 0).
func (c *checks) daemonSetStrategy(st *appsv1.DaemonSetUpdateStrategy, path *field.Path) {
	switch st.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
	case "", appsv1.RollingUpdateDaemonSetStrategyType:
		if st.RollingUpdate != nil {
			c.rollingUpdateDaemonSet(st.RollingUpdate, path.Child("rollingUpdate"))
		}
	default:
		unsupportedValue(c, path.Child("type"), RuleEnum, st.Type,
			appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType)
	}
}

// rollingUpdateDaemonSet: exactly one of maxUnavailable and maxSurge is
// non-zero (a node runs at most two pods of the set), both at most 100%.
func (c *checks) rollingUpdateDaemonSet(ru *appsv1.RollingUpdateDaemonSet, path *field.Path) {
	unavailable := c.intOrPercent(ru.MaxUnavailable, path.Child("maxUnavailable"), "1", true)
	surge := c.intOrPercent(ru.MaxSurge, path.Child("maxSurge"), "0", true)
	switch {
	case unavailable > 0 && surge > 0:
		c.invalid(path.Child("maxSurge"), RuleSurgeUnavail, ru.MaxSurge, "may not be set when maxUnavailable is non-zero")
	case unavailable == 0 && surge == 0:
		c.required(path.Child("maxUnavailable"), RuleSurgeUnavail, "cannot be 0 when maxSurge is 0")
	}
}

// statefulSet checks a StatefulSet. Its pods may mount the volumes of its
// volumeClaimTemplates.
func (c *checks) statefulSet(ss *appsv1.StatefulSet) {
	s := &ss.Spec
	c.objectMeta(&ss.ObjectMeta, labelName)
	nonNegativeOptional(c, s.Replicas, specPath.Child("replicas"))
	c.nonNegative(int64(s.MinReadySeconds), specPath.Child("minReadySeconds"))
	nonNegativeOptional(c, s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))
	if s.Ordinals != nil {
		c.nonNegative(int64(s.Ordinals.Start), specPath.Child("ordinals", "start"))
	}
	c.workloadSelector(s.Selector, &s.Template, specPath, "StatefulSet")
	owner := controllerPods
	for i, claim := range s.VolumeClaimTemplates {
		p := specPath.Child("volumeClaimTemplates").Index(i).Child("metadata", "name")
		if claim.Name == "" {
			c.required(p, RuleRequired, "")
			continue
		}
		c.dnsSubdomain(claim.Name, p, RuleName)
		owner.claimVolumes = append(owner.claimVolumes, claim.Name)
	}
	c.podTemplate(&s.Template, specPath.Child("template"), owner)
	c.noActiveDeadline(&s.Template, specPath.Child("template"), "StatefulSet")
	switch s.PodManagementPolicy {
	case "", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		unsupportedValue(c, specPath.Child("podManagementPolicy"), RuleEnum, s.PodManagementPolicy,
			appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)
	}
	c.statefulSetStrategy(&s.UpdateStrategy, specPath.Child("updateStrategy"))
	if pol := s.PersistentVolumeClaimRetentionPolicy; pol != nil {
		p := specPath.Child("persistentVolumeClaimRetentionPolicy")
		c.retentionPolicy(pol.WhenDeleted, p.Child("whenDeleted"))
		c.retentionPolicy(pol.WhenScaled, p.Child("whenScaled"))
	}
}

// statefulSetStrategy checks spec.updateStrategy of a StatefulSet.
func (c *checks) statefulSetStrategy(st *appsv1.StatefulSetUpdateStrategy, path *field.Path) {
	switch st.Type {
	case appsv1.OnDeleteStatefulSetStrategyType:
		if st.RollingUpdate != nil {
			c.invalid(path.Child("rollingUpdate"), RuleInvalid, st.RollingUpdate, "only allowed for updateStrategy 'RollingUpdate'")
		}
	case "", appsv1.RollingUpdateStatefulSetStrategyType:
		ru := st.RollingUpdate
		if ru == nil {
			return
		}
		p := path.Child("rollingUpdate")
		nonNegativeOptional(c, ru.Partition, p.Child("partition"))
		if ru.MaxUnavailable != nil {
			if c.intOrPercent(ru.MaxUnavailable, p.Child("maxUnavailable"), "1", true) == 0 {
				c.invalid(p.Child("maxUnavailable"), RuleSurgeUnavail, *ru.MaxUnavailable, "cannot be 0")
			}
		}
	default:
		unsupportedValue(c, path.Child("type"), RuleEnum, st.Type,
			appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType)
	}
}

// retentionPolicy checks one PVC retention policy; empty is left to
// Default (Retain).
func (c *checks) retentionPolicy(p appsv1.PersistentVolumeClaimRetentionPolicyType, path *field.Path) {
	switch p {
	case "", appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
	default:
		unsupportedValue(c, path, RuleEnum, p,
			appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType)
	}
}
