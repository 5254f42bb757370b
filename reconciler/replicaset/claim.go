package replicaset

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// claimPods is upstream's PodControllerRefManager.ClaimPods: of the given
// pods it returns those rs controls after adopting orphans that match its
// selector and releasing owned pods that no longer match. Pods controlled
// by someone else are ignored. A ReplicaSet being deleted adopts and
// releases nothing.
func (c *Controller) claimPods(ctx context.Context, rs *appsv1.ReplicaSet, sel labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	var (
		claimed  []*corev1.Pod
		errs     []error
		canAdopt *error // checked at most once, on the first adoption
	)
	for _, pod := range pods {
		match := sel.Matches(labels.Set(pod.Labels))
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
			if ref.UID != rs.UID {
				continue
			}
			if match {
				claimed = append(claimed, pod)
				continue
			}
			if rs.DeletionTimestamp != nil {
				continue
			}
			if err := controller.Release(ctx, c.store, "Pod", pod, rs.UID); err != nil && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		// An orphan.
		if rs.DeletionTimestamp != nil || !match || pod.DeletionTimestamp != nil || pod.Namespace != rs.Namespace {
			continue
		}
		if canAdopt == nil {
			err := controller.RecheckCanAdopt(ctx, c.store, "ReplicaSet", rs)
			canAdopt = &err
		}
		if *canAdopt != nil {
			errs = append(errs, fmt.Errorf("can't adopt Pod %s/%s (%s): %w", pod.Namespace, pod.Name, pod.UID, *canAdopt))
			continue
		}
		adopted, err := controller.Adopt(ctx, c.store, "Pod", pod, rs, rsKind)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		if adopted != nil {
			claimed = append(claimed, adopted.(*corev1.Pod))
		}
	}
	return claimed, errors.Join(errs...)
}
