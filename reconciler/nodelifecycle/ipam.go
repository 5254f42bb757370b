package nodelifecycle

import (
	"context"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// ipamController gives each Node without spec.podCIDR the next free
// subnet of the cluster CIDR (upstream's nodeipam range allocator).
type ipamController struct {
	st    *controller.WriteTracker
	cache *controller.Cache
	rec   controller.Recorder
	alloc *Allocator

	// mu serialises syncs: two nodes allocated at once by two workers
	// would otherwise both see the same subnet free.
	mu sync.Mutex
}

// Name implements controller.Controller.
func (c *ipamController) Name() string { return "nodeipam" }

// Sync implements controller.Controller.
func (c *ipamController) Sync(ctx context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The cache must show this controller's last allocation, or the
	// subnet it gave would look free again.
	if err := c.st.AwaitCache(ctx, c.cache.WaitFor); err != nil {
		return err
	}
	obj, ok := c.cache.Lister("Node").Get("", key)
	if !ok {
		return nil
	}
	node := obj.(*corev1.Node)
	if node.Spec.PodCIDR != "" || node.DeletionTimestamp != nil {
		return nil
	}
	var used []netip.Prefix
	for _, o := range c.cache.Lister("Node").List("", nil) {
		n := o.(*corev1.Node)
		for _, s := range append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...) {
			if p, err := netip.ParsePrefix(s); err == nil {
				used = append(used, p)
			}
		}
	}
	subnet, ok := c.alloc.Next(used)
	if !ok {
		// Upstream's range allocator: nodeutil.RecordNodeStatusChange.
		c.rec.Eventf(node, corev1.EventTypeNormal, "CIDRNotAvailable", "Node %s status is now: %s", node.Name, "CIDRNotAvailable")
		return nil // a deleted node frees a subnet, and wakes every node
	}
	node = node.DeepCopy()
	node.Spec.PodCIDR = subnet.String()
	node.Spec.PodCIDRs = []string{subnet.String()}
	_, err := c.st.Update(ctx, node)
	return err
}

// watches wakes the allocator for nodes without a subnet, and, when a
// node is deleted (its subnet is free again), for every such node.
func (c *ipamController) watches() []controller.Watch {
	return []controller.Watch{
		{Kind: "Node", Keys: func(obj store.Object) []string {
			if obj.(*corev1.Node).Spec.PodCIDR != "" {
				return nil
			}
			return []string{obj.(*corev1.Node).Name}
		}},
		{Kind: "Node", Filter: func(_, new store.Object) bool { return new == nil },
			Keys: func(store.Object) []string {
				var keys []string
				for _, o := range c.cache.Lister("Node").List("", nil) {
					if o.(*corev1.Node).Spec.PodCIDR == "" {
						keys = append(keys, o.(*corev1.Node).Name)
					}
				}
				return keys
			}},
	}
}
