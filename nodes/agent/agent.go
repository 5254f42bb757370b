// Package agent is berth's node agent, kubelet's job over a
// nodes.Runtime: it registers its Node in the store and keeps the Node's
// heartbeat, runs the pods bound to it (sandbox, volumes, image pulls
// with back-off, env, init containers, containers, lifecycle hooks,
// startup/liveness/readiness probes, restarts with CrashLoopBackOff,
// graceful stop on deletion), and reports their status (phase,
// conditions, container statuses, IPs).
//
// An Agent is a controller.Controller: all its work happens in Sync,
// keyed by pod key ("namespace/name") or by its node name (the
// heartbeat), and everything it waits for is a Requeue on the manager's
// clock. So the same loop runs on worker goroutines in the server and
// step by step on a fake clock in tests and the simulator. The fake node
// is an Agent over nodes/fake's Runtime; the containerd node (issue 4)
// will be the same Agent over nodes/containerd.
package agent

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// DefaultHeartbeatPeriod is how often the Node's Ready condition is
// refreshed (kubelet's nodeStatusUpdateFrequency).
const DefaultHeartbeatPeriod = 10 * time.Second

// DefaultGracePeriod is the stop grace of a pod that names none
// (terminationGracePeriodSeconds' default).
const DefaultGracePeriod = 30 * time.Second

// Config describes the node an Agent registers.
type Config struct {
	// NodeName names the Node; required.
	NodeName string
	// Labels are set on the Node when the agent creates it
	// (kubernetes.io/hostname, os and arch are always set).
	Labels map[string]string
	// Capacity is what the node has (cpu, memory, pods; pods defaults to
	// 110, kubelet's maxPods).
	Capacity corev1.ResourceList
	// Allocatable is what pods may use (default: Capacity).
	Allocatable corev1.ResourceList
	// Addresses are the Node's; the first InternalIP is each pod's hostIP.
	Addresses []corev1.NodeAddress
	// PodCIDR is the node's pod subnet, reported in spec.podCIDR.
	PodCIDR string
	// Taints are set on the Node when the agent creates it.
	Taints []corev1.Taint
	// OwnerID, when set, is the id of the agent instance that owns the
	// Node (its AnnotationAgentID): the agent writes it on a Node it
	// creates, and every heartbeat checks the Node still carries it. If
	// another agent has claimed the Node since, the agent stops writing
	// the Node and calls NodeLost with the new owner's id; its caller
	// should then stop the agent (its pods are the other agent's now).
	OwnerID string
	// NodeLost is called (in the heartbeat's sync) when the Node is
	// found owned by another agent; see OwnerID.
	NodeLost func(owner string)
	// HeartbeatPeriod is how often the Ready condition's
	// lastHeartbeatTime moves (default DefaultHeartbeatPeriod; negative:
	// only when the agent registers, for runs that must go idle).
	HeartbeatPeriod time.Duration
	// ResyncPeriod, when positive, re-syncs running pods that often if
	// the runtime is no nodes.Timeline (a stand-in for kubelet's PLEG
	// relist until the runtime's event stream calls Notify).
	ResyncPeriod time.Duration
	// RuntimeName prefixes container IDs in statuses ("containerd://…").
	RuntimeName string
	// OS and Arch are reported in labels and nodeInfo (default linux,
	// amd64).
	OS, Arch string
	// DataDir is the agent's directory: pod volumes go under
	// DataDir/pods/<uid>/volumes. Empty (fake nodes, the simulator):
	// nothing is written, volumes are only checked.
	DataDir string
}

// Options are what an Agent works with.
type Options struct {
	Config
	// Store is where the Node is written and pod statuses go.
	Store store.Store
	// Runtime runs the pods.
	Runtime nodes.Runtime
	// Prober, when set, decides container readiness instead of the
	// containers' readinessProbes (the fake node's: readiness on its
	// Behavior's schedule). Nil: the agent runs readiness probes itself.
	// Startup and liveness probes always run.
	Prober Prober
	// NetProber runs the HTTP and TCP checks of probes and hooks (default
	// NetProbes, the real network; the fake node uses the fake's).
	NetProber NetProber
	// Clock is the agent's time (default: the manager's clock).
	Clock clock.PassiveClock
	// Recorder gets kubelet's events (nil: none).
	Recorder controller.Recorder
	// Log gets errors that do not fail a sync (default slog.Default()).
	Log *slog.Logger
}

