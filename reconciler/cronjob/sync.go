package cronjob

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// syncResult is what syncCronJob decided besides its changes to cj.
type syncResult struct {
	updateStatus bool          // cj.Status changed and must be written
	requeue      bool          // sync again after `after`
	after        time.Duration // until the next schedule time
}

// syncCronJob is upstream's: it brings cj.Status in line with its Jobs,
// then starts the Job of the most recent unmet schedule time if policy
// allows. It changes cj (a copy) in place.
func (c *Controller) syncCronJob(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) (syncResult, error) {
	now := c.clock.Now()
	var res syncResult

	if err := c.reconcileActive(ctx, cj, jobs, &res); err != nil {
		return res, err
	}
	if cj.DeletionTimestamp != nil {
		return res, nil // being deleted: status only
	}

	tz, problem := timeZoneOf(cj, c.local)
	if problem != nil {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, problem.reason, "%s", problem.message)
		return res, nil
	}
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return res, nil
	}
	sched, problem := parseSchedule(cj, tz)
	if problem != nil {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, problem.reason, "%s", problem.message)
		return res, nil
	}
	requeue := func() (syncResult, error) {
		res.after, res.requeue = nextScheduleTimeDuration(cj, now, sched)
		return res, nil
	}

	scheduled, due, many, err := nextScheduleTime(cj, now, sched)
	if err != nil {
		// Not requeued: only a change of the spec can fix it.
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "InvalidSchedule", "invalid schedule: %s : %s", cj.Spec.Schedule, err)
		return res, nil
	}
	if !due {
		return requeue()
	}
	if many {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "TooManyMissedTimes",
			"too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && scheduled.Add(time.Duration(*d)*time.Second).Before(now) {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "MissSchedule",
			"Missed scheduled time to start a job: %s", scheduled.UTC().Format(time.RFC1123Z))
		return requeue()
	}
	if inActiveListByName(cj, cj.Namespace, jobName(cj, scheduled)) ||
		(cj.Status.LastScheduleTime != nil && cj.Status.LastScheduleTime.Time.Equal(scheduled)) {
		return requeue() // this time already ran
	}
	if cj.Spec.ConcurrencyPolicy == batchv1.ForbidConcurrent && len(cj.Status.Active) > 0 {
		// The time is skipped, not postponed: the next sync is at the
		// next schedule time.
		c.recorder.Eventf(cj, corev1.EventTypeNormal, "JobAlreadyActive",
			"Not starting job because prior execution is running and concurrency policy is Forbid")
		return requeue()
	}
	if cj.Spec.ConcurrencyPolicy == batchv1.ReplaceConcurrent {
		for _, ref := range append([]corev1.ObjectReference(nil), cj.Status.Active...) {
			obj, err := c.store.Get(ctx, "Job", ref.Namespace, ref.Name)
			if err != nil {
				c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedGet", "Get job: %v", err)
				return res, err
			}
			job := obj.(*batchv1.Job)
			if !c.deleteJob(ctx, cj, job) {
				return res, fmt.Errorf("could not replace job %s/%s", job.Namespace, job.Name)
			}
			res.updateStatus = true
		}
	}

	job, created, err := c.createJob(ctx, cj, scheduled, tz)
	if err != nil {
		return res, err
	}
	if job == nil {
		return requeue() // another's Job of that name, or already active
	}
	if created {
		c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %v", job.Name)
	}
	cj.Status.Active = append(cj.Status.Active, jobRef(job))
	cj.Status.LastScheduleTime = &metav1.Time{Time: scheduled}
	res.updateStatus = true
	return requeue()
}

// reconcileActive updates status.active and lastSuccessfulTime from the
// CronJob's Jobs: finished ones leave the list, ones that are gone too,
// and an unfinished one the list does not name is warned about.
func (c *Controller) reconcileActive(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job, res *syncResult) error {
	children := make(map[types.UID]bool, len(jobs))
	for _, j := range jobs {
		children[j.UID] = true
		found := inActiveList(cj, j.UID)
		finished := isJobFinished(j)
		switch {
		case !found && !finished:
			// The cache may not have our own status write yet; the store has.
			fresh, err := controller.Fresh(ctx, c.store, "CronJob", cj)
			if err != nil {
				return err
			}
			if freshCJ := fresh.(*batchv1.CronJob); inActiveList(freshCJ, j.UID) {
				continue
			}
			// Created just before a crash, before its status was written,
			// or by someone else (a manual run).
			c.recorder.Eventf(cj, corev1.EventTypeWarning, "UnexpectedJob", "Saw a job that the controller did not create or forgot: %s", j.Name)
		case finished:
			if found {
				cond, _ := finishedCondition(j)
				deleteFromActiveList(cj, j.UID)
				c.recorder.Eventf(cj, corev1.EventTypeNormal, "SawCompletedJob", "Saw completed job: %s, status: %v", j.Name, cond)
				res.updateStatus = true
			}
			if isJobSucceeded(j) && j.Status.CompletionTime != nil {
				if last := cj.Status.LastSuccessfulTime; last == nil || j.Status.CompletionTime.After(last.Time) {
					cj.Status.LastSuccessfulTime = j.Status.CompletionTime.DeepCopy()
					res.updateStatus = true
				}
			}
		}
	}
	for _, ref := range append([]corev1.ObjectReference(nil), cj.Status.Active...) {
		if children[ref.UID] {
			continue
		}
		// Ask the store, not the cache, before calling a Job missing.
		obj, err := c.store.Get(ctx, "Job", ref.Namespace, ref.Name)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && obj.(*batchv1.Job).UID != ref.UID):
			c.recorder.Eventf(cj, corev1.EventTypeNormal, "MissingJob", "Active job went missing: %v", ref.Name)
			deleteFromActiveList(cj, ref.UID)
			res.updateStatus = true
		case err != nil:
			return err
		}
	}
	return nil
}

// createJob creates the Job for the scheduled time. When a Job of that
// name exists already (created before a crash, before the status said
// so) and cj controls it, that Job is returned with created false, to be
// put back into status.active; a Job of that name that cj does not
// control, or that status.active already names, returns nil.
func (c *Controller) createJob(ctx context.Context, cj *batchv1.CronJob, scheduled time.Time, tz *time.Location) (*batchv1.Job, bool, error) {
	annotationTZ := tz
	if cj.Spec.TimeZone == nil {
		annotationTZ = time.UTC // as upstream: LoadLocation("")
	}
	req := jobForSchedule(cj, scheduled, annotationTZ)
	obj, err := c.store.Create(ctx, req)
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		obj, err = c.store.Get(ctx, "Job", req.Namespace, req.Name)
		if err != nil {
			return nil, false, err
		}
		job := obj.(*batchv1.Job)
		if !metav1.IsControlledBy(job, cj) || inActiveList(cj, job.UID) {
			return nil, false, nil
		}
		return job, false, nil
	case err != nil:
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return nil, false, err
	}
	return obj.(*batchv1.Job), true, nil
}
