// Package job is berth's Job controller, a port of Kubernetes'
// pkg/controller/job: it runs a Job's pods to completion, parallelism at a
// time, NonIndexed or Indexed, replacing failed pods after an exponential
// backoff, until completions pods have succeeded (Complete) or the Job
// fails (Failed: backoffLimit or activeDeadlineSeconds exceeded); it
// suspends and resumes Jobs and keeps their status (active, ready,
// terminating, succeeded, failed, startTime, completionTime,
// completedIndexes, conditions). A second controller in this package,
// TTLAfterFinished, deletes finished Jobs once ttlSecondsAfterFinished has
// passed.
//
// Conditions follow Kubernetes 1.31+: a Job that meets its success
// criteria first gets SuccessCriteriaMet and one that fails gets
// FailureTarget; the terminal Complete or Failed follows once none of its
// pods is still terminating (in the same status write when none is).
//
// Finished pods are counted without finalizers, with store transactions:
// see "Tracking of finished pods" in pods.go. podFailurePolicy,
// backoffLimitPerIndex, maxFailedIndexes, successPolicy and managedBy are
// not implemented (workloads reports them as not honoured).
package job

import (
	"context"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Name is the controller's name (and its queue's).
const Name = "job"

// MaxPodCreateDeletePerSync caps the pods one sync creates or deletes
// (upstream's); the rest follow once the cache has seen these.
const MaxPodCreateDeletePerSync = 500

// slowStartInitialBatchSize is upstream's controller.SlowStartInitialBatchSize.
const slowStartInitialBatchSize = 1

// Enqueuer is the part of a work queue the controller uses to look at a
// Job again later (*controller.Queue has it).
type Enqueuer interface {
	Add(key string)
	AddAfter(key string, d time.Duration)
}

// Controller is the Job controller. Build it with New (or Register); it is
// safe for concurrent Syncs of different keys.
type Controller struct {
	store    *controller.WriteTracker
	jobs     controller.Lister
	pods     controller.Lister
	recorder controller.Recorder
	clock    clock.PassiveClock

	queue     Enqueuer // set by AddHandlers
	cacheWait func(ctx context.Context, rv int64) error

	exp     *controller.Expectations
	backoff *backoffStore
	gone    *goneSet
}

// New returns a Job controller that writes to st, reads Jobs and Pods from
// the watch cache's listers, records events with rec and reads time from
// clk. Register connects it to a Manager; a test can call Sync directly.
func New(st store.Store, jobs, pods controller.Lister, rec controller.Recorder, clk clock.PassiveClock) *Controller {
	return &Controller{
		store:    controller.NewWriteTracker(st),
		jobs:     jobs,
		pods:     pods,
		recorder: rec,
		clock:    clk,
		exp:      controller.NewExpectations(clk),
		backoff:  newBackoffStore(),
		gone:     newGoneSet(),
	}
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Sync implements controller.Controller: upstream's syncJob.
func (c *Controller) Sync(ctx context.Context, key string) error {
	if err := c.store.AwaitCache(ctx, c.cacheWait); err != nil {
		return err
	}
	namespace, name := splitKey(key)
	obj, ok := c.jobs.Get(namespace, name)
	if !ok {
		c.exp.Forget(key)
		c.backoff.remove(key)
		return nil
	}
	shared := obj.(*batchv1.Job)
	if IsFinished(shared) {
		c.backoff.remove(key)
		c.gone.drop(shared.UID)
		return nil
	}
	job := shared.DeepCopy()
	if m := job.Spec.CompletionMode; m != nil && *m != batchv1.NonIndexedCompletion && *m != batchv1.IndexedCompletion {
		c.recorder.Eventf(job, corev1.EventTypeWarning, "UnknownCompletionMode", "Skipped Job sync because completion mode is unknown")
		return nil
	}
	// Expectations first: a pod created after this check and before the
	// listing below only defers the work to the next sync.
	satisfied := c.exp.Satisfied(key)
	sel, err := selectorOf(job)
	if err != nil {
		return nil // an invalid selector matches nothing; validation keeps it out
	}
	pods, err := c.claimPods(ctx, job, sel)
	if err != nil {
		return err
	}
	return c.syncJob(ctx, newSyncCtx(key, job, pods, c.clock.Now()), satisfied)
}

// enqueueAfter looks at key again after d (no queue: a unit test).
func (c *Controller) enqueueAfter(key string, d time.Duration) {
	if c.queue != nil {
		c.queue.AddAfter(key, d)
	}
}

// splitKey splits a queue key "namespace/name" (or "name").
func splitKey(key string) (namespace, name string) {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

var _ controller.Controller = (*Controller)(nil)
