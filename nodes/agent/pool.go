package agent

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Pool runs many agents as one controller, so that the simulator's N
// fake nodes cost one queue and one cache handler rather than N. Its keys
// are "<node>" (that node's heartbeat) and "<node>|<namespace>/<name>" (a
// pod on that node).
type Pool struct {
	agents map[string]*Agent
}

var _ controller.Controller = (*Pool)(nil)

// NewPool groups agents; their node names must differ.
func NewPool(agents ...*Agent) (*Pool, error) {
	p := &Pool{agents: map[string]*Agent{}}
	for _, a := range agents {
		if p.agents[a.name] != nil {
			return nil, fmt.Errorf("agent: two agents for node %q", a.name)
		}
		p.agents[a.name] = a
	}
	return p, nil
}

// Name implements controller.Controller.
func (p *Pool) Name() string { return "agents" }

// Agent returns the agent of node, or nil.
func (p *Pool) Agent(node string) *Agent { return p.agents[node] }

// Len returns how many agents the pool runs.
func (p *Pool) Len() int { return len(p.agents) }

// Register adds the pool to m, as Agent.Register does for one agent.
func (p *Pool) Register(m *controller.Manager) {
	pods := m.Cache().Lister("Pod")
	for _, a := range p.agents {
		a.attach(pods, m.Clock())
	}
	q := m.Register(p, controller.EnqueueFunc("Pod", func(obj store.Object) []string {
		node := obj.(*corev1.Pod).Spec.NodeName
		if p.agents[node] == nil {
			return nil
		}
		return []string{node + "|" + controller.KeyOf(obj)}
	}))
	for name, a := range p.agents {
		a.enqueue = func(key string) { q.Add(name + "|" + key) }
		q.Add(name)
	}
}

// Sync implements controller.Controller.
func (p *Pool) Sync(ctx context.Context, key string) error {
	node, podKey, isPod := strings.Cut(key, "|")
	a := p.agents[node]
	if a == nil {
		return nil
	}
	if !isPod {
		return a.syncNode(ctx)
	}
	ns, name, _ := strings.Cut(podKey, "/")
	return a.syncPod(ctx, ns, name)
}
