// Package cronjob is the CronJob controller: Jobs on a schedule, with
// Kubernetes' semantics (pkg/controller/cronjob, the v2 controller,
// upstream). For each CronJob it starts a Job at the most recent schedule
// time that has come and not yet run (only that one after downtime, and
// not once startingDeadlineSeconds has passed), honours
// concurrencyPolicy and suspend, keeps status.active, lastScheduleTime and
// lastSuccessfulTime, deletes the oldest finished Jobs past the history
// limits, and asks to be synced again at the next schedule time on the
// Manager's clock.
//
// A Job's name is the CronJob's and the scheduled time in minutes since
// the epoch; the store refusing a second Job of that name is what keeps
// a restarted controller from running one time twice.
package cronjob

import (
	"context"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Name is the controller's name (and its queue's).
const Name = "cronjob"

// Controller is the CronJob controller. Build it with New (or Register);
// it is safe for concurrent Syncs of different keys.
type Controller struct {
	store    store.Store
	cronJobs controller.Lister
	jobs     controller.Lister
	recorder controller.Recorder
	clock    clock.PassiveClock
	local    *time.Location

	writes    *controller.WriteTracker
	cacheWait func(ctx context.Context, rv int64) error // set by AddHandlers
}

// New returns a CronJob controller that writes to st, reads CronJobs and
// Jobs from the watch cache's listers, records events with rec and reads
// time from clk. A CronJob without spec.timeZone runs in the host's time
// zone (time.Local), as upstream runs it in the controller manager's;
// SetLocalTimeZone changes that.
func New(st store.Store, cronJobs, jobs controller.Lister, rec controller.Recorder, clk clock.PassiveClock) *Controller {
	writes := controller.NewWriteTracker(st)
	return &Controller{
		store:    writes,
		cronJobs: cronJobs,
		jobs:     jobs,
		recorder: rec,
		clock:    clk,
		local:    time.Local,
		writes:   writes,
	}
}

// SetLocalTimeZone sets the time zone of CronJobs without spec.timeZone.
// Call it before the first Sync.
func (c *Controller) SetLocalTimeZone(loc *time.Location) { c.local = loc }

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Sync implements controller.Controller (upstream's sync): it removes old
// finished Jobs, starts the Job that is due if any, writes the status if
// it changed, and returns a controller.Requeue for the next schedule time.
// A CronJob that is suspended, or whose schedule or time zone cannot be
// used, is not requeued: a change to it syncs it again.
func (c *Controller) Sync(ctx context.Context, key string) error {
	if err := c.writes.AwaitCache(ctx, c.cacheWait); err != nil {
		return err
	}
	namespace, name := splitKey(key)
	obj, ok := c.cronJobs.Get(namespace, name)
	if !ok {
		return nil
	}
	cj := obj.(*batchv1.CronJob).DeepCopy()
	jobs := c.ownedJobs(cj)

	cleaned := c.cleanupFinishedJobs(ctx, cj, jobs)
	res, syncErr := c.syncCronJob(ctx, cj, jobs)
	if cleaned || res.updateStatus {
		if _, err := c.store.Update(ctx, cj); err != nil {
			return err
		}
	}
	if res.requeue {
		return controller.Requeue{After: res.after}
	}
	return syncErr
}

// ownedJobs returns the cached Jobs whose controller is cj.
func (c *Controller) ownedJobs(cj *batchv1.CronJob) []*batchv1.Job {
	var out []*batchv1.Job
	for _, obj := range c.jobs.ByOwner(cj.UID) {
		j := obj.(*batchv1.Job)
		if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.UID == cj.UID {
			out = append(out, j)
		}
	}
	return out
}

// splitKey splits a queue key "namespace/name" (or "name").
func splitKey(key string) (namespace, name string) {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

var _ controller.Controller = (*Controller)(nil)
