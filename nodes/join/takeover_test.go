package join

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/store"
)

// withRT keeps the fake runtime cfg's agent starts in *out.
func withRT(cfg *Config, out chan<- *fake.Runtime) {
	start := cfg.StartRuntime
	cfg.StartRuntime = func(ctx context.Context, podCIDR string) (Runtime, error) {
		r, err := start(ctx, podCIDR)
		if err == nil {
			out <- r.(fakeRuntime).Runtime
		}
		return r, err
	}
}

// `berth label node/n1 tier=core --overwrite` on a key the agent's
// --labels set stays through the heartbeats.
func TestRunKeepsLabelChanges(t *testing.T) {
	ts := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Run(ctx, testConfig(ts, t, "n1"))
	waitFor(t, "registered", func() bool { return getNode(ts, "n1") != nil })
	if getNode(ts, "n1").Labels["tier"] != "edge" {
		t.Fatalf("labels at registration: %v", getNode(ts, "n1").Labels)
	}
	setPodCIDR(t, ts, "n1", "10.42.7.0/24")
	waitFor(t, "heartbeat", func() bool { return !heartbeat(ts).IsZero() })
	for {
		n := getNode(ts, "n1")
		n.Labels["tier"] = "core"
		n.Spec.Taints = nil // berth taint node/n1 dedicated-
		if _, err := ts.st.Update(ctx, n); err == nil {
			break
		} else if !errors.Is(err, store.ErrConflict) {
			t.Fatal(err)
		}
	}
	beat := heartbeat(ts)
	waitFor(t, "the next heartbeat", func() bool { return heartbeat(ts).After(beat) })
	if n := getNode(ts, "n1"); n.Labels["tier"] != "core" || len(n.Spec.Taints) != 0 {
		t.Errorf("after a heartbeat: tier=%q taints %v, want the change by hand kept", n.Labels["tier"], n.Spec.Taints)
	}
}

// Agent A holds n1 and is cut off from the server; the node monitor marks
// it Ready=Unknown and agent B, given the same name, takes it over. When
// A is heard from again it finds B's claim: it stops, saying so, and does
// not write the Node again.
func TestRunTakenOverAgentStops(t *testing.T) {
	ts := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rtsA, rtsB := make(chan *fake.Runtime, 1), make(chan *fake.Runtime, 1)
	cfgA := testConfig(ts, t, "n1")
	withRT(&cfgA, rtsA)
	errA := make(chan error, 1)
	go func() { errA <- Run(ctx, cfgA) }()
	waitFor(t, "registered", func() bool { return getNode(ts, "n1") != nil })
	setPodCIDR(t, ts, "n1", "10.42.7.0/24")
	ts.st.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p"},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "img"}}}})
	rtA := <-rtsA
	waitFor(t, "A runs p", func() bool { return sandboxes(t, rtA) == 1 })
	waitFor(t, "A heartbeats", func() bool { return !heartbeat(ts).IsZero() })
	idA := getNode(ts, "n1").Annotations[AnnotationAgentID]

	// What the node monitor does once A missed its heartbeats.
	markUnknown := func() {
		for {
			n := getNode(ts, "n1")
			for i := range n.Status.Conditions {
				if n.Status.Conditions[i].Type == corev1.NodeReady {
					n.Status.Conditions[i].Status = corev1.ConditionUnknown
				}
			}
			if _, err := ts.st.Update(ctx, n); err == nil {
				return
			}
		}
	}
	cfgB := testConfig(ts, t, "n1")
	withRT(&cfgB, rtsB)
	errB := make(chan error, 1)
	for attempt := 0; ; attempt++ { // A may heartbeat in between: try again
		markUnknown()
		go func() { errB <- Run(ctx, cfgB) }()
		var rtB *fake.Runtime
		select {
		case rtB = <-rtsB:
		case err := <-errB:
			if attempt < 5 && errors.Is(err, errNameTaken) {
				continue
			}
			t.Fatalf("B: %v", err)
		case <-time.After(15 * time.Second):
			t.Fatal("B did not start")
		}
		waitFor(t, "B runs p", func() bool { return sandboxes(t, rtB) == 1 })
		break
	}
	idB := getNode(ts, "n1").Annotations[AnnotationAgentID]
	if idB == idA {
		t.Fatalf("B did not claim n1")
	}

	select {
	case err := <-errA:
		if err == nil || !errors.Is(err, errNodeLost) || !strings.Contains(err.Error(), "another agent (id "+idB+") now owns node n1") {
			t.Errorf("A returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("A still runs n1 after B took it over")
	}
	// A's pods no longer run on A's machine: B runs them now.
	if n := sandboxes(t, rtA); n != 0 {
		t.Errorf("A's machine still holds %d sandboxes of n1's pods, which B runs", n)
	}
	// A no longer writes the Node.
	time.Sleep(500 * time.Millisecond)
	if owner := getNode(ts, "n1").Annotations[AnnotationAgentID]; owner != idB {
		t.Errorf("owner = %q, want B's %q", owner, idB)
	}
	select {
	case err := <-errB:
		t.Errorf("B stopped: %v", err)
	default:
	}
}
