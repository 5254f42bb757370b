package routes

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Controller keeps this machine's routes to the other nodes' pods as Nodes
// come, go and change.
type Controller struct {
	nodes  controller.Lister
	self   string
	selfIP func() string
	sync   func(context.Context, []Route) error
}

// Register adds the route keeper of node self (whose InternalIP selfIP
// returns) to m; every Node change re-syncs all routes (one key).
func Register(m *controller.Manager, self string, selfIP func() string) *Controller {
	c := &Controller{nodes: m.Cache().Lister("Node"), self: self, selfIP: selfIP, sync: Sync}
	m.Register(c, controller.EnqueueFunc("Node", func(store.Object) []string { return []string{"routes"} }))
	return c
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return "routes" }

// Sync implements controller.Controller.
func (c *Controller) Sync(ctx context.Context, _ string) error {
	objs := c.nodes.List("", labels.Everything())
	nodes := make([]*corev1.Node, 0, len(objs))
	for _, o := range objs {
		nodes = append(nodes, o.(*corev1.Node))
	}
	return c.sync(ctx, Desired(nodes, c.self, c.selfIP()))
}
