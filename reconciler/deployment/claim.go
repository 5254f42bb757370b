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

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

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
			if err := controller.Release(ctx, c.store, "ReplicaSet", rs, d.UID); err != nil && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		if d.DeletionTimestamp != nil || !match || rs.DeletionTimestamp != nil {
			continue
		}
		if canAdopt == nil {
			err := controller.RecheckCanAdopt(ctx, c.store, "Deployment", d)
			canAdopt = &err
		}
		if *canAdopt != nil {
			errs = append(errs, fmt.Errorf("can't adopt ReplicaSet %s/%s (%s): %w", rs.Namespace, rs.Name, rs.UID, *canAdopt))
			continue
		}
		adopted, err := controller.Adopt(ctx, c.store, "ReplicaSet", rs, d, deploymentKind)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		if adopted != nil {
			claimed = append(claimed, adopted.(*appsv1.ReplicaSet))
		}
	}
	return &replicaSets{list: claimed}, errors.Join(errs...)
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
