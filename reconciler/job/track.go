package job

import (
	"context"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/store"
)

// podWrite is what a commit does to one pod.
type podWrite struct {
	pod *corev1.Pod // as the sync saw it
	// untrack removes the tracking finalizer; with count, the status
	// written with it counts the pod as the sync saw it, so the pod must
	// still be as seen (else the commit fails and the sync runs again).
	untrack, count bool
	remove         bool // delete the pod (gracefully)
}

// errStale fails a commit whose view of a pod is out of date.
var errStale = fmt.Errorf("pod changed since the sync read it: %w", store.ErrConflict)

// trackStatus is upstream's trackJobStatusAndRemoveFinalizers: it counts
// the finished pods not counted yet (and, when the Job is finishing,
// deletes the active ones), adds the interim FailureTarget or
// SuccessCriteriaMet condition and, once no pod is terminating, the final
// Failed or Complete one, and writes all that with the Job's status in one
// transaction.
func (c *Controller) trackStatus(ctx context.Context, sc *syncCtx) error {
	job := sc.job
	indexed := isIndexed(job)
	want := completions(job)
	failing := sc.finished != nil && !isSuccessTarget(sc.finished)
	indexOf := func(ix int) int {
		if !indexed || want == nil || ix >= int(*want) {
			return noIndex
		}
		return ix
	}

	var writes []podWrite
	var newIndexes []int
	countPod := func(succeeded, failed bool, ix int) {
		switch {
		case succeeded && indexed:
			// The index is enough to avoid counting twice.
			if ix != noIndex && !sc.prevSucceededIndexes.has(ix) {
				newIndexes = append(newIndexes, ix)
			}
		case succeeded:
			job.Status.Succeeded++
		case failed && (!indexed || ix != noIndex):
			job.Status.Failed++
		}
	}
	for _, p := range sc.pods {
		remove := sc.deleteActive && isActive(p)
		if !isTracked(p) {
			if remove {
				writes = append(writes, podWrite{pod: p, remove: true})
			}
			continue
		}
		failed := isPodFailed(p, job)
		// upstream's canRemoveFinalizer, without per-index backoff.
		if sc.finished == nil && p.Status.Phase != corev1.PodSucceeded && !failed {
			continue
		}
		writes = append(writes, podWrite{pod: p, untrack: true, count: true, remove: remove})
		// A Job that fails counts every pod that did not succeed as failed.
		countPod(p.Status.Phase == corev1.PodSucceeded, failed || failing, indexOf(completionIndex(p)))
	}
	for _, g := range sc.gone {
		countPod(g.succeeded, !g.succeeded, indexOf(g.index))
	}
	if indexed {
		sc.succeededIndexes = sc.succeededIndexes.with(newIndexes...)
		job.Status.Succeeded = int32(sc.succeededIndexes.total())
		job.Status.CompletedIndexes = sc.succeededIndexes.String()
	}

	final := sc.finished
	switch {
	case final != nil && final.Type == batchv1.JobFailureTarget:
		job.Status.Conditions = append(job.Status.Conditions, *final)
		final = newCondition(batchv1.JobFailed, corev1.ConditionTrue, final.Reason, final.Message, sc.now)
	case isSuccessTarget(final):
		if !hasTrueCondition(job, batchv1.JobSuccessCriteriaMet) {
			job.Status.Conditions = append(job.Status.Conditions, *final)
		}
		final = newCondition(batchv1.JobComplete, corev1.ConditionTrue, final.Reason, final.Message, sc.now)
	}
	finished := final != nil && sc.terminating == 0
	if finished {
		job.Status.Conditions, _ = ensureCondition(job.Status.Conditions, final.Type, final.Status, final.Reason, final.Message, sc.now)
		if final.Type == batchv1.JobComplete {
			at := findCondition(job.Status.Conditions, batchv1.JobComplete).LastTransitionTime
			job.Status.CompletionTime = &at
		}
	}
	if job.Status.UncountedTerminatedPods == nil {
		job.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}

	if len(writes) == 0 && len(sc.gone) == 0 && equality.Semantic.DeepEqual(sc.orig, job.Status) {
		return nil
	}
	deleted, err := c.commit(ctx, writes, job)
	if err != nil {
		if sc.deleteActive {
			c.recorder.Eventf(job, corev1.EventTypeWarning, FailedDeleteReason, "Error deleting: %v", err)
		}
		return fmt.Errorf("tracking status: %w", err)
	}
	c.gone.counted(job.UID, sc.gone)
	c.backoff.set(sc.key, sc.backoff)
	for _, w := range writes {
		if w.remove && deleted[w.pod.UID] {
			c.recorder.Eventf(job, corev1.EventTypeNormal, SuccessfulDeleteReason, "Deleted pod: %v", w.pod.Name)
		}
	}
	if finished {
		c.backoff.remove(sc.key)
		c.gone.drop(job.UID)
		c.recordFinished(job, final)
	}
	return nil
}

// recordFinished records upstream's events for a Job that just finished.
func (c *Controller) recordFinished(job *batchv1.Job, cond *batchv1.JobCondition) {
	if cond.Type != batchv1.JobComplete {
		c.recorder.Eventf(job, corev1.EventTypeWarning, cond.Reason, "%s", cond.Message)
		return
	}
	if want := completions(job); want != nil && job.Status.Succeeded > *want {
		c.recorder.Eventf(job, corev1.EventTypeWarning, "TooManySucceededPods", "Too many succeeded pods running after completion count reached")
	}
	c.recorder.Eventf(job, corev1.EventTypeNormal, "Completed", "Job completed")
}

// commit applies writes and then, when job is not nil, writes job (its
// status) with the resourceVersion the sync read, all in one transaction.
// It returns the UIDs of the pods it deleted. A pod to count that is gone
// or no longer as seen fails the commit (errStale), as does a Job changed
// meanwhile (store.ErrConflict); the sync is then retried.
func (c *Controller) commit(ctx context.Context, writes []podWrite, job *batchv1.Job) (map[types.UID]bool, error) {
	var deleted map[types.UID]bool
	err := c.store.Txn(ctx, func(t store.Txn) error {
		deleted = map[types.UID]bool{}
		for _, w := range writes {
			obj, err := t.Get("Pod", w.pod.Namespace, w.pod.Name)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			var cur *corev1.Pod
			if obj != nil {
				cur = obj.(*corev1.Pod)
			}
			if cur == nil || cur.UID != w.pod.UID {
				if w.count {
					return errStale
				}
				continue
			}
			if w.count && (!isTracked(cur) || cur.Status.Phase != w.pod.Status.Phase || (cur.DeletionTimestamp == nil) != (w.pod.DeletionTimestamp == nil)) {
				return errStale
			}
			if w.untrack && isTracked(cur) {
				cur.Finalizers = untracked(cur.Finalizers)
				if _, err := t.Update(cur); err != nil {
					return err
				}
			}
			if w.remove && cur.DeletionTimestamp == nil {
				if err := t.Delete("Pod", cur.Namespace, cur.Name, store.DeleteOptions{UID: string(cur.UID)}); err != nil {
					return err
				}
				deleted[cur.UID] = true
			}
		}
		if job != nil {
			_, err := t.Update(job)
			return err
		}
		return nil
	})
	return deleted, err
}
