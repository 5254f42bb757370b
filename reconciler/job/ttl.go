package job

import (
	"context"
	"errors"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// TTLName is the TTL-after-finished controller's name (and its queue's).
const TTLName = "ttl-after-finished"

// TTLAfterFinished is upstream's ttlafterfinished controller: it deletes a
// finished Job once ttlSecondsAfterFinished has passed since it finished
// (its Complete or Failed condition's last transition); the garbage
// collector then deletes its pods.
type TTLAfterFinished struct {
	store store.Store
	jobs  controller.Lister
	clock clock.PassiveClock
}

// NewTTLAfterFinished returns the controller; RegisterTTLAfterFinished
// connects it to a Manager.
func NewTTLAfterFinished(st store.Store, jobs controller.Lister, clk clock.PassiveClock) *TTLAfterFinished {
	return &TTLAfterFinished{store: st, jobs: jobs, clock: clk}
}

// RegisterTTLAfterFinished builds the controller on m's cache and clock and
// registers it, woken by every change to a Job. Register calls it.
func RegisterTTLAfterFinished(m *controller.Manager, st store.Store) *TTLAfterFinished {
	t := NewTTLAfterFinished(st, m.Cache().Lister("Job"), m.Clock())
	m.Register(t, controller.EnqueueSelf("Job"))
	return t
}

// Name implements controller.Controller.
func (t *TTLAfterFinished) Name() string { return TTLName }

// Sync implements controller.Controller: a Job whose TTL expired is
// deleted; one whose TTL runs is looked at again when it expires.
func (t *TTLAfterFinished) Sync(ctx context.Context, key string) error {
	namespace, name := splitKey(key)
	obj, ok := t.jobs.Get(namespace, name)
	if !ok {
		return nil
	}
	job := obj.(*batchv1.Job)
	left, expired := t.timeLeft(job)
	if !expired {
		if left > 0 {
			return controller.Requeue{After: left}
		}
		return nil
	}
	// The cache may be behind: check the stored Job before deleting it
	// (the TTL may have been changed, the Job replaced).
	fresh, err := t.store.Get(ctx, "Job", namespace, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	job = fresh.(*batchv1.Job)
	if left, expired = t.timeLeft(job); !expired {
		if left > 0 {
			return controller.Requeue{After: left}
		}
		return nil
	}
	rv, _ := strconv.ParseInt(job.ResourceVersion, 10, 64)
	err = t.store.Delete(ctx, "Job", namespace, name, store.DeleteOptions{UID: string(job.UID), ResourceVersion: rv})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// timeLeft returns how long until job's TTL expires, and whether it has;
// 0, false for a Job without TTL or not finished.
func (t *TTLAfterFinished) timeLeft(job *batchv1.Job) (time.Duration, bool) {
	if job.Spec.TTLSecondsAfterFinished == nil || job.DeletionTimestamp != nil {
		return 0, false
	}
	finishedAt, ok := FinishedAt(job)
	if !ok {
		return 0, false
	}
	expireAt := finishedAt.Add(time.Duration(*job.Spec.TTLSecondsAfterFinished) * time.Second)
	if left := expireAt.Sub(t.clock.Now()); left > 0 {
		return left, false
	}
	return 0, true
}

var _ controller.Controller = (*TTLAfterFinished)(nil)
