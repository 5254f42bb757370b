package agent_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// recRuntime is the fake runtime that also logs starts, stops and execs
// in order, and keeps the last config of each container name.
type recRuntime struct {
	*fake.Runtime
	mu      sync.Mutex
	log     []string
	configs map[string]*nodes.ContainerConfig
}

func (r *recRuntime) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, s)
}

func (r *recRuntime) Log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

func (r *recRuntime) Config(name string) *nodes.ContainerConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.configs[name]
}

func (r *recRuntime) CreateContainer(ctx context.Context, sb string, cfg *nodes.ContainerConfig) (string, error) {
	r.mu.Lock()
	r.configs[cfg.Name] = cfg
	r.mu.Unlock()
	return r.Runtime.CreateContainer(ctx, sb, cfg)
}

func (r *recRuntime) StartContainer(ctx context.Context, id string) error {
	st, _ := r.ContainerStatus(ctx, id)
	r.add("start " + st.Name)
	return r.Runtime.StartContainer(ctx, id)
}

func (r *recRuntime) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	st, _ := r.ContainerStatus(ctx, id)
	r.add(fmt.Sprintf("stop %s %v", st.Name, timeout))
	return r.Runtime.StopContainer(ctx, id, timeout)
}

// agentEnv configures newAgentEnv.
type agentEnv struct {
	behavior fake.BehaviorFunc
	dataDir  string
	// net is the NetProber (default: the fake's, over exec).
	net agent.NetProber
	// exec decides commands (and the fake's HTTP/TCP checks); it gets the
	// clock's time. Default: exit 0.
	exec func(now time.Time, c nodes.ContainerStatus, cmd []string) int32
}

// newAgentEnv is newEnv with the agent running its own probes (no
// readiness override), a recording runtime and scripted commands.
func newAgentEnv(t *testing.T, o agentEnv) *env {
	t.Helper()
	clk := clocktesting.NewFakeClock(epoch)
	st := store.NewMemory(clk)
	t.Cleanup(func() { st.Close() })
	frt, err := fake.New(fake.Options{Clock: clk, Behavior: o.behavior, PodCIDR: fake.NodeCIDR(0),
		PullError: func(image string) error {
			if strings.HasPrefix(image, "missing") {
				return fmt.Errorf("%s: not found", image)
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recRuntime{Runtime: frt, configs: map[string]*nodes.ContainerConfig{}}
	frt.SetExec(func(c nodes.ContainerStatus, cmd []string) (nodes.ExecResult, error) {
		rec.add("exec " + c.Name + " " + strings.Join(cmd, " "))
		if o.exec == nil {
			return nodes.ExecResult{}, nil
		}
		return nodes.ExecResult{ExitCode: o.exec(clk.Now(), c, cmd)}, nil
	})
	net := o.net
	if net == nil {
		net = fake.Prober{Runtime: frt}
	}
	events := controller.NewFakeRecorder()
	a, err := agent.New(agent.Options{
		Config: agent.Config{NodeName: fake.NodeName(0), HeartbeatPeriod: -1, RuntimeName: "fake",
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fake.NodeIP(0)}},
			DataDir:   o.dataDir},
		Store: st, Runtime: rec, NetProber: net, Clock: clk, Recorder: events,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), clock: clk, store: st, agent: a, rt: frt, rec: rec, events: events}
	e.mgr = newManager(st, clk)
	a.Register(e.mgr)
	return e
}

// app returns the pod's status of its first app container.
func (e *env) app(name string) corev1.ContainerStatus {
	e.t.Helper()
	p := e.pod(name)
	if p == nil || len(p.Status.ContainerStatuses) == 0 {
		e.t.Fatalf("pod %s has no container status", name)
	}
	return p.Status.ContainerStatuses[0]
}

func (e *env) hasEvent(substr string) bool {
	for _, ev := range e.events.Events() {
		if strings.Contains(ev, substr) {
			return true
		}
	}
	return false
}

func intOrStr(s string) intstr.IntOrString { return intstr.FromString(s) }
func intOrInt(i int) intstr.IntOrString    { return intstr.FromInt(i) }

func (r *recRuntime) PullImage(ctx context.Context, image string, policy corev1.PullPolicy, auth *nodes.AuthConfig) (string, error) {
	if auth != nil {
		r.add(fmt.Sprintf("pull %s as %s:%s@%s", image, auth.Username, auth.Password, auth.ServerAddress))
	}
	return r.Runtime.PullImage(ctx, image, policy, auth)
}
