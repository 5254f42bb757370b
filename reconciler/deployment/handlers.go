package deployment

import (
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Register builds a Deployment controller on m's cache and clock and
// registers it with its event handlers. The cache must hold "Deployment",
// "ReplicaSet" and "Pod". Call it before m.Run or the first m.Step:
//
//	cache := controller.NewCache(st, "Deployment", "ReplicaSet", "Pod", "Node")
//	m := controller.NewManager(cache, clk)
//	deployment.Register(m, st, controller.NewRecorder(st, clk, "deployment-controller"))
//	replicaset.Register(m, st, controller.NewRecorder(st, clk, "replicaset-controller"))
func Register(m *controller.Manager, st store.Store, rec controller.Recorder) *Controller {
	cache := m.Cache()
	c := New(st, cache.Lister("Deployment"), cache.Lister("ReplicaSet"), cache.Lister("Pod"), rec, m.Clock())
	q := m.Register(c)
	c.AddHandlers(cache, q)
	return c
}

// Enqueuer is the part of a work queue the handlers use
// (*controller.Queue has it).
type Enqueuer interface {
	Add(key string)
}

// AddHandlers registers upstream's handlers on cache, feeding q: every
// Deployment change; ReplicaSet changes mapped to their controlling
// Deployment (or, for orphans, to the Deployments that may adopt them);
// pod deletions for Recreate Deployments, which wait for old pods to go.
// It also makes each Sync first wait until cache has applied the
// controller's own last write. Register calls it.
func (c *Controller) AddHandlers(cache *controller.Cache, q Enqueuer) {
	c.cacheWait = cache.WaitFor
	cache.AddHandler("Deployment", func(old, cur store.Object) {
		if cur != nil {
			q.Add(controller.KeyOf(cur))
		} else {
			q.Add(controller.KeyOf(old))
		}
	})
	cache.AddHandler("ReplicaSet", func(old, cur store.Object) { c.onReplicaSet(q, old, cur) })
	cache.AddHandler("Pod", func(old, cur store.Object) {
		if cur == nil {
			c.deletedPod(q, old.(*corev1.Pod))
		}
	})
}

func (c *Controller) onReplicaSet(q Enqueuer, old, cur store.Object) {
	switch {
	case old == nil:
		c.addReplicaSet(q, cur.(*appsv1.ReplicaSet))
	case cur == nil:
		c.deletedReplicaSet(q, old.(*appsv1.ReplicaSet))
	default:
		c.changedReplicaSet(q, old.(*appsv1.ReplicaSet), cur.(*appsv1.ReplicaSet))
	}
}

func (c *Controller) addReplicaSet(q Enqueuer, rs *appsv1.ReplicaSet) {
	if rs.DeletionTimestamp != nil {
		c.deletedReplicaSet(q, rs)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if d := c.resolveControllerRef(rs.Namespace, ref); d != nil {
			q.Add(controller.KeyOf(d))
		}
		return
	}
	for _, d := range c.deploymentsForReplicaSet(rs) {
		q.Add(controller.KeyOf(d))
	}
}

// changedReplicaSet wakes the old and the new controller of a changed
// ReplicaSet, or the Deployments that may adopt an orphan whose labels or
// owner changed.
func (c *Controller) changedReplicaSet(q Enqueuer, old, cur *appsv1.ReplicaSet) {
	if cur.ResourceVersion == old.ResourceVersion {
		return
	}
	curRef := metav1.GetControllerOfNoCopy(cur)
	oldRef := metav1.GetControllerOfNoCopy(old)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if d := c.resolveControllerRef(old.Namespace, oldRef); d != nil {
			q.Add(controller.KeyOf(d))
		}
	}
	if curRef != nil {
		if d := c.resolveControllerRef(cur.Namespace, curRef); d != nil {
			q.Add(controller.KeyOf(d))
		}
		return
	}
	if refChanged || !reflect.DeepEqual(cur.Labels, old.Labels) {
		for _, d := range c.deploymentsForReplicaSet(cur) {
			q.Add(controller.KeyOf(d))
		}
	}
}

func (c *Controller) deletedReplicaSet(q Enqueuer, rs *appsv1.ReplicaSet) {
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil {
		return
	}
	if d := c.resolveControllerRef(rs.Namespace, ref); d != nil {
		q.Add(controller.KeyOf(d))
	}
}

// deletedPod wakes a Recreate Deployment when one of its pods is gone: it
// may now create the new ReplicaSet.
func (c *Controller) deletedPod(q Enqueuer, pod *corev1.Pod) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	obj, ok := c.rsets.Get(pod.Namespace, ref.Name)
	if !ok || obj.(*appsv1.ReplicaSet).UID != ref.UID {
		return
	}
	rs := obj.(*appsv1.ReplicaSet)
	rsRef := metav1.GetControllerOfNoCopy(rs)
	if rsRef == nil {
		return
	}
	if d := c.resolveControllerRef(rs.Namespace, rsRef); d != nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		q.Add(controller.KeyOf(d))
	}
}

// resolveControllerRef returns the cached Deployment a controller reference
// names, if it is a Deployment with that UID.
func (c *Controller) resolveControllerRef(namespace string, ref *metav1.OwnerReference) *appsv1.Deployment {
	d, _ := controller.ResolveControllerRef(c.deployments, deploymentKind.Kind, namespace, ref).(*appsv1.Deployment)
	return d
}

// deploymentsForReplicaSet returns the cached Deployments that may adopt
// rs (upstream's GetDeploymentsForReplicaSet).
func (c *Controller) deploymentsForReplicaSet(rs *appsv1.ReplicaSet) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, obj := range controller.SelectingOwners(c.deployments, rs.Namespace, rs.Labels, func(o store.Object) *metav1.LabelSelector {
		return o.(*appsv1.Deployment).Spec.Selector
	}) {
		out = append(out, obj.(*appsv1.Deployment))
	}
	return out
}
