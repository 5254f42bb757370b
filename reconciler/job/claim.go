package job

import (
	"context"
	"errors"
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// claimPods is upstream's getPodsForJob: the pods job controls, after
// adopting the orphans its selector matches (they get the tracking
// finalizer too, so they are counted when they finish) and releasing the
// pods it controls that its selector no longer matches (and dropping
// their finalizer). Pods of other controllers are left alone.
func (c *Controller) claimPods(ctx context.Context, job *batchv1.Job, sel labels.Selector) ([]*corev1.Pod, error) {
	var (
		claimed  []*corev1.Pod
		errs     []error
		canAdopt *error // checked once, before the first adoption
	)
	for _, obj := range c.pods.ByOwner(job.UID) {
		pod := obj.(*corev1.Pod)
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil || ref.UID != job.UID {
			continue
		}
		if sel.Matches(labels.Set(pod.Labels)) {
			claimed = append(claimed, pod)
			continue
		}
		if job.DeletionTimestamp != nil {
			continue
		}
		if err := c.releasePod(ctx, pod, job); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	for _, obj := range c.pods.Orphans(job.Namespace) {
		pod := obj.(*corev1.Pod)
		if job.DeletionTimestamp != nil || pod.DeletionTimestamp != nil || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		if canAdopt == nil {
			err := controller.RecheckCanAdopt(ctx, c.store, "Job", job)
			canAdopt = &err
		}
		if *canAdopt != nil {
			errs = append(errs, fmt.Errorf("can't adopt Pod %s/%s (%s): %w", pod.Namespace, pod.Name, pod.UID, *canAdopt))
			continue
		}
		adopted, err := c.adoptPod(ctx, pod, job)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		if adopted != nil {
			claimed = append(claimed, adopted)
		}
	}
	return claimed, errors.Join(errs...)
}

// adoptPod makes job the controller of the orphan pod and adds the
// tracking finalizer; nil, nil when the pod found a controller meanwhile.
func (c *Controller) adoptPod(ctx context.Context, pod *corev1.Pod, job *batchv1.Job) (*corev1.Pod, error) {
	for i := 0; ; i++ {
		obj, err := controller.Fresh(ctx, c.store, "Pod", pod)
		if err != nil {
			return nil, err
		}
		cur := obj.(*corev1.Pod)
		if metav1.GetControllerOfNoCopy(cur) != nil {
			return nil, nil
		}
		cur.OwnerReferences = append(cur.OwnerReferences, *metav1.NewControllerRef(job, jobKind))
		if !isTracked(cur) {
			cur.Finalizers = append(cur.Finalizers, batchv1.JobTrackingFinalizer)
		}
		updated, err := c.store.Update(ctx, cur)
		if err == nil {
			return updated.(*corev1.Pod), nil
		}
		if !errors.Is(err, store.ErrConflict) || i >= controller.ConflictRetries {
			return nil, err
		}
	}
}

// releasePod removes job's ownerReference and the tracking finalizer from
// pod.
func (c *Controller) releasePod(ctx context.Context, pod *corev1.Pod, job *batchv1.Job) error {
	for i := 0; ; i++ {
		obj, err := controller.Fresh(ctx, c.store, "Pod", pod)
		if err != nil {
			return err
		}
		cur := obj.(*corev1.Pod)
		refs := slices.DeleteFunc(slices.Clone(cur.OwnerReferences), func(r metav1.OwnerReference) bool { return r.UID == job.UID })
		if len(refs) == len(cur.OwnerReferences) {
			return nil
		}
		cur.OwnerReferences = refs
		cur.Finalizers = untracked(cur.Finalizers)
		_, err = c.store.Update(ctx, cur)
		if err == nil || !errors.Is(err, store.ErrConflict) || i >= controller.ConflictRetries {
			return err
		}
	}
}
