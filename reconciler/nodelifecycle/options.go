package nodelifecycle

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Defaults of Options, upstream's.
const (
	// DefaultGracePeriod is how long a node may go without posting status
	// before it is marked Unknown (kube-controller-manager's
	// --node-monitor-grace-period).
	DefaultGracePeriod = 40 * time.Second
	// DefaultClusterCIDR is the pod network nodes' subnets are cut from.
	DefaultClusterCIDR = "10.42.0.0/16"
	// DefaultNodeCIDRMaskSize is the prefix length of each node's subnet.
	DefaultNodeCIDRMaskSize = 24
)

// Options configure the controllers Register adds.
type Options struct {
	// GracePeriod: a node whose heartbeat has not moved for this long is
	// marked Ready=Unknown and tainted unreachable (default 40s).
	GracePeriod time.Duration
	// ClusterCIDR is the range pod subnets are allocated from (default
	// 10.42.0.0/16).
	ClusterCIDR string
	// NodeCIDRMaskSize is the prefix length of a node's subnet (default 24).
	NodeCIDRMaskSize int
}

func (o Options) withDefaults() Options {
	if o.GracePeriod <= 0 {
		o.GracePeriod = DefaultGracePeriod
	}
	if o.ClusterCIDR == "" {
		o.ClusterCIDR = DefaultClusterCIDR
	}
	if o.NodeCIDRMaskSize == 0 {
		o.NodeCIDRMaskSize = DefaultNodeCIDRMaskSize
	}
	return o
}

// Register adds the node lifecycle controllers to m: pod subnet
// allocation ("nodeipam"), node health ("nodelifecycle"), taint-based
// eviction ("taint-eviction") and deletion of pods whose node is gone
// ("pod-gc"). m's cache must hold Nodes and Pods; time comes from m's
// clock. It fails on an invalid cluster CIDR or mask size.
func Register(m *controller.Manager, st store.Store, rec controller.Recorder, opts Options) error {
	opts = opts.withDefaults()
	cache := m.Cache()
	for _, k := range []string{"Node", "Pod"} {
		if !cache.Has(k) {
			return fmt.Errorf("nodelifecycle: the cache does not hold kind %q", k)
		}
	}
	cidr, err := netip.ParsePrefix(opts.ClusterCIDR)
	if err != nil {
		return fmt.Errorf("nodelifecycle: cluster CIDR: %w", err)
	}
	alloc, err := NewAllocator(cidr, opts.NodeCIDRMaskSize)
	if err != nil {
		return err
	}
	ipam := &ipamController{st: controller.NewWriteTracker(st), cache: cache, rec: rec, alloc: alloc}
	m.Register(ipam, ipam.watches()...)

	health := newHealthController(st, cache, m.Clock(), opts.GracePeriod)
	m.Register(health, controller.EnqueueSelf("Node"))

	ev := newEvictionController(st, cache, rec, m.Clock())
	m.Register(ev, ev.watches()...)

	gc := &podGC{st: st, cache: cache, clock: m.Clock(), missing: map[string]time.Time{}}
	m.Register(gc, gc.watches()...)
	return nil
}
