package job

import (
	"context"
	"errors"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/rollouts"
)

// syncCtx is one sync of one Job: what it read and what it decided.
type syncCtx struct {
	key  string
	now  time.Time
	job  *batchv1.Job // a copy, whose status the sync builds
	orig batchv1.JobStatus

	pods        []*corev1.Pod // the pods the Job controls
	active      []*corev1.Pod
	terminating int32
	ready       int32
	gone        []gonePod

	succeeded int32 // counted plus not yet counted
	failed    int32
	// Indexed Jobs: the indexes status.completedIndexes lists, and those
	// plus the indexes of succeeded pods not yet counted.
	prevSucceededIndexes intervals
	succeededIndexes     intervals

	backoff  backoffRecord
	finished *batchv1.JobCondition // the finish the sync is heading for
	// deleteActive: the Job is finishing; the status write deletes its
	// active pods.
	deleteActive bool
}

func newSyncCtx(key string, job *batchv1.Job, pods []*corev1.Pod, now time.Time) *syncCtx {
	sc := &syncCtx{key: key, now: now, job: job, orig: *job.Status.DeepCopy(), pods: pods}
	for _, p := range pods {
		switch {
		case isActive(p):
			sc.active = append(sc.active, p)
			if rollouts.IsPodReady(p) {
				sc.ready++
			}
		case isTerminating(p):
			sc.terminating++
		}
	}
	return sc
}

// syncJob is the body of upstream's syncJob, from the pods on.
func (c *Controller) syncJob(ctx context.Context, sc *syncCtx, satisfied bool) error {
	job := sc.job
	sc.gone = c.gone.list(job.UID)
	newSucceeded, newFailed := sc.newFinished()
	sc.succeeded = job.Status.Succeeded + int32(len(newSucceeded))
	sc.failed = job.Status.Failed + int32(len(newFailed))

	// First start; a Job created suspended starts when resumed.
	if job.Status.StartTime == nil && !isSuspended(job) {
		now := metav1.NewTime(sc.now)
		job.Status.StartTime = &now
	}
	sc.backoff = c.backoff.get(sc.key).next(newSucceeded, newFailed)

	// A finish decided by an earlier sync stands.
	if cond := findCondition(job.Status.Conditions, batchv1.JobSuccessCriteriaMet); cond != nil && cond.Status == corev1.ConditionTrue {
		sc.finished = cond.DeepCopy()
	} else if cond := findCondition(job.Status.Conditions, batchv1.JobFailureTarget); cond != nil && cond.Status == corev1.ConditionTrue {
		sc.finished = newCondition(batchv1.JobFailed, corev1.ConditionTrue, cond.Reason, cond.Message, sc.now)
	}
	if sc.finished == nil {
		switch {
		case sc.failed > backoffLimit(job) || pastBackoffLimitOnFailure(job, sc.pods):
			sc.finished = newCondition(batchv1.JobFailureTarget, corev1.ConditionTrue, reasonBackoffLimitExceeded, msgBackoffLimitExceeded, sc.now)
		case pastActiveDeadline(job, sc.now):
			sc.finished = newCondition(batchv1.JobFailureTarget, corev1.ConditionTrue, reasonDeadlineExceeded, msgDeadlineExceeded, sc.now)
		case job.Spec.ActiveDeadlineSeconds != nil && !isSuspended(job):
			left := time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second - sc.now.Sub(job.Status.StartTime.Time)
			c.enqueueAfter(sc.key, left)
		}
	}
	if isIndexed(job) {
		sc.prevSucceededIndexes, sc.succeededIndexes = succeededIndexes(job, sc.pods, sc.gone)
		sc.succeeded = int32(sc.succeededIndexes.total())
	}

	active := int32(len(sc.active))
	var manageErr error
	if sc.finished != nil {
		if satisfied {
			// The status write below deletes the active pods (counting them
			// as failed when the Job fails).
			sc.deleteActive = true
			sc.terminating += active
			for _, p := range sc.active {
				if rollouts.IsPodReady(p) {
					sc.ready--
				}
			}
			active = 0
		} else {
			// Pods this controller created may not be in the cache yet:
			// finish once they are.
			sc.finished = nil
		}
	} else {
		manageCalled := false
		if satisfied && job.DeletionTimestamp == nil {
			active, manageErr = c.manageJob(ctx, sc)
			manageCalled = true
		}
		var complete bool
		if want := completions(job); want == nil {
			// Any pod's success finishes the Job once the rest stopped.
			complete = sc.succeeded > 0 && active == 0
		} else {
			complete = sc.succeeded >= *want && active == 0
		}
		switch {
		case complete:
			sc.finished = newCondition(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, reasonCompletionsReached, msgCompletionsReached, sc.now)
		case manageCalled && isSuspended(job):
			var changed bool
			job.Status.Conditions, changed = ensureCondition(job.Status.Conditions, batchv1.JobSuspended, corev1.ConditionTrue, reasonSuspended, msgSuspended, sc.now)
			if changed {
				c.recorder.Eventf(job, corev1.EventTypeNormal, "Suspended", msgSuspended)
			}
		case manageCalled:
			var changed bool
			job.Status.Conditions, changed = ensureCondition(job.Status.Conditions, batchv1.JobSuspended, corev1.ConditionFalse, reasonResumed, msgResumed, sc.now)
			if changed {
				c.recorder.Eventf(job, corev1.EventTypeNormal, "Resumed", msgResumed)
				// activeDeadlineSeconds counts the time a Job has been
				// continuously active: it starts again on resume.
				now := metav1.NewTime(sc.now)
				job.Status.StartTime = &now
			}
		}
	}
	job.Status.Active = active
	job.Status.Ready = &sc.ready
	job.Status.Terminating = &sc.terminating
	err := c.trackStatus(ctx, sc)
	return errors.Join(err, manageErr)
}

// newFinished returns the finish times of the pods that succeeded and
// failed and are not counted yet (upstream's getNewFinishedPods), those
// deleted uncounted included.
func (sc *syncCtx) newFinished() (succeeded, failed []time.Time) {
	job := sc.job
	want := completions(job)
	for _, p := range sc.pods {
		if !isTracked(p) {
			continue
		}
		if isIndexed(job) && (want == nil || validIndex(p, *want) == noIndex) {
			continue
		}
		switch {
		case p.Status.Phase == corev1.PodSucceeded:
			succeeded = append(succeeded, finishedTime(p))
		case isPodFailed(p, job):
			failed = append(failed, finishedTime(p))
		}
	}
	for _, g := range sc.gone {
		if isIndexed(job) && (want == nil || g.index == noIndex || g.index >= int(*want)) {
			continue
		}
		// A pod gone without a trace finished about now.
		if g.succeeded {
			succeeded = append(succeeded, sc.now)
		} else {
			failed = append(failed, sc.now)
		}
	}
	return succeeded, failed
}

// succeededIndexes returns the indexes status.completedIndexes lists and
// those plus the indexes of succeeded pods not counted yet (upstream's
// calculateSucceededIndexes).
func succeededIndexes(job *batchv1.Job, pods []*corev1.Pod, gone []gonePod) (prev, cur intervals) {
	want := int(*completions(job))
	prev = parseIntervals(job.Status.CompletedIndexes, want)
	var add []int
	for _, p := range pods {
		if ix := validIndex(p, int32(want)); ix != noIndex && p.Status.Phase == corev1.PodSucceeded && isTracked(p) {
			add = append(add, ix)
		}
	}
	for _, g := range gone {
		if g.succeeded && g.index != noIndex && g.index < want {
			add = append(add, g.index)
		}
	}
	return prev, prev.with(add...)
}
