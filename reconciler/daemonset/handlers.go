package daemonset

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

// Register builds a DaemonSet controller on m's cache and clock and
// registers it with its event handlers. The cache must hold "DaemonSet",
// "ControllerRevision", "Pod" and "Node". Call it before m.Run or the
// first m.Step.
func Register(m *controller.Manager, st store.Store, rec controller.Recorder) *Controller {
	cache := m.Cache()
	c := New(st, cache.Lister("DaemonSet"), cache.Lister("Pod"), cache.Lister("Node"), cache.Lister("ControllerRevision"), rec, m.Clock())
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

// AddHandlers registers upstream's handlers on cache, feeding q and
// keeping the expectations: every DaemonSet change; pod and
// ControllerRevision changes mapped to their controlling DaemonSet (or, for
// orphans, to the DaemonSets that may adopt them); node changes that can
// move a placement, to every DaemonSet. It also makes each Sync first wait
// until cache has applied the controller's own last write. Register calls
// it.
func (c *Controller) AddHandlers(cache *controller.Cache, q Enqueuer) {
	c.cacheWait = cache.WaitFor
	cache.AddHandler("DaemonSet", func(old, cur store.Object) {
		if cur == nil {
			key := controller.KeyOf(old)
			c.exp.Forget(key)
			q.Add(key)
			return
		}
		if old != nil && old.(*appsv1.DaemonSet).UID != cur.(*appsv1.DaemonSet).UID {
			c.exp.Forget(controller.KeyOf(old))
		}
		q.Add(controller.KeyOf(cur))
	})
	cache.AddHandler("Pod", func(old, cur store.Object) { c.onPod(q, old, cur) })
	cache.AddHandler("ControllerRevision", func(old, cur store.Object) { c.onRevision(q, old, cur) })
	cache.AddHandler("Node", func(old, cur store.Object) {
		if old != nil && cur != nil && !nodeChanged(old.(*corev1.Node), cur.(*corev1.Node)) {
			return
		}
		for _, ds := range c.dsets.List("", nil) {
			q.Add(controller.KeyOf(ds))
		}
	})
}

func (c *Controller) onPod(q Enqueuer, old, cur store.Object) {
	switch {
	case old == nil:
		pod := cur.(*corev1.Pod)
		if pod.DeletionTimestamp != nil {
			c.deletedPod(q, pod)
			return
		}
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
			if ds := c.resolveControllerRef(pod.Namespace, ref); ds != nil {
				key := controller.KeyOf(ds)
				c.exp.CreationObserved(key)
				q.Add(key)
			}
			return
		}
		c.enqueueSelecting(q, pod.Namespace, pod.Labels)
	case cur == nil:
		c.deletedPod(q, old.(*corev1.Pod))
	default:
		c.updatedPod(q, old.(*corev1.Pod), cur.(*corev1.Pod))
	}
}

// updatedPod wakes the DaemonSets a pod change concerns; a pod that got a
// deletionTimestamp counts as deleted.
func (c *Controller) updatedPod(q Enqueuer, old, cur *corev1.Pod) {
	if cur.ResourceVersion == old.ResourceVersion {
		return
	}
	if cur.DeletionTimestamp != nil {
		c.deletedPod(q, cur)
		return
	}
	curRef := metav1.GetControllerOfNoCopy(cur)
	oldRef := metav1.GetControllerOfNoCopy(old)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if ds := c.resolveControllerRef(old.Namespace, oldRef); ds != nil {
			q.Add(controller.KeyOf(ds))
		}
	}
	if curRef != nil {
		ds := c.resolveControllerRef(cur.Namespace, curRef)
		if ds == nil {
			return
		}
		key := controller.KeyOf(ds)
		q.Add(key)
		// Available minReadySeconds after Ready, with no event then.
		if !rollouts.IsPodReady(old) && rollouts.IsPodReady(cur) && ds.Spec.MinReadySeconds > 0 {
			q.AddAfter(key, time.Duration(ds.Spec.MinReadySeconds)*time.Second)
		}
		return
	}
	if refChanged || !reflect.DeepEqual(cur.Labels, old.Labels) {
		c.enqueueSelecting(q, cur.Namespace, cur.Labels)
	}
}

// deletedPod observes a deletion (or the start of a graceful one).
func (c *Controller) deletedPod(q Enqueuer, pod *corev1.Pod) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return
	}
	if ds := c.resolveControllerRef(pod.Namespace, ref); ds != nil {
		key := controller.KeyOf(ds)
		c.exp.DeletionObserved(key, pod.Namespace+"/"+pod.Name)
		q.Add(key)
	}
}

func (c *Controller) onRevision(q Enqueuer, old, cur store.Object) {
	for _, obj := range []store.Object{old, cur} {
		if obj == nil {
			continue
		}
		rev := obj.(*appsv1.ControllerRevision)
		if ref := metav1.GetControllerOfNoCopy(rev); ref != nil {
			if ds := c.resolveControllerRef(rev.Namespace, ref); ds != nil {
				q.Add(controller.KeyOf(ds))
			}
			continue
		}
		if cur != nil && obj == cur {
			c.enqueueSelecting(q, rev.Namespace, rev.Labels)
		}
	}
}

// enqueueSelecting wakes the DaemonSets that may adopt an orphan.
func (c *Controller) enqueueSelecting(q Enqueuer, namespace string, labels map[string]string) {
	for _, ds := range controller.SelectingOwners(c.dsets, namespace, labels, func(o store.Object) *metav1.LabelSelector {
		return o.(*appsv1.DaemonSet).Spec.Selector
	}) {
		q.Add(controller.KeyOf(ds))
	}
}

// resolveControllerRef returns the cached DaemonSet a controller reference
// names, if it is a DaemonSet with that UID.
func (c *Controller) resolveControllerRef(namespace string, ref *metav1.OwnerReference) *appsv1.DaemonSet {
	ds, _ := controller.ResolveControllerRef(c.dsets, dsKind.Kind, namespace, ref).(*appsv1.DaemonSet)
	return ds
}

// nodeChanged reports whether a node update can change where daemon pods
// belong: labels, taints, spec.unschedulable or readiness (heartbeats
// alone cannot; upstream's shouldIgnoreNodeUpdate).
func nodeChanged(old, cur *corev1.Node) bool {
	return !reflect.DeepEqual(old.Labels, cur.Labels) ||
		!reflect.DeepEqual(old.Spec.Taints, cur.Spec.Taints) ||
		old.Spec.Unschedulable != cur.Spec.Unschedulable ||
		readyStatus(old) != readyStatus(cur)
}

func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}
