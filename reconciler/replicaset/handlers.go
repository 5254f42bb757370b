package replicaset

import (
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// Register builds a ReplicaSet controller on m's cache and clock and
// registers it with its event handlers. The cache must hold "ReplicaSet"
// and "Pod". Call it before m.Run or the first m.Step:
//
//	cache := controller.NewCache(st, "Deployment", "ReplicaSet", "Pod", "Node")
//	m := controller.NewManager(cache, clk)
//	rec := controller.NewRecorder(st, clk, "replicaset-controller")
//	replicaset.Register(m, st, rec)
func Register(m *controller.Manager, st store.Store, rec controller.Recorder) *Controller {
	cache := m.Cache()
	c := New(st, cache.Lister("ReplicaSet"), cache.Lister("Pod"), rec, m.Clock())
	q := m.Register(c)
	c.AddHandlers(cache, q)
	return c
}

// Enqueuer is the part of a work queue the handlers use
// (*controller.Queue has it).
type Enqueuer interface {
	Add(key string)
	AddAfter(key string, d time.Duration)
}

// AddHandlers registers the controller's cache handlers, which feed q and
// keep the expectations: upstream's addRS/updateRS/deleteRS and
// addPod/updatePod/deletePod. It also makes each Sync first wait until
// cache has applied the controller's own last write. Register calls it;
// call it yourself when wiring the controller to a queue by hand.
func (c *Controller) AddHandlers(cache *controller.Cache, q Enqueuer) {
	c.cacheWait = cache.WaitFor
	cache.AddHandler("ReplicaSet", func(old, cur store.Object) { c.onReplicaSet(q, old, cur) })
	cache.AddHandler("Pod", func(old, cur store.Object) { c.onPod(q, old, cur) })
}

func (c *Controller) onReplicaSet(q Enqueuer, old, cur store.Object) {
	if cur == nil {
		// Deleted: a new ReplicaSet of the same name starts without
		// expectations.
		key := controller.KeyOf(old)
		c.exp.Forget(key)
		q.Add(key)
		return
	}
	if old != nil && old.(*appsv1.ReplicaSet).UID != cur.(*appsv1.ReplicaSet).UID {
		c.exp.Forget(controller.KeyOf(old))
	}
	q.Add(controller.KeyOf(cur))
}

func (c *Controller) onPod(q Enqueuer, old, cur store.Object) {
	switch {
	case old == nil:
		c.addPod(q, cur.(*corev1.Pod))
	case cur == nil:
		c.deletedPod(q, old.(*corev1.Pod))
	default:
		c.updatePod(q, old.(*corev1.Pod), cur.(*corev1.Pod))
	}
}

// addPod observes a creation for the pod's ReplicaSet, or wakes the
// ReplicaSets that may adopt an orphan.
func (c *Controller) addPod(q Enqueuer, pod *corev1.Pod) {
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already terminating (a restart): that is
		// not a creation this controller waits for.
		c.deletedPod(q, pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		rs := c.resolveControllerRef(pod.Namespace, ref)
		if rs == nil {
			return
		}
		key := controller.KeyOf(rs)
		c.exp.CreationObserved(key)
		q.Add(key)
		return
	}
	for _, rs := range c.podReplicaSets(pod) {
		q.Add(controller.KeyOf(rs))
	}
}

// updatePod wakes the ReplicaSets a pod change concerns. A pod that got a
// deletionTimestamp counts as deleted right away, so the ReplicaSet
// replaces it without waiting for the node to stop it.
func (c *Controller) updatePod(q Enqueuer, old, cur *corev1.Pod) {
	if cur.ResourceVersion == old.ResourceVersion {
		return
	}
	labelChanged := !reflect.DeepEqual(cur.Labels, old.Labels)
	if cur.DeletionTimestamp != nil {
		c.deletedPod(q, cur)
		if labelChanged {
			c.deletedPod(q, old)
		}
		return
	}
	curRef := metav1.GetControllerOfNoCopy(cur)
	oldRef := metav1.GetControllerOfNoCopy(old)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if rs := c.resolveControllerRef(old.Namespace, oldRef); rs != nil {
			q.Add(controller.KeyOf(rs))
		}
	}
	if curRef != nil {
		rs := c.resolveControllerRef(cur.Namespace, curRef)
		if rs == nil {
			return
		}
		key := controller.KeyOf(rs)
		q.Add(key)
		// A pod that just became Ready becomes available minReadySeconds
		// later, with no event then: look again at that time.
		if !rollouts.IsPodReady(old) && rollouts.IsPodReady(cur) && rs.Spec.MinReadySeconds > 0 {
			q.AddAfter(key, time.Duration(rs.Spec.MinReadySeconds)*time.Second)
		}
		return
	}
	if labelChanged || refChanged {
		for _, rs := range c.podReplicaSets(cur) {
			q.Add(controller.KeyOf(rs))
		}
	}
}

// deletedPod observes a deletion (or the start of a graceful one) for the
// pod's ReplicaSet.
func (c *Controller) deletedPod(q Enqueuer, pod *corev1.Pod) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return
	}
	rs := c.resolveControllerRef(pod.Namespace, ref)
	if rs == nil {
		return
	}
	key := controller.KeyOf(rs)
	c.exp.DeletionObserved(key, pod.Namespace+"/"+pod.Name)
	q.Add(key)
}

// resolveControllerRef returns the cached ReplicaSet a controller
// reference names, if it is a ReplicaSet with that UID.
func (c *Controller) resolveControllerRef(namespace string, ref *metav1.OwnerReference) *appsv1.ReplicaSet {
	rs, _ := controller.ResolveControllerRef(c.rsets, rsKind.Kind, namespace, ref).(*appsv1.ReplicaSet)
	return rs
}

// podReplicaSets returns the cached ReplicaSets that may adopt pod
// (upstream's GetPodReplicaSets).
func (c *Controller) podReplicaSets(pod *corev1.Pod) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, obj := range controller.SelectingOwners(c.rsets, pod.Namespace, pod.Labels, func(o store.Object) *metav1.LabelSelector {
		return o.(*appsv1.ReplicaSet).Spec.Selector
	}) {
		out = append(out, obj.(*appsv1.ReplicaSet))
	}
	return out
}
