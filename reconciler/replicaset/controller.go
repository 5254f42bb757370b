// Package replicaset is berth's ReplicaSet controller, a port of
// Kubernetes' pkg/controller/replicaset: it creates and deletes pods until
// each ReplicaSet controls spec.replicas active pods, adopting matching
// orphans and releasing pods that stopped matching, and it keeps the
// ReplicaSet's status (replicas, fullyLabeledReplicas, readyReplicas,
// availableReplicas, terminatingReplicas, observedGeneration, the
// ReplicaFailure condition) up to date.
//
// Reads come from the watch cache (controller.Lister); every write goes to
// the store with the resourceVersion it read. Expectations keep a cache
// that lags the controller's own writes from causing duplicate pods.
package replicaset

import (
	"context"
	"errors"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// BurstReplicas caps the pods one sync creates or deletes (upstream's
// BurstReplicas); the rest follow once the cache has seen these.
const BurstReplicas = 500

// slowStartInitialBatchSize is upstream's controller.SlowStartInitialBatchSize.
const slowStartInitialBatchSize = 1

// Name is the controller's name (and its queue's).
const Name = "replicaset"

// Controller is the ReplicaSet controller. Build it with New; it is safe
// for concurrent Syncs of different keys (the queue never hands one key to
// two workers at once).
type Controller struct {
	store    store.Store
	rsets    controller.Lister
	pods     controller.Lister
	recorder controller.Recorder
	clock    clock.PassiveClock
	burst    int

	exp       *controller.Expectations
	writes    *controller.WriteTracker
	cacheWait func(ctx context.Context, rv int64) error // set by AddHandlers
}

// New returns a ReplicaSet controller that writes to st, reads ReplicaSets
// and Pods from the watch cache's listers, records events with rec and
// reads time from clk. Register connects it to a Manager's cache and
// queue; a test can call Sync directly.
func New(st store.Store, replicaSets, pods controller.Lister, rec controller.Recorder, clk clock.PassiveClock) *Controller {
	writes := controller.NewWriteTracker(st)
	return &Controller{
		store:    writes,
		rsets:    replicaSets,
		pods:     pods,
		recorder: rec,
		clock:    clk,
		burst:    BurstReplicas,
		exp:      controller.NewExpectations(clk),
		writes:   writes,
	}
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Sync implements controller.Controller: upstream's syncReplicaSet. It
// returns a controller.Requeue while a Ready pod waits out minReadySeconds.
func (c *Controller) Sync(ctx context.Context, key string) error {
	if err := c.writes.AwaitCache(ctx, c.cacheWait); err != nil {
		return err
	}
	namespace, name := splitKey(key)
	obj, ok := c.rsets.Get(namespace, name)
	if !ok {
		c.exp.Forget(key)
		return nil
	}
	rs := obj.(*appsv1.ReplicaSet)

	needsSync := c.exp.Satisfied(key)
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		// An invalid selector matches nothing; validation keeps it out.
		return nil
	}

	owned, orphans := c.candidatePods(rs, sel)
	active, err := c.claimPods(ctx, rs, sel, filterPods(append(owned, orphans...), rollouts.IsPodActive))
	if err != nil {
		return err
	}
	terminating := filterPods(owned, func(p *corev1.Pod) bool {
		return rollouts.IsPodTerminating(p) && sel.Matches(labels.Set(p.Labels))
	})

	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manageReplicas(ctx, key, active, rs)
	}
	now := c.clock.Now()
	updated, err := c.updateStatus(ctx, rs, calculateStatus(rs, active, terminating, manageErr, now))
	if err != nil {
		return err
	}
	if manageErr != nil {
		return manageErr
	}
	// Sync again when the next Ready pod has been Ready for minReadySeconds,
	// so availableReplicas moves without waiting for another pod event.
	// As upstream, minReadySeconds is the fallback (a Ready pod without a
	// transition time never becomes available by waiting).
	if minReady := updated.Spec.MinReadySeconds; minReady > 0 && updated.Status.ReadyReplicas != updated.Status.AvailableReplicas {
		after := time.Duration(minReady) * time.Second
		if next, ok := nextAvailabilityCheck(active, minReady, now); ok {
			after = max(next-c.clock.Since(now), 0)
		}
		return controller.Requeue{After: after}
	}
	return nil
}

