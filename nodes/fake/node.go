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
// NodeCIDR(i), InternalIP NodeIP(i)) and its new runtime. Register the
// agent with the manager (or put it in a Pool).
func NewNode(i int, st store.Store, opts NodeOptions) (*agent.Agent, *Runtime, error) {
	if opts.Clock == nil {
		return nil, nil, fmt.Errorf("fake: NodeOptions.Clock is required")
	}
	if i < 0 || i >= 192*256 {
		return nil, nil, fmt.Errorf("fake: node index %d out of range", i)
	}
	rt, err := New(Options{Clock: opts.Clock, Behavior: opts.Behavior, PodCIDR: NodeCIDR(i)})
	if err != nil {
		return nil, nil, err
	}
	a, err := NewNodeOn(i, rt, st, opts)
	if err != nil {
		return nil, nil, err
	}
	return a, rt, nil
}

// NewNodeOn returns the agent of fake node i over an existing runtime: a
// node agent restarting on a machine whose pods kept running. The agent
// adopts them (by their labels) instead of starting them again. The
// runtime keeps the Behavior and clock it was made with; opts.Behavior is
// not used.
func NewNodeOn(i int, rt *Runtime, st store.Store, opts NodeOptions) (*agent.Agent, error) {
	if opts.Clock == nil {
		return nil, fmt.Errorf("fake: NodeOptions.Clock is required")
	}
	if i < 0 || i >= 192*256 {
		return nil, fmt.Errorf("fake: node index %d out of range", i)
	}
	capacity := opts.Capacity
	if capacity == nil {
		capacity = DefaultCapacity()
	}
	return agent.New(agent.Options{
		Config: agent.Config{
			NodeName:        NodeName(i),
			Labels:          opts.Labels,
			Capacity:        capacity,
			Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: NodeIP(i)}},
			PodCIDR:         NodeCIDR(i),
			HeartbeatPeriod: opts.HeartbeatPeriod,
			RuntimeName:     "fake",
		},
		Store:     st,
		Runtime:   rt,
		Prober:    Prober{Runtime: rt},
		NetProber: Prober{Runtime: rt},
		Clock:     opts.Clock,
		Recorder:  opts.Recorder,
	})
}

// NodeCIDR is fake node i's pod subnet: 10.(64+i/256).(i%256).0/24.
func NodeCIDR(i int) string { return fmt.Sprintf("10.%d.%d.0/24", 64+i/256, i%256) }

// NodeIP is fake node i's InternalIP, in 172.16.0.0/12 (i+1 as the host
// part, so node 0 is 172.16.0.1).
func NodeIP(i int) string {
	j := i + 1
	return fmt.Sprintf("172.%d.%d.%d", 16+j>>16, (j>>8)&255, j&255)
}

// NewNodes returns n new fake nodes (NodeName(0) ... NodeName(n-1)) as one
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

// NewNodesOn is NewNodes over the runtimes of a previous run (node i on
// runtimes[i]): agents restart, pods keep running and are adopted. It
// returns runtimes back for symmetry with NewNodes.
func NewNodesOn(runtimes []*Runtime, st store.Store, opts NodeOptions) (*agent.Pool, []*Runtime, error) {
	agents := make([]*agent.Agent, 0, len(runtimes))
	for i, rt := range runtimes {
		a, err := NewNodeOn(i, rt, st, opts)
		if err != nil {
			return nil, nil, err
		}
		agents = append(agents, a)
	}
	pool, err := agent.NewPool(agents...)
	if err != nil {
		return nil, nil, err
	}
	return pool, runtimes, nil
}
