package agent_test

import (
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/store"
)

// ownedEnv is a node agent with an OwnerID and the given labels and
// taints, and what its NodeLost was told.
func ownedEnv(t *testing.T, owner string, labels map[string]string, taints []corev1.Taint) (*env, func() []string) {
	t.Helper()
	clk := clocktesting.NewFakeClock(epoch)
	st := store.NewMemory(clk)
	t.Cleanup(func() { st.Close() })
	rt, err := fake.New(fake.Options{Clock: clk, PodCIDR: fake.NodeCIDR(0)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lost []string
	a, err := agent.New(agent.Options{
		Config: agent.Config{NodeName: fake.NodeName(0), Labels: labels, Taints: taints,
			Capacity: fake.DefaultCapacity(), PodCIDR: fake.NodeCIDR(0), HeartbeatPeriod: 10 * time.Second,
			RuntimeName: "fake", OwnerID: owner,
			NodeLost: func(o string) { mu.Lock(); lost = append(lost, o); mu.Unlock() }},
		Store: st, Runtime: rt, Prober: fake.Prober{Runtime: rt}, NetProber: fake.Prober{Runtime: rt}, Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: t.Context(), clock: clk, store: st, agent: a, rt: rt}
	e.mgr = newManager(st, clk)
	a.Register(e.mgr)
	return e, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), lost...) }
}

func readyBeat(n *corev1.Node) time.Time {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.LastHeartbeatTime.Time
		}
	}
	return time.Time{}
}

// The agent's labels and taints are the Node's when it is made; changed
// by hand later, they stay changed.
func TestNodeLabelsOnlyAtCreation(t *testing.T) {
	e, _ := ownedEnv(t, "", map[string]string{"tier": "edge"},
		[]corev1.Taint{{Key: "dedicated", Value: "edge", Effect: corev1.TaintEffectNoSchedule}})
	e.advanceTo(epoch)
	n := e.node()
	if n.Labels["tier"] != "edge" || len(n.Spec.Taints) != 1 || n.Labels[corev1.LabelHostname] != fake.NodeName(0) {
		t.Fatalf("new node: labels %v taints %v", n.Labels, n.Spec.Taints)
	}
	n.Labels["tier"] = "core" // berth label node/node-0000 tier=core --overwrite
	delete(n.Labels, corev1.LabelOSStable)
	n.Spec.Taints = nil // berth taint node/node-0000 dedicated-
	if _, err := e.store.Update(e.ctx, n); err != nil {
		t.Fatal(err)
	}
	e.advanceTo(epoch.Add(25 * time.Second))
	n = e.node()
	if !readyBeat(n).After(epoch) {
		t.Fatalf("no heartbeat since: %v", n.Status.Conditions)
	}
	if n.Labels["tier"] != "core" || len(n.Spec.Taints) != 0 {
		t.Errorf("after heartbeats: labels %v taints %v, want tier=core and no taints kept", n.Labels, n.Spec.Taints)
	}
	if n.Labels[corev1.LabelOSStable] == "" {
		t.Errorf("the os label is not reconciled: %v", n.Labels)
	}
}

func TestNodeCreatedWithOwner(t *testing.T) {
	e, _ := ownedEnv(t, "me", nil, nil)
	e.advanceTo(epoch)
	if got := e.node().Annotations[agent.AnnotationAgentID]; got != "me" {
		t.Errorf("owner annotation = %q, want me", got)
	}
}

// Another agent claims the Node: the heartbeat stops and NodeLost is told.
func TestNodeClaimedByAnotherStopsHeartbeat(t *testing.T) {
	e, lost := ownedEnv(t, "me", nil, nil)
	e.advanceTo(epoch)
	n := e.node()
	n.Annotations[agent.AnnotationAgentID] = "other"
	if _, err := e.store.Update(e.ctx, n); err != nil {
		t.Fatal(err)
	}
	rv := e.node().ResourceVersion
	e.advanceTo(epoch.Add(35 * time.Second))
	if got := lost(); len(got) == 0 || got[0] != "other" {
		t.Errorf("NodeLost calls = %v, want [other]", got)
	}
	if n := e.node(); n.ResourceVersion != rv || n.Annotations[agent.AnnotationAgentID] != "other" {
		t.Errorf("the agent wrote a node it no longer owns: owner %q, heartbeat %v",
			n.Annotations[agent.AnnotationAgentID], readyBeat(n))
	}
}