// candidatePods returns the cached pods rs controls (whatever their labels)
// and the orphans in its namespace that its selector matches, in key
// order: upstream's FilterPodsByOwner(includeOrphanedPods).
func (c *Controller) candidatePods(rs *appsv1.ReplicaSet, sel labels.Selector) (owned, orphans []*corev1.Pod) {
	for _, obj := range c.pods.ByOwner(rs.UID) {
		pod := obj.(*corev1.Pod)
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil && ref.UID == rs.UID {
			owned = append(owned, pod)
		}
	}
	for _, obj := range c.pods.Orphans(rs.Namespace) {
		pod := obj.(*corev1.Pod)
		if sel.Matches(labels.Set(pod.Labels)) {
			orphans = append(orphans, pod)
		}
	}
	return owned, orphans
}

// manageReplicas is upstream's: too few active pods → create the missing
// ones (at most burst) in slow-start batches; too many → delete the surplus
// in PodsToDelete order. Expectations are set before the writes so that the
// syncs the resulting events trigger wait for all of them.
func (c *Controller) manageReplicas(ctx context.Context, key string, active []*corev1.Pod, rs *appsv1.ReplicaSet) error {
	diff := len(active) - int(rollouts.ReplicaSetReplicas(rs))
	switch {
	case diff < 0:
		n := min(-diff, c.burst)
		c.exp.ExpectCreations(key, n)
		created, err := slowStartBatch(n, slowStartInitialBatchSize, func() error {
			return c.createPod(ctx, rs)
		})
		// Pods never attempted (or failed) will not show up in the cache.
		for i := created; i < n; i++ {
			c.exp.CreationObserved(key)
		}
		return err
	case diff > 0:
		n := min(diff, c.burst)
		victims := rollouts.PodsToDelete(active, c.relatedPods(rs), n, c.clock.Now())
		podKeys := make([]string, len(victims))
		for i, p := range victims {
			podKeys[i] = p.Namespace + "/" + p.Name
		}
		c.exp.ExpectDeletions(key, podKeys)
		var firstErr error
		for i, pod := range victims {
			if err := c.deletePod(ctx, rs, pod); err != nil {
				c.exp.DeletionObserved(key, podKeys[i])
				if !errors.Is(err, store.ErrNotFound) && firstErr == nil {
					firstErr = err
				}
			}
		}
		return firstErr
	}
	return nil
}

// relatedPods returns the pods of every ReplicaSet with the same controller
// as rs (the Deployment's other ReplicaSets), which ranks pods on crowded
// nodes first for deletion (upstream's getIndirectlyRelatedPods).
func (c *Controller) relatedPods(rs *appsv1.ReplicaSet) []*corev1.Pod {
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil {
		return nil
	}
	var out []*corev1.Pod
	seen := map[types.UID]bool{}
	for _, obj := range c.rsets.ByOwner(ref.UID) {
		sibling := obj.(*appsv1.ReplicaSet)
		if r := metav1.GetControllerOfNoCopy(sibling); r == nil || r.UID != ref.UID {
			continue
		}
		// The pods the sibling controls (upstream matches its selector,
		// which adds only orphans about to be adopted).
		for _, p := range c.pods.ByOwner(sibling.UID) {
			pod := p.(*corev1.Pod)
			if !seen[pod.UID] {
				seen[pod.UID] = true
				out = append(out, pod)
			}
		}
	}
	return out
}

// slowStartBatch calls fn count times in batches of 1, 2, 4, ... and stops
// after the first batch with a failure, returning how many calls
// succeeded and the first error (upstream's slowStartBatch). Calls run one
// after another: berth's store serialises writes anyway, and the order of
// created pods stays deterministic.
func slowStartBatch(count, initialBatchSize int, fn func() error) (int, error) {
	remaining := count
	successes := 0
	for batch := min(remaining, initialBatchSize); batch > 0; batch = min(2*batch, remaining) {
		var firstErr error
		for i := 0; i < batch; i++ {
			if err := fn(); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			successes++
		}
		if firstErr != nil {
			return successes, firstErr
		}
		remaining -= batch
	}
	return successes, nil
}

func filterPods(pods []*corev1.Pod, keep func(*corev1.Pod) bool) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// splitKey splits a queue key "namespace/name" (or "name").
func splitKey(key string) (namespace, name string) {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

var _ controller.Controller = (*Controller)(nil)
