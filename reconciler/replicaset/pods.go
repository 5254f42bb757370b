package replicaset

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/workloads"
)

// Event reasons for pods, upstream's (pkg/controller/controller_utils.go).
const (
	SuccessfulCreatePodReason = "SuccessfulCreate"
	FailedCreatePodReason     = "FailedCreate"
	SuccessfulDeletePodReason = "SuccessfulDelete"
	FailedDeletePodReason     = "FailedDelete"
)

// rsKind is the GroupVersionKind of the owner reference put on pods.
var rsKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

// podFromTemplate builds a pod as upstream's GetPodFromTemplate does, then
// defaults it as the API server would on create: labels, annotations and
// finalizers from the template, generateName "<rs>-" (the store appends
// five characters), the ReplicaSet as controller.
func podFromTemplate(rs *appsv1.ReplicaSet) *corev1.Pod {
	t := &rs.Spec.Template
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       rs.Namespace,
			GenerateName:    rs.Name + "-",
			Labels:          copyMap(t.Labels),
			Annotations:     copyMap(t.Annotations),
			Finalizers:      append([]string(nil), t.Finalizers...),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, rsKind)},
		},
		Spec: *t.Spec.DeepCopy(),
	}
	workloads.Default(pod)
	return pod
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// createPod creates one pod for rs and records upstream's events.
func (c *Controller) createPod(ctx context.Context, rs *appsv1.ReplicaSet) error {
	pod := podFromTemplate(rs)
	if len(pod.Labels) == 0 {
		return errors.New("unable to create pods, no labels")
	}
	obj, err := c.store.Create(ctx, pod)
	if err != nil {
		c.recorder.Eventf(rs, corev1.EventTypeWarning, FailedCreatePodReason, "Error creating: %v", err)
		return err
	}
	created := obj.(*corev1.Pod)
	c.recorder.Eventf(rs, corev1.EventTypeNormal, SuccessfulCreatePodReason, "Created pod: %v", created.Name)
	return nil
}

// deletePod deletes a pod the way the API server's graceful DELETE does:
// a pod bound to a live node gets deletionTimestamp = now + its grace
// period and deletionGracePeriodSeconds, and the node agent removes it once
// its containers stopped; a pod on no node (unscheduled, or bound to a node
// that does not exist) or already terminal is removed at once. A pod that
// is already gone returns store.ErrNotFound.
func (c *Controller) deletePod(ctx context.Context, rs *appsv1.ReplicaSet, pod *corev1.Pod) error {
	err := c.gracefulDelete(ctx, pod)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.recorder.Eventf(rs, corev1.EventTypeWarning, FailedDeletePodReason, "Error deleting: %v", err)
			return fmt.Errorf("unable to delete pods: %w", err)
		}
		return err
	}
	c.recorder.Eventf(rs, corev1.EventTypeNormal, SuccessfulDeletePodReason, "Deleted pod: %v", pod.Name)
	return nil
}

// gracefulDelete deletes a pod through the store, which, like the API
// server, only marks a running pod for deletion and leaves its removal to
// the node once the containers have stopped.
func (c *Controller) gracefulDelete(ctx context.Context, pod *corev1.Pod) error {
	return c.store.Delete(ctx, "Pod", pod.Namespace, pod.Name, store.DeleteOptions{UID: string(pod.UID)})
}
