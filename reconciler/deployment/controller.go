// Package deployment is berth's Deployment controller, a port of
// Kubernetes' pkg/controller/deployment: each sync takes one step of a
// RollingUpdate or Recreate rollout by creating and resizing ReplicaSets
// (named "<deployment>-<pod-template-hash>"), keeps their revision
// annotations, scales proportionally when spec.replicas changes
// mid-rollout, prunes history beyond revisionHistoryLimit, and maintains
// the Deployment's status and its Available and Progressing conditions
// (progressDeadlineSeconds, pause and resume).
//
// The arithmetic lives in package rollouts; this package reads the watch
// cache, decides in upstream's order and writes to the store. Rollback and
// History are the client side of `berth rollout undo` and `rollout
// history`.
package deployment

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// Name is the controller's name (and its queue's).
const Name = "deployment"

// deploymentKind is the GroupVersionKind of owner references to Deployments.
var deploymentKind = appsv1.SchemeGroupVersion.WithKind("Deployment")

// Controller is the Deployment controller. Build it with New; it is safe
// for concurrent Syncs of different keys.
type Controller struct {
	store       store.Store
	deployments controller.Lister
	rsets       controller.Lister
	pods        controller.Lister
	recorder    controller.Recorder
	clock       clock.PassiveClock

	writes    *controller.WriteTracker
	cacheWait func(ctx context.Context, rv int64) error // set by AddHandlers
}

// New returns a Deployment controller that writes to st, reads
// Deployments, ReplicaSets and Pods from the watch cache's listers, records
// events with rec and reads time from clk (conditions' times, the progress
// deadline). Register connects it to a Manager; a test can call Sync
// directly.
func New(st store.Store, deployments, replicaSets, pods controller.Lister, rec controller.Recorder, clk clock.PassiveClock) *Controller {
	writes := controller.NewWriteTracker(st)
	return &Controller{
		store:       writes,
		deployments: deployments,
		rsets:       replicaSets,
		pods:        pods,
		recorder:    rec,
		clock:       clk,
		writes:      writes,
	}
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Sync implements controller.Controller: upstream's syncDeployment, in its
// order of precedence: deletion, pause, the legacy rollback annotation, a
// scaling event, then one step of the strategy. It may return a
// controller.Requeue to check the progress deadline later.
func (c *Controller) Sync(ctx context.Context, key string) error {
	if err := c.writes.AwaitCache(ctx, c.cacheWait); err != nil {
		return err
	}
	namespace, name := splitKey(key)
	obj, ok := c.deployments.Get(namespace, name)
	if !ok {
		return nil
	}
	// Deep-copy: the cached object is shared.
	d := obj.(*appsv1.Deployment).DeepCopy()

	if reflect.DeepEqual(d.Spec.Selector, &metav1.LabelSelector{}) {
		c.recorder.Eventf(d, corev1.EventTypeWarning, rollouts.SelectingAllReason, rollouts.SelectingAllMessage)
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			_ = c.updateDeployment(ctx, d) // upstream ignores this error too
		}
		return nil
	}

	// The ReplicaSets this Deployment owns, after adoption and orphaning.
	rsList, err := c.getReplicaSetsForDeployment(ctx, d)
	if err != nil {
		return err
	}

	if d.DeletionTimestamp != nil {
		return c.syncStatusOnly(ctx, d, rsList)
	}

	// Pausing and resuming set a Progressing=Unknown condition, so that a
	// Deployment paused longer than its deadline is not reported stuck.
	if err := c.checkPausedConditions(ctx, d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.sync(ctx, d, rsList)
	}

	// The legacy rollback annotation is not re-entrant: it is cleared before
	// the ReplicaSets are touched again.
	if getRollbackTo(d) != nil {
		return c.rollback(ctx, d, rsList)
	}

	scaling, err := c.isScalingEvent(ctx, d, rsList)
	if err != nil {
		return err
	}
	if scaling {
		return c.sync(ctx, d, rsList)
	}

	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		return c.rolloutRecreate(ctx, d, rsList, c.getPodMapForDeployment(rsList.list))
	case appsv1.RollingUpdateDeploymentStrategyType:
		return c.rolloutRolling(ctx, d, rsList)
	}
	return fmt.Errorf("unexpected deployment strategy type: %s", d.Spec.Strategy.Type)
}

// updateDeployment writes d (spec, metadata and status together: berth's
// store has no status subresource) and refreshes d in place with what the
// store returned, so later writes in the same sync carry the new
// resourceVersion (and generation) instead of conflicting with their own
// sync. On ErrConflict d is untouched and the error goes back to the queue.
func (c *Controller) updateDeployment(ctx context.Context, d *appsv1.Deployment) error {
	obj, err := c.store.Update(ctx, d)
	if err != nil {
		return err
	}
	*d = *obj.(*appsv1.Deployment)
	return nil
}

// updateReplicaSet writes rs and returns the stored copy.
func (c *Controller) updateReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	obj, err := c.store.Update(ctx, rs)
	if err != nil {
		return nil, err
	}
	return obj.(*appsv1.ReplicaSet), nil
}

// splitKey splits a queue key "namespace/name" (or "name").
func splitKey(key string) (namespace, name string) {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

var _ controller.Controller = (*Controller)(nil)
