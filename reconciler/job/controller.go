// Package job is the Job controller: pods run to completion, with
// Kubernetes' semantics (pkg/controller/job upstream).
package job

import (
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Controller is the Job controller.
type Controller struct{}

// Register builds the controller and registers it, with its watches, on m.
func Register(m *controller.Manager, st store.Store, rec controller.Recorder) *Controller {
	return &Controller{}
}
