package cronjob

import (
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
	m.Register(c, controller.EnqueueSelf("CronJob"), controller.EnqueueOwner("Job", "CronJob"))
	return c
}
