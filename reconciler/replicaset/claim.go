package replicaset

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

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
			if err := c.releasePod(ctx, rs, pod); err != nil && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		// An orphan.
		if rs.DeletionTimestamp != nil || !match || pod.DeletionTimestamp != nil || pod.Namespace != rs.Namespace {
			continue
		}
		if canAdopt == nil {
			err := c.recheckCanAdopt(ctx, rs)
			canAdopt = &err
		}
		if *canAdopt != nil {
			errs = append(errs, fmt.Errorf("can't adopt Pod %s/%s (%s): %w", pod.Namespace, pod.Name, pod.UID, *canAdopt))
			continue
		}
		adopted, err := c.adoptPod(ctx, rs, pod)
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

// recheckCanAdopt re-reads the ReplicaSet from the store (not the cache)
// before the first adoption, as upstream's RecheckDeletionTimestamp does:
// a ReplicaSet that is being deleted or was replaced must not adopt.
func (c *Controller) recheckCanAdopt(ctx context.Context, rs *appsv1.ReplicaSet) error {
	obj, err := c.store.Get(ctx, "ReplicaSet", rs.Namespace, rs.Name)
	if err != nil {
		return err
	}
	fresh := obj.(*appsv1.ReplicaSet)
	if fresh.UID != rs.UID {
		return fmt.Errorf("original ReplicaSet %s/%s is gone: got uid %s, wanted %s", rs.Namespace, rs.Name, fresh.UID, rs.UID)
	}
	if fresh.DeletionTimestamp != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", rs.Namespace, rs.Name, fresh.DeletionTimestamp)
	}
	return nil
}

// adoptPod makes rs the controller of an orphan pod. It returns nil, nil
// when the pod turned out to have a controller by now.
func (c *Controller) adoptPod(ctx context.Context, rs *appsv1.ReplicaSet, pod *corev1.Pod) (*corev1.Pod, error) {
	for i := 0; ; i++ {
		cur, err := c.freshPod(ctx, pod)
		if err != nil {
			return nil, err
		}
		if metav1.GetControllerOfNoCopy(cur) != nil {
			return nil, nil
		}
		cur.OwnerReferences = append(cur.OwnerReferences, *metav1.NewControllerRef(rs, rsKind))
		obj, err := c.store.Update(ctx, cur)
		if err == nil {
			return obj.(*corev1.Pod), nil
		}
		if !errors.Is(err, store.ErrConflict) || i >= conflictRetries {
			return nil, err
		}
	}
}

// releasePod removes rs's owner reference from a pod that no longer
// matches its selector.
func (c *Controller) releasePod(ctx context.Context, rs *appsv1.ReplicaSet, pod *corev1.Pod) error {
	for i := 0; ; i++ {
		cur, err := c.freshPod(ctx, pod)
		if err != nil {
			return err
		}
		refs := cur.OwnerReferences[:0:0]
		for _, r := range cur.OwnerReferences {
			if r.UID != rs.UID {
				refs = append(refs, r)
			}
		}
		if len(refs) == len(cur.OwnerReferences) {
			return nil
		}
		cur.OwnerReferences = refs
		_, err = c.store.Update(ctx, cur)
		if err == nil || !errors.Is(err, store.ErrConflict) || i >= conflictRetries {
			return err
		}
	}
}
