package rollouts

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Builders shaped like upstream's test helpers (deployment_controller_test.go
// newDeployment and rs), so ported cases read the same.

var (
	newTimestamp   = metav1.Date(2016, 5, 20, 2, 0, 0, 0, time.UTC)
	oldTimestamp   = metav1.Date(2016, 5, 20, 1, 0, 0, 0, time.UTC)
	olderTimestamp = metav1.Date(2016, 5, 20, 0, 0, 0, 0, time.UTC)
)

// newDeployment: RollingUpdate with maxSurge 0 and maxUnavailable 0 unless given.
func newDeployment(name string, replicas int32, revisionHistoryLimit *int32, maxSurge, maxUnavailable *intstr.IntOrString, selector map[string]string) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			UID:         types.UID("uid-" + name),
			Name:        name,
			Namespace:   metav1.NamespaceDefault,
			Annotations: map[string]string{},
		},
		Spec: appsv1.DeploymentSpec{
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: new(intstr.FromInt32(0)),
					MaxSurge:       new(intstr.FromInt32(0)),
				},
			},
			Replicas: new(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: selector},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Image: "foo/bar"}}},
			},
			RevisionHistoryLimit: revisionHistoryLimit,
		},
	}
	if maxSurge != nil {
		d.Spec.Strategy.RollingUpdate.MaxSurge = maxSurge
	}
	if maxUnavailable != nil {
		d.Spec.Strategy.RollingUpdate.MaxUnavailable = maxUnavailable
	}
	return d
}

// rs: an empty-template ReplicaSet named and timed as given; the UID is the name.
func rs(name string, replicas int32, selector map[string]string, timestamp metav1.Time) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:              name,
			UID:               types.UID(name),
			CreationTimestamp: timestamp,
			Namespace:         metav1.NamespaceDefault,
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: new(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
		},
	}
}

// rsWithStatus: rs with status.replicas.
func rsWithStatus(name string, specReplicas, statusReplicas int32) *appsv1.ReplicaSet {
	r := rs(name, specReplicas, nil, metav1.Time{})
	r.Status.Replicas = statusReplicas
	return r
}

// rsWithAvailable: rs with status.replicas and status.availableReplicas.
func rsWithAvailable(name string, specReplicas, statusReplicas, available int32) *appsv1.ReplicaSet {
	r := rsWithStatus(name, specReplicas, statusReplicas)
	r.Status.AvailableReplicas = available
	return r
}

// withRevision sets the revision annotation.
func withRevision(r *appsv1.ReplicaSet, rev string) *appsv1.ReplicaSet {
	if r.Annotations == nil {
		r.Annotations = map[string]string{}
	}
	r.Annotations[RevisionAnnotation] = rev
	return r
}

// generateDeployment mirrors deployment_util_test.go: a one-replica
// Deployment whose template runs image.
func generateDeployment(image string) *appsv1.Deployment {
	labels := map[string]string{"name": image}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: image, UID: types.UID("uid-" + image), Annotations: map[string]string{}},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:                   image,
						Image:                  image,
						ImagePullPolicy:        corev1.PullAlways,
						TerminationMessagePath: corev1.TerminationMessagePathDefault,
					}},
					DNSPolicy:                     corev1.DNSClusterFirst,
					TerminationGracePeriodSeconds: new(int64(30)),
					RestartPolicy:                 corev1.RestartPolicyAlways,
					SecurityContext:               &corev1.PodSecurityContext{},
				},
			},
		},
	}
}

// generateRS mirrors deployment_util_test.go: a ReplicaSet with d's template,
// owned by d, zero replicas.
func generateRS(d *appsv1.Deployment, name string) *appsv1.ReplicaSet {
	t := d.Spec.Template.DeepCopy()
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			UID:             types.UID(name),
			Name:            name,
			Labels:          t.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: new(int32(0)),
			Template: *t,
			Selector: &metav1.LabelSelector{MatchLabels: t.Labels},
		},
	}
}

// names lists the ReplicaSets' names.
func names(rss []*appsv1.ReplicaSet) []string {
	var out []string
	for _, r := range rss {
		out = append(out, r.Name)
	}
	return out
}

// sizes maps name → To over a plan, the last step for a name winning.
func sizes(plan []ReplicaSetScale) map[string]int32 {
	out := map[string]int32{}
	for _, s := range plan {
		out[s.ReplicaSet.Name] = s.To
	}
	return out
}

// mustQuantity parses a resource quantity.
func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
