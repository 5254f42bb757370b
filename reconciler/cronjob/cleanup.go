package cronjob

import (
	"context"
	"errors"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/store"
)

// cleanupFinishedJobs deletes the oldest finished Jobs past
// successfulJobsHistoryLimit and failedJobsHistoryLimit (upstream's
// cleanupFinishedJobs; a nil limit keeps every Job of its kind). It
// reports whether status.active changed.
func (c *Controller) cleanupFinishedJobs(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) bool {
	if cj.Spec.SuccessfulJobsHistoryLimit == nil && cj.Spec.FailedJobsHistoryLimit == nil {
		return false
	}
	var succeeded, failed []*batchv1.Job
	for _, j := range jobs {
		switch cond, _ := finishedCondition(j); cond {
		case batchv1.JobComplete:
			succeeded = append(succeeded, j)
		case batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	changed := false
	if limit := cj.Spec.SuccessfulJobsHistoryLimit; limit != nil && c.removeOldestJobs(ctx, cj, succeeded, *limit) {
		changed = true
	}
	if limit := cj.Spec.FailedJobsHistoryLimit; limit != nil && c.removeOldestJobs(ctx, cj, failed, *limit) {
		changed = true
	}
	return changed
}

// removeOldestJobs deletes all but the newest max of jobs, by start time.
func (c *Controller) removeOldestJobs(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job, max int32) bool {
	n := len(jobs) - int(max)
	if n <= 0 {
		return false
	}
	jobs = slices.Clone(jobs)
	slices.SortFunc(jobs, byStartTime)
	changed := false
	for _, j := range jobs[:n] {
		if c.deleteJob(ctx, cj, j) {
			changed = true
		}
	}
	return changed
}

// byStartTime orders Jobs by status.startTime, those without one last,
// then by name (upstream's byJobStartTime).
func byStartTime(a, b *batchv1.Job) int {
	as, bs := a.Status.StartTime, b.Status.StartTime
	switch {
	case as == nil && bs != nil:
		return 1
	case as != nil && bs == nil:
		return -1
	case as != nil && !as.Equal(bs):
		return as.Time.Compare(bs.Time)
	}
	return strings.Compare(a.Name, b.Name)
}

// deleteJob deletes a Job (the garbage collector then removes its pods)
// and its entry in status.active, and reports whether it did.
func (c *Controller) deleteJob(ctx context.Context, cj *batchv1.CronJob, job *batchv1.Job) bool {
	err := c.store.Delete(ctx, "Job", job.Namespace, job.Name, store.DeleteOptions{UID: string(job.UID)})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedDelete", "Deleted job: %v", err)
		return false
	}
	deleteFromActiveList(cj, job.UID)
	if err == nil {
		c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %v", job.Name)
	}
	return true
}
