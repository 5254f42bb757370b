package job

import (
	"reflect"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Register builds the Job controller and the TTL-after-finished controller
// on m's cache and clock and registers both with their event handlers. The
// cache must hold "Job" and "Pod". It returns the Job controller.
func Register(m *controller.Manager, st store.Store, rec controller.Recorder) *Controller {
	cache := m.Cache()
	c := New(st, cache.Lister("Job"), cache.Lister("Pod"), rec, m.Clock())
	q := m.Register(c)
	c.AddHandlers(cache, q)
	RegisterTTLAfterFinished(m, st)
	return c
}

// AddHandlers registers the controller's cache handlers, which feed q and
// keep the expectations (upstream's addJob/updateJob/deleteJob and
// addPod/updatePod/deletePod), and makes each Sync first wait until cache
// has applied the controller's own last write. Register calls it.
//
// Unlike upstream, pod changes queue the Job at once rather than batched
// over a second: the simulator and the store are fast enough.
func (c *Controller) AddHandlers(cache *controller.Cache, q Enqueuer) {
	c.queue = q
	c.cacheWait = cache.WaitFor
	cache.AddHandler("Job", func(old, cur store.Object) { c.onJob(q, old, cur) })
	cache.AddHandler("Pod", func(old, cur store.Object) { c.onPod(q, old, cur) })
}

func (c *Controller) onJob(q Enqueuer, old, cur store.Object) {
	if cur == nil {
		gone := old.(*batchv1.Job)
		key := controller.KeyOf(gone)
		c.exp.Forget(key)
		c.backoff.remove(key)
		c.gone.drop(gone.UID)
		q.Add(key)
		return
	}
	job := cur.(*batchv1.Job)
	key := controller.KeyOf(job)
	q.Add(key)
	if old == nil {
		return
	}
	prev := old.(*batchv1.Job)
	if prev.UID != job.UID {
		c.exp.Forget(key)
		c.backoff.remove(key)
		c.gone.drop(prev.UID)
		return
	}
	// A new activeDeadlineSeconds is checked when it runs out.
	if ads := job.Spec.ActiveDeadlineSeconds; ads != nil && job.Status.StartTime != nil {
		if p := prev.Spec.ActiveDeadlineSeconds; p == nil || *p != *ads {
			left := time.Duration(*ads)*time.Second - c.clock.Since(job.Status.StartTime.Time)
			q.AddAfter(key, left)
		}
	}
}

func (c *Controller) onPod(q Enqueuer, old, cur store.Object) {
	switch {
	case old == nil:
		c.addPod(q, cur.(*corev1.Pod))
	case cur == nil:
		c.deletePod(q, old.(*corev1.Pod), true)
	default:
		c.updatePod(q, old.(*corev1.Pod), cur.(*corev1.Pod))
	}
}

// addPod observes a creation for the pod's Job, or wakes the Jobs that may
// adopt an orphan.
func (c *Controller) addPod(q Enqueuer, pod *corev1.Pod) {
	if pod.DeletionTimestamp != nil {
		// Seen first terminating (a restart): not a creation waited for.
		c.deletePod(q, pod, false)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		job := c.resolveControllerRef(pod.Namespace, ref)
		if job == nil {
			return
		}
		key := controller.KeyOf(job)
		c.exp.CreationObserved(key)
		q.Add(key)
		return
	}
	for _, job := range c.podJobs(pod) {
		q.Add(controller.KeyOf(job))
	}
}

// updatePod wakes the Jobs a pod change concerns. A pod given a
// deletionTimestamp counts as deleted at once, so the Job replaces it
// without waiting for its node to stop it.
func (c *Controller) updatePod(q Enqueuer, old, cur *corev1.Pod) {
	if cur.ResourceVersion == old.ResourceVersion {
		return
	}
	if cur.DeletionTimestamp != nil {
		c.deletePod(q, cur, false)
		return
	}
	curRef := metav1.GetControllerOfNoCopy(cur)
	oldRef := metav1.GetControllerOfNoCopy(old)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if job := c.resolveControllerRef(old.Namespace, oldRef); job != nil {
			q.Add(controller.KeyOf(job))
		}
	}
	if curRef != nil {
		if job := c.resolveControllerRef(cur.Namespace, curRef); job != nil {
			q.Add(controller.KeyOf(job))
		}
		return
	}
	if refChanged || !reflect.DeepEqual(cur.Labels, old.Labels) {
		for _, job := range c.podJobs(cur) {
			q.Add(controller.KeyOf(job))
		}
	}
}

// deletePod observes a deletion (final: the pod is gone; otherwise its
// graceful deletion began) for the pod's Job. A pod gone while it still
// had the tracking finalizer was never counted: the Job counts it at its
// next sync.
func (c *Controller) deletePod(q Enqueuer, pod *corev1.Pod, final bool) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return
	}
	job := c.resolveControllerRef(pod.Namespace, ref)
	if job == nil || IsFinished(job) {
		return
	}
	key := controller.KeyOf(job)
	c.exp.DeletionObserved(key, pod.Namespace+"/"+pod.Name)
	if final && isTracked(pod) {
		c.gone.add(job.UID, pod)
	}
	q.Add(key)
}

// resolveControllerRef returns the cached Job a controller reference
// names, if it is a Job with that UID.
func (c *Controller) resolveControllerRef(namespace string, ref *metav1.OwnerReference) *batchv1.Job {
	job, _ := controller.ResolveControllerRef(c.jobs, jobKind.Kind, namespace, ref).(*batchv1.Job)
	return job
}

// podJobs returns the cached Jobs whose selector matches an orphan pod.
func (c *Controller) podJobs(pod *corev1.Pod) []*batchv1.Job {
	var out []*batchv1.Job
	for _, obj := range controller.SelectingOwners(c.jobs, pod.Namespace, pod.Labels, func(o store.Object) *metav1.LabelSelector {
		return labelSelectorOf(o.(*batchv1.Job))
	}) {
		out = append(out, obj.(*batchv1.Job))
	}
	return out
}
