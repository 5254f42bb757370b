package fake

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// NodeOptions configure fake nodes: the real agent over a fake Runtime.
type NodeOptions struct {
	// Clock drives the runtime and the agent; required (the manager's).
	Clock clock.PassiveClock
	// Behavior picks each pod's behaviour (nil: ready at once, runs until
	// stopped).
	Behavior BehaviorFunc
	// Capacity of each node (default 4 cpu, 16Gi memory, 110 pods).
	Capacity corev1.ResourceList
	// Labels added to each node's.
	Labels map[string]string
	// HeartbeatPeriod as in agent.Config (negative: no periodic
	// heartbeat, so that a stepped run can go idle).
	HeartbeatPeriod time.Duration
	// Recorder gets the agents' events (nil: none, the fastest).
	Recorder controller.Recorder
}

// DefaultCapacity is a fake node's capacity unless NodeOptions say.
func DefaultCapacity() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
}

// NodeName is the name of the i-th fake node: "node-0000", "node-0001"...
func NodeName(i int) string { return fmt.Sprintf("node-%04d", i) }

// NewNode returns the agent of fake node i (named NodeName(i), pod subnet
// 10.x.y.0/24 of its own, InternalIP 172.x.y.z) and its runtime. Register
// the agent with the manager (or put it in a Pool).
func NewNode(i int, st store.Store, opts NodeOptions) (*agent.Agent, *Runtime, error) {
	if opts.Clock == nil {
		return nil, nil, fmt.Errorf("fake: NodeOptions.Clock is required")
	}
	if i < 0 || i >= 192*256 {
		return nil, nil, fmt.Errorf("fake: node index %d out of range", i)
	}
	cidr := fmt.Sprintf("10.%d.%d.0/24", 64+i/256, i%256)
	rt, err := New(Options{Clock: opts.Clock, Behavior: opts.Behavior, PodCIDR: cidr})
	if err != nil {
		return nil, nil, err
	}
	capacity := opts.Capacity
	if capacity == nil {
		capacity = DefaultCapacity()
	}
	j := i + 1
	a, err := agent.New(agent.Options{
		Config: agent.Config{
			NodeName: NodeName(i),
			Labels:   opts.Labels,
			Capacity: capacity,
			Addresses: []corev1.NodeAddress{{
				Type:    corev1.NodeInternalIP,
				Address: fmt.Sprintf("172.%d.%d.%d", 16+j>>16, (j>>8)&255, j&255),
			}},
			PodCIDR:         cidr,
			HeartbeatPeriod: opts.HeartbeatPeriod,
			RuntimeName:     "fake",
		},
		Store:    st,
		Runtime:  rt,
		Prober:   Prober{Runtime: rt},
		Clock:    opts.Clock,
		Recorder: opts.Recorder,
	})
	if err != nil {
		return nil, nil, err
	}
	return a, rt, nil
}

// NewNodes returns n fake nodes (NodeName(0) ... NodeName(n-1)) as one
// agent.Pool, with their runtimes in the same order. Register the pool
// with the manager.
func NewNodes(n int, st store.Store, opts NodeOptions) (*agent.Pool, []*Runtime, error) {
	agents := make([]*agent.Agent, 0, n)
	rts := make([]*Runtime, 0, n)
	for i := range n {
		a, rt, err := NewNode(i, st, opts)
		if err != nil {
			return nil, nil, err
		}
		agents = append(agents, a)
		rts = append(rts, rt)
	}
	pool, err := agent.NewPool(agents...)
	if err != nil {
		return nil, nil, err
	}
	return pool, rts, nil
}
