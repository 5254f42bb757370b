package join

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/reconciler/store"
)

// Annotations by which an agent claims its Node.
const (
	// AnnotationAgentID is the id (kept in DATA_DIR/agent-id) of the
	// agent that registered the Node.
	AnnotationAgentID = agent.AnnotationAgentID
	// AnnotationClaimedAt is when it did (RFC 3339, the server's time as
	// the agent estimates it). Informative, and a sign of life: the owner
	// stamps it again while it waits for its pod subnet, before it
	// heartbeats.
	AnnotationClaimedAt = agent.AnnotationClaimedAt
)

// DefaultLiveWindow is how long an agent watches another agent's Node
// for a sign of life (its heartbeat or claim moving) before taking it:
// the node monitor's default grace period.
const DefaultLiveWindow = 40 * time.Second

// errNameTaken marks the refusal of a Node another live agent holds.
var errNameTaken = errors.New("node name taken")

// registration is what register writes on the Node.
type registration struct {
	name       string
	id         string
	labels     map[string]string
	taints     []corev1.Taint
	capacity   corev1.ResourceList
	addresses  []corev1.NodeAddress
	liveWindow time.Duration
	serverNow  func() time.Time // the server's time as this agent estimates it
	// poll spaces the reads while watching another agent's Node (default
	// 1 s); clock times them (default the real clock).
	poll  time.Duration
	clock clock.WithTicker
}

// register creates the Node, or claims the existing one if this agent
// owns it or its owner is gone. It refuses a Node another live agent
// holds. Liveness compares no clocks of different machines: the Node of
// another agent is taken if the server's node monitor has marked it
// Ready=Unknown, or if neither its Ready heartbeat nor its claim moves
// while this agent watches it for liveWindow. A conflict (two agents
// racing for one name) is tried again: the loser then sees the winner's
// fresh claim.
func register(ctx context.Context, st store.Store, r registration) (*corev1.Node, error) {
	if r.poll <= 0 {
		r.poll = time.Second
	}
	if r.clock == nil {
		r.clock = clock.RealClock{}
	}
	for attempt := 0; ; attempt++ {
		n, err := registerOnce(ctx, st, r)
		if (errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrAlreadyExists)) && attempt < 5 {
			continue
		}
		return n, err
	}
}

func registerOnce(ctx context.Context, st store.Store, r registration) (*corev1.Node, error) {
	obj, err := st.Get(ctx, "Node", "", r.name)
	if errors.Is(err, store.ErrNotFound) {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: r.name, Labels: map[string]string{}}}
		n.Labels[corev1.LabelHostname] = r.name
		applyLabelsAndTaints(n, r)
		n.Status.Capacity = r.capacity.DeepCopy()
		n.Status.Allocatable = r.capacity.DeepCopy()
		n.Status.Addresses = append([]corev1.NodeAddress(nil), r.addresses...)
		claim(n, r.id, r.serverNow())
		out, err := st.Create(ctx, n)
		if err != nil {
			return nil, err
		}
		return out.(*corev1.Node), nil
	}
	if err != nil {
		return nil, err
	}
	n := obj.(*corev1.Node)
	if n.Annotations[AnnotationAgentID] != r.id {
		if n, err = waitOwnerGone(ctx, st, r, n); err != nil {
			return nil, err
		}
		// Taken over (or never claimed): this agent's labels and
		// taints are set now, as on a Node it creates.
		applyLabelsAndTaints(n, r)
	}
	claim(n, r.id, r.serverNow())
	out, err := st.Update(ctx, n)
	if err != nil {
		return nil, err
	}
	return out.(*corev1.Node), nil
}

// waitOwnerGone returns n (as last read) once its owner is known gone,
// or errNameTaken when it shows a sign of life within r.liveWindow.
func waitOwnerGone(ctx context.Context, st store.Store, r registration, n *corev1.Node) (*corev1.Node, error) {
	if gone(n) {
		return n, nil
	}
	first := lifeSign(n)
	deadline := r.clock.Now().Add(r.liveWindow)
	for {
		left := deadline.Sub(r.clock.Now())
		if left <= 0 {
			return n, nil
		}
		if err := sleep(ctx, r.clock, min(r.poll, left)); err != nil {
			return nil, err
		}
		obj, err := st.Get(ctx, "Node", "", r.name)
		if err != nil {
			return nil, err // NotFound: register tries again, and creates it
		}
		n = obj.(*corev1.Node)
		if n.Annotations[AnnotationAgentID] == r.id {
			return n, nil
		}
		if gone(n) {
			return n, nil
		}
		if lifeSign(n) != first {
			return nil, fmt.Errorf("%w: node %s is already registered by another agent (its heartbeat moved within %s); give this agent another --name",
				errNameTaken, r.name, r.liveWindow)
		}
	}
}

// gone tells a Node whose agent is known gone without watching it: one
// never claimed nor heartbeated (made by hand, or by an older berth), or
// one the server's node monitor has marked Ready=Unknown (its heartbeat
// missed for the grace period, by the server's clock).
func gone(n *corev1.Node) bool {
	ready := false
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionUnknown {
				return true
			}
			ready = true
		}
	}
	return !ready && n.Annotations[AnnotationAgentID] == "" && n.Annotations[AnnotationClaimedAt] == ""
}

// lifeSign is what an agent alive on n changes: its owner, claim and
// Ready heartbeat, compared only with themselves (no clocks compared).
func lifeSign(n *corev1.Node) string {
	beat := ""
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			beat = c.LastHeartbeatTime.UTC().Format(time.RFC3339Nano)
		}
	}
	return n.Annotations[AnnotationAgentID] + "|" + n.Annotations[AnnotationClaimedAt] + "|" + beat
}

// applyLabelsAndTaints sets r's labels, and adds r's taints not already
// there (by key and effect).
func applyLabelsAndTaints(n *corev1.Node, r registration) {
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	for k, v := range r.labels {
		n.Labels[k] = v
	}
	for _, t := range r.taints {
		found := false
		for i := range n.Spec.Taints {
			if n.Spec.Taints[i].Key == t.Key && n.Spec.Taints[i].Effect == t.Effect {
				n.Spec.Taints[i] = t
				found = true
			}
		}
		if !found {
			n.Spec.Taints = append(n.Spec.Taints, t)
		}
	}
}

// claim marks n as this agent's.
func claim(n *corev1.Node, id string, now time.Time) {
	if n.Annotations == nil {
		n.Annotations = map[string]string{}
	}
	n.Annotations[AnnotationAgentID] = id
	n.Annotations[AnnotationClaimedAt] = now.UTC().Format(time.RFC3339)
}
