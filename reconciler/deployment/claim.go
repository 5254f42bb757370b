package deployment

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// conflictRetries bounds the re-reads of an ownerReference edit that races
// another writer (a Kubernetes PATCH would not conflict at all).
const conflictRetries = 3

// replicaSets are the ReplicaSets one sync works on, those the Deployment
// owns, with the new one (the one with the Deployment's template) found
// once: that comparison is the costliest part of a sync, and upstream's
// structure asks for it up to four times per sync (FindOldReplicaSets and
// FindNewReplicaSet, in isScalingEvent and again in the rollout).
type replicaSets struct {
	list   []*appsv1.ReplicaSet // in the cache's key order
	looked bool                 // newUID is known
	newUID types.UID            // "" when there is no new ReplicaSet
}

// split returns the new ReplicaSet (nil if none) and all the old ones,
// oldest first, as rollouts.FindNewReplicaSet and FindOldReplicaSets do.
// The Deployment's template must not change between calls.
func (s *replicaSets) split(d *appsv1.Deployment) (newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) {
	if !s.looked {
		if rs := rollouts.FindNewReplicaSet(d, s.list); rs != nil {
			s.newUID = rs.UID
		}
		s.looked = true
	}
	for _, rs := range rollouts.SortByCreation(s.list) {
		if s.newUID != "" && rs.UID == s.newUID {
			newRS = rs
			continue
		}
		old = append(old, rs)
	}
	return newRS, old
}

// replace puts a freshly written copy of one of the ReplicaSets in the
// list, so later steps of the sync do not act on (or write) the old copy.
func (s *replicaSets) replace(rs *appsv1.ReplicaSet) {
	for i := range s.list {
		if s.list[i].UID == rs.UID {
			s.list[i] = rs
		}
	}
}

// getReplicaSetsForDeployment is upstream's: the ReplicaSets in d's
// namespace that d controls and its selector matches, after adopting
// matching orphans and releasing owned ones that stopped matching
// (ReplicaSetControllerRefManager.ClaimReplicaSets). The result is in the
// cache's key order.
func (c *Controller) getReplicaSetsForDeployment(ctx context.Context, d *appsv1.Deployment) (*replicaSets, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has invalid label selector: %v", d.Namespace, d.Name, err)
	}
	var (
		claimed  []*appsv1.ReplicaSet
		errs     []error
		canAdopt *error
	)
	for _, obj := range c.rsets.List(d.Namespace, nil) {
		rs := obj.(*appsv1.ReplicaSet)
		match := sel.Matches(labels.Set(rs.Labels))
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
			if ref.UID != d.UID {
				continue
			}
			if match {
				claimed = append(claimed, rs)
				continue
			}
			if d.DeletionTimestamp != nil {
				continue
			}
			if err := c.releaseReplicaSet(ctx, d, rs); err != nil && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		if d.DeletionTimestamp != nil || !match || rs.DeletionTimestamp != nil {
			continue
		}
		if canAdopt == nil {
			err := c.recheckCanAdopt(ctx, d)
			canAdopt = &err
		}
		if *canAdopt != nil {
			errs = append(errs, fmt.Errorf("can't adopt ReplicaSet %s/%s (%s): %w", rs.Namespace, rs.Name, rs.UID, *canAdopt))
			continue
		}
		adopted, err := c.adoptReplicaSet(ctx, d, rs)
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
	return &replicaSets{list: claimed}, errors.Join(errs...)
}

// recheckCanAdopt re-reads d from the store before the first adoption: a
// Deployment being deleted, or replaced by another of the same name, must
// not adopt (upstream's RecheckDeletionTimestamp).
func (c *Controller) recheckCanAdopt(ctx context.Context, d *appsv1.Deployment) error {
	obj, err := c.store.Get(ctx, "Deployment", d.Namespace, d.Name)
	if err != nil {
		return err
	}
	fresh := obj.(*appsv1.Deployment)
	if fresh.UID != d.UID {
		return fmt.Errorf("original Deployment %s/%s is gone: got uid %s, wanted %s", d.Namespace, d.Name, fresh.UID, d.UID)
	}
	if fresh.DeletionTimestamp != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", d.Namespace, d.Name, fresh.DeletionTimestamp)
	}
	return nil
}

// adoptReplicaSet makes d the controller of an orphan ReplicaSet. It
// returns nil, nil if the ReplicaSet found a controller meanwhile.
func (c *Controller) adoptReplicaSet(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	for i := 0; ; i++ {
		cur, err := c.freshReplicaSet(ctx, rs)
		if err != nil {
			return nil, err
		}
		if metav1.GetControllerOfNoCopy(cur) != nil {
			return nil, nil
		}
		cur.OwnerReferences = append(cur.OwnerReferences, *metav1.NewControllerRef(d, deploymentKind))
		updated, err := c.updateReplicaSet(ctx, cur)
		if err == nil {
			return updated, nil
		}
		if !errors.Is(err, store.ErrConflict) || i >= conflictRetries {
			return nil, err
		}
	}
}

// releaseReplicaSet removes d's owner reference from a ReplicaSet its
// selector no longer matches.
func (c *Controller) releaseReplicaSet(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet) error {
	for i := 0; ; i++ {
		cur, err := c.freshReplicaSet(ctx, rs)
		if err != nil {
			return err
		}
		refs := cur.OwnerReferences[:0:0]
		for _, r := range cur.OwnerReferences {
			if r.UID != d.UID {
				refs = append(refs, r)
			}
		}
		if len(refs) == len(cur.OwnerReferences) {
			return nil
		}
		cur.OwnerReferences = refs
		_, err = c.updateReplicaSet(ctx, cur)
		if err == nil || !errors.Is(err, store.ErrConflict) || i >= conflictRetries {
			return err
		}
	}
}

// freshReplicaSet re-reads rs from the store; one replaced by another of
// the same name counts as gone.
func (c *Controller) freshReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	obj, err := c.store.Get(ctx, "ReplicaSet", rs.Namespace, rs.Name)
	if err != nil {
		return nil, err
	}
	fresh := obj.(*appsv1.ReplicaSet)
	if fresh.UID != rs.UID {
		return nil, fmt.Errorf("replica set %s/%s was replaced: %w", rs.Namespace, rs.Name, store.ErrNotFound)
	}
	return fresh, nil
}

// getPodMapForDeployment maps the UID of each ReplicaSet in rsList to the
// cached pods it controls, whatever their labels (upstream's
// getPodMapForDeployment). Recreate uses it to wait for old pods to stop.
func (c *Controller) getPodMapForDeployment(rsList []*appsv1.ReplicaSet) map[types.UID][]*corev1.Pod {
	podMap := make(map[types.UID][]*corev1.Pod, len(rsList))
	for _, rs := range rsList {
		var pods []*corev1.Pod
		for _, obj := range c.pods.ByOwner(rs.UID) {
			pod := obj.(*corev1.Pod)
			if ref := metav1.GetControllerOfNoCopy(pod); ref != nil && ref.UID == rs.UID && ref.Kind == "ReplicaSet" {
				pods = append(pods, pod)
			}
		}
		podMap[rs.UID] = pods
	}
	return podMap
}