// Agent is one node's agent. Create it with New and Register it with a
// Manager (or add it to a Pool).
type Agent struct {
	opts     Options
	name     string
	hostIP   string
	timeline nodes.Timeline // the runtime, when it is one
	backoff  *backoff

	pods    controller.Lister
	enqueue func(key string)

	mu       sync.Mutex
	stopping map[string]bool             // containers asked to stop, by ID
	probes   map[string]*containerProbes // probe workers, by container ID
	pullErrs map[string]pullFailure      // last image pull error, by pull key
}

var _ controller.Controller = (*Agent)(nil)

// New returns an Agent; it does nothing until registered.
func New(opts Options) (*Agent, error) {
	if opts.NodeName == "" {
		return nil, fmt.Errorf("agent: NodeName is required")
	}
	if strings.ContainsAny(opts.NodeName, "/|") {
		return nil, fmt.Errorf("agent: node name %q has '/' or '|'", opts.NodeName)
	}
	if opts.Store == nil || opts.Runtime == nil {
		return nil, fmt.Errorf("agent: Store and Runtime are required")
	}
	if opts.Capacity == nil {
		opts.Capacity = corev1.ResourceList{}
	} else {
		opts.Capacity = opts.Capacity.DeepCopy()
	}
	if _, ok := opts.Capacity[corev1.ResourcePods]; !ok {
		opts.Capacity[corev1.ResourcePods] = *resource.NewQuantity(110, resource.DecimalSI)
	}
	if opts.Allocatable == nil {
		opts.Allocatable = opts.Capacity.DeepCopy()
	}
	if opts.HeartbeatPeriod == 0 {
		opts.HeartbeatPeriod = DefaultHeartbeatPeriod
	}
	if opts.RuntimeName == "" {
		opts.RuntimeName = "berth"
	}
	if opts.OS == "" {
		opts.OS = "linux"
	}
	if opts.Arch == "" {
		opts.Arch = "amd64"
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.NetProber == nil {
		opts.NetProber = NetProbes{}
	}
	a := &Agent{
		opts:     opts,
		name:     opts.NodeName,
		backoff:  newBackoff(DefaultBackoffInitial, DefaultBackoffMax),
		stopping: map[string]bool{},
		probes:   map[string]*containerProbes{},
		pullErrs: map[string]pullFailure{},
	}
	for _, addr := range opts.Addresses {
		if addr.Type == corev1.NodeInternalIP {
			a.hostIP = addr.Address
			break
		}
	}
	a.timeline, _ = opts.Runtime.(nodes.Timeline)
	return a, nil
}

// NodeName returns the name of the agent's node.
func (a *Agent) NodeName() string { return a.name }

// Name implements controller.Controller.
func (a *Agent) Name() string { return "agent/" + a.name }

// Register adds the agent to m, whose cache must hold "Pod": it syncs the
// pods bound to its node as they change, and its node at once and then
// every heartbeat. Call it before m runs.
func (a *Agent) Register(m *controller.Manager) {
	a.attach(m.Cache().Lister("Pod"), m.Clock())
	q := m.Register(a, controller.EnqueueFunc("Pod", func(obj store.Object) []string {
		if p := obj.(*corev1.Pod); p.Spec.NodeName == a.name {
			return []string{controller.KeyOf(obj)}
		}
		return nil
	}))
	a.enqueue = q.Add
	q.Add(a.name)
}

// attach gives the agent its pod lister and, if it has none, a clock.
func (a *Agent) attach(pods controller.Lister, clk clock.PassiveClock) {
	a.pods = pods
	if a.opts.Clock == nil {
		a.opts.Clock = clk
	}
}

// Notify asks for the pod with key ("namespace/name") to be synced: for
// runtimes that report container events as they happen.
func (a *Agent) Notify(key string) {
	if a.enqueue != nil {
		a.enqueue(key)
	}
}

// Sync implements controller.Controller: key is the node's name (register
// and heartbeat) or a pod key.
func (a *Agent) Sync(ctx context.Context, key string) error {
	ns, name, isPod := strings.Cut(key, "/")
	if !isPod {
		if key != a.name {
			return nil
		}
		return a.syncNode(ctx)
	}
	return a.syncPod(ctx, ns, name)
}

func (a *Agent) now() time.Time { return a.opts.Clock.Now() }

// event records an event if the agent has a recorder.
func (a *Agent) event(obj store.Object, typ, reason, format string, args ...any) {
	if a.opts.Recorder != nil {
		a.opts.Recorder.Eventf(obj, typ, reason, format, args...)
	}
}

// requeueAt turns the earliest wake-up time into Sync's result.
func (a *Agent) requeueAt(t time.Time) error {
	if t.IsZero() {
		return nil
	}
	return controller.Requeue{After: max(t.Sub(a.now()), 0)}
}

// earliest keeps the earliest non-zero time.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
