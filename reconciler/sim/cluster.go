// Package sim runs berth's whole control plane (store, watch cache,
// Deployment, ReplicaSet and garbage collector controllers, scheduler) and
// N fake nodes on a fake clock, stepped deterministically: rollouts of
// minutes run in milliseconds, the same way every time. Tests, the
// property and crash tests, and benchmarks use it; it is never part of a
// server.
package sim

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/cronjob"
	"github.com/berth-io/berth/reconciler/daemonset"
	"github.com/berth-io/berth/reconciler/deployment"
	"github.com/berth-io/berth/reconciler/gc"
	"github.com/berth-io/berth/reconciler/job"
	"github.com/berth-io/berth/reconciler/replicaset"
	"github.com/berth-io/berth/reconciler/scheduler"
	"github.com/berth-io/berth/reconciler/store"
)

// Epoch is where simulated time starts, so that runs are reproducible.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configure a Cluster.
type Options struct {
	// Nodes is how many fake nodes to start (default 3).
	Nodes int
	// Behavior decides what each pod's containers do (nil: ready at once).
	Behavior fake.BehaviorFunc
	// Store, when set, is used instead of a fresh memory store (a bolt
	// store for crash tests).
	Store store.Store
	// Clock, when set, is used instead of a fake clock at Epoch (a restart
	// keeps the clock of the run it continues).
	Clock *clocktesting.FakeClock
	// Runtimes, when set, are the nodes' runtimes from a previous run: the
	// machines kept running while the control plane restarted.
	Runtimes []*fake.Runtime
	// Recorder, when set, records every controller's events (default: the
	// store's own event recorder).
	Recorder controller.Recorder
	// Log gets the control plane's errors (default: discarded; simulated
	// crashes and conflicts are expected here).
	Log *slog.Logger
}

// Cluster is a running simulated cluster.
type Cluster struct {
	Clock    *clocktesting.FakeClock
	Store    store.Store
	Cache    *controller.Cache
	Manager  *controller.Manager
	Nodes    *agent.Pool
	Runtimes []*fake.Runtime
}

// Kinds are the kinds the simulated control plane watches.
var Kinds = []string{"Deployment", "ReplicaSet", "DaemonSet", "ControllerRevision", "Job", "CronJob", "Pod", "Node"}

// New builds a cluster; nothing runs until RunUntilIdle.
func New(opts Options) (*Cluster, error) {
	if opts.Nodes <= 0 {
		opts.Nodes = 3
	}
	clk := opts.Clock
	if clk == nil {
		clk = clocktesting.NewFakeClock(Epoch)
	}
	st := opts.Store
	if st == nil {
		st = store.NewMemory(clk)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cache := controller.NewCache(st, Kinds...)
	cache.SetLogger(log)
	m := controller.NewManager(cache, clk)
	m.SetLogger(log)
	rec := opts.Recorder
	if rec == nil {
		events := controller.NewRecorder(st, clk, "berth")
		events.SetLogger(log)
		rec = events
	}
	// Registration order is the order Step serves controllers in when
	// several have work due.
	replicaset.Register(m, st, rec)
	deployment.Register(m, st, rec)
	daemonset.Register(m, st, rec)
	job.Register(m, st, rec)
	cronjob.Register(m, st, rec)
	gc.Register(m, st) // gc.DefaultKinds that Kinds holds
	scheduler.New(st, scheduler.Options{Clock: clk, Recorder: rec}).Register(m)
	nodeOpts := fake.NodeOptions{Clock: clk, Behavior: opts.Behavior, HeartbeatPeriod: -1}
	pool, rts, err := newNodes(opts.Nodes, st, nodeOpts, opts.Runtimes)
	if err != nil {
		return nil, err
	}
	pool.Register(m)
	for _, rt := range rts {
		m.AddTimerSource(rt.Next)
	}
	return &Cluster{Clock: clk, Store: st, Cache: cache, Manager: m, Nodes: pool, Runtimes: rts}, nil
}

// newNodes starts n fake nodes, on the given runtimes when a previous run
// left some.
func newNodes(n int, st store.Store, opts fake.NodeOptions, runtimes []*fake.Runtime) (*agent.Pool, []*fake.Runtime, error) {
	if runtimes == nil {
		return fake.NewNodes(n, st, opts)
	}
	if len(runtimes) != n {
		return nil, nil, fmt.Errorf("sim: %d runtimes for %d nodes", len(runtimes), n)
	}
	return fake.NewNodesOn(runtimes, st, opts)
}

// RunUntilIdle steps the cluster, moving the fake clock to each next due
// time, until nothing is left to do or max simulated time has passed.
func (c *Cluster) RunUntilIdle(ctx context.Context, max time.Duration) error {
	return c.Manager.RunUntilIdle(ctx, c.Clock, max)
}

// Now returns the simulated time.
func (c *Cluster) Now() time.Time { return c.Clock.Now() }

var _ clock.PassiveClock = (*clocktesting.FakeClock)(nil)
