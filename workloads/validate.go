package workloads

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Per-object validation: the checks the Kubernetes API server makes when an
// object is created (pkg/apis/{core,apps,batch}/validation upstream), run on
// a typed object that Default has already filled in. Every finding names the
// field it is about and, where upstream has one, uses upstream's message, so
// that what `berth validate` says matches what `kubectl apply` would say.
//
// The files:
//   validate.go           dispatch by kind, the checks type and its message helpers
//   validate_meta.go      metadata, names, labels, annotations, label selectors
//   validate_pod.go       the pod spec shared by Pod and every pod template
//   validate_container.go containers: ports, env, mounts, probes, resources
//   validate_scheduling.go affinity, tolerations, topology spread
//   validate_workloads.go Deployment, ReplicaSet, DaemonSet, StatefulSet
//   validate_batch.go     Job, CronJob
//   validate_core.go      Namespace, ConfigMap, Secret, Service
//   validate_refs.go      the ConfigMaps and Secrets pod specs refer to

// validateObject checks one defaulted object of a served kind and returns
// what is wrong with it. Objects of other types yield nothing.
func validateObject(obj runtime.Object) []Finding {
	c := &checks{}
	switch o := obj.(type) {
	case *corev1.Namespace:
		c.namespaceObject(o)
	case *corev1.ConfigMap:
		c.configMap(o)
	case *corev1.Secret:
		c.secret(o)
	case *corev1.Pod:
		c.pod(o)
	case *corev1.Service:
		c.service(o)
	case *appsv1.Deployment:
		c.deployment(o)
	case *appsv1.ReplicaSet:
		c.replicaSet(o)
	case *appsv1.DaemonSet:
		c.daemonSet(o)
	case *appsv1.StatefulSet:
		c.statefulSet(o)
	case *batchv1.Job:
		c.job(o)
	case *batchv1.CronJob:
		c.cronJob(o)
	}
	return c.out
}

// checks collects findings. Its helpers build messages the way upstream's
// field.Error does ("Invalid value: -1: must be greater than or equal to
// 0"), without the path, which the caller prints separately.
type checks struct {
	out []Finding
}

func (c *checks) add(path *field.Path, rule string, e *field.Error) {
	c.out = append(c.out, errorAt(path, rule, e.ErrorBody()))
}

// required reports a missing field: "Required value[: detail]".
func (c *checks) required(path *field.Path, rule, detail string) {
	c.add(path, rule, field.Required(path, detail))
}

// invalid reports a bad value: "Invalid value: VALUE: detail".
func (c *checks) invalid(path *field.Path, rule string, value any, detail string) {
	c.add(path, rule, field.Invalid(path, value, detail))
}

// invalidAll reports one invalid-value finding per message, as the
// apimachinery Is* helpers return several.
func (c *checks) invalidAll(path *field.Path, rule string, value any, msgs []string) {
	for _, msg := range msgs {
		c.invalid(path, rule, value, msg)
	}
}

// unsupportedValue reports a value outside an enumeration:
// `Unsupported value: "X": supported values: "A", "B"`.
func unsupportedValue[T ~string](c *checks, path *field.Path, rule string, value T, valid ...T) {
	c.add(path, rule, field.NotSupported(path, value, valid))
}

// forbidden reports a field that may not be set here: "Forbidden: detail".
func (c *checks) forbidden(path *field.Path, rule, detail string) {
	c.add(path, rule, field.Forbidden(path, detail))
}

// duplicate reports a value that must be unique: `Duplicate value: "x"`.
func (c *checks) duplicate(path *field.Path, rule string, value any) {
	c.add(path, rule, field.Duplicate(path, value))
}

// notFound reports a reference to something that is not declared:
// `Not found: "x"`, with an optional hint.
func (c *checks) notFound(path *field.Path, rule string, value any, detail string) {
	e := field.NotFound(path, value)
	e.Detail = detail
	c.add(path, rule, e)
}

// warn reports something upstream accepts but that will not work as the
// user probably means.
func (c *checks) warn(path *field.Path, rule, msg string) {
	c.out = append(c.out, warningAt(path, rule, msg))
}

// nonNegative is upstream's ValidateNonnegativeField.
func (c *checks) nonNegative(value int64, path *field.Path) {
	if value < 0 {
		c.invalid(path, RuleNonNegative, value, "must be greater than or equal to 0")
	}
}

// nonNegativeOptional checks an optional integer field.
func nonNegativeOptional[T ~int32 | ~int64](c *checks, value *T, path *field.Path) {
	if value != nil {
		c.nonNegative(int64(*value), path)
	}
}

// keysInOrder returns a map's keys in order, so findings come out stable.
func keysInOrder[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
