// Package cronjob is the CronJob controller: Jobs on a schedule, with
// Kubernetes' semantics (pkg/controller/cronjob upstream).
package cronjob

import (
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Controller is the CronJob controller.
type Controller struct{}

// Register builds the controller and registers it, with its watches, on m.
func Register(m *controller.Manager, st store.Store, rec controller.Recorder) *Controller {
	return &Controller{}
}
