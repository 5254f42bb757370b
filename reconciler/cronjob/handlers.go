package cronjob

import (
	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/utils/ptr"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Register builds a CronJob controller on m's cache and clock and
// registers it with its watches: a CronJob's changes and its Jobs'
// changes sync it. The cache must hold "CronJob" and "Job". Call it before
// m.Run or the first m.Step.
func Register(m *controller.Manager, st store.Store, rec controller.Recorder) *Controller {
	cache := m.Cache()
	c := New(st, cache.Lister("CronJob"), cache.Lister("Job"), rec, m.Clock())
	c.cacheWait = cache.WaitFor
	self := controller.EnqueueSelf("CronJob")
	// A new schedule or time zone waits for its next time (below); any
	// other change syncs now, as upstream's updateCronJob.
	self.Filter = func(old, new store.Object) bool { return !scheduleChanged(old, new) }
	q := m.Register(c, self, controller.EnqueueOwner("Job", "CronJob"))
	cache.AddHandler("CronJob", func(old, new store.Object) {
		if scheduleChanged(old, new) {
			c.enqueueAtNextSchedule(q, new.(*batchv1.CronJob))
		}
	})
	return c
}

// scheduleChanged reports whether an update changed a CronJob's schedule
// or time zone.
func scheduleChanged(old, new store.Object) bool {
	o, ok1 := old.(*batchv1.CronJob)
	n, ok2 := new.(*batchv1.CronJob)
	return ok1 && ok2 && (o.Spec.Schedule != n.Spec.Schedule || !ptr.Equal(o.Spec.TimeZone, n.Spec.TimeZone))
}

// enqueueAtNextSchedule queues cj for its new schedule's next time. Syncing
// at once could start the Job of a time between the old schedule's last run
// and now, which the edit did not ask for (a daily 03:00 job moved to 09:00
// at 10:00 must not run at 10:00). A schedule that cannot be used syncs at
// once, so its Warning event says why.
func (c *Controller) enqueueAtNextSchedule(q *controller.Queue, cj *batchv1.CronJob) {
	key := controller.KeyOf(cj)
	loc, problem := timeZoneOf(cj, c.local)
	var sched cron.Schedule
	if problem == nil {
		sched, problem = parseSchedule(cj, loc)
	}
	if problem != nil {
		q.Add(key)
		return
	}
	d, ok := nextScheduleTimeDuration(cj, c.clock.Now(), sched)
	if !ok {
		q.Add(key)
		return
	}
	q.AddAfter(key, d)
}
