package join

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
)

// Annotations by which an agent claims its Node.
const (
	// AnnotationAgentID is the id (kept in DATA_DIR/agent-id) of the
	// agent that registered the Node.
	AnnotationAgentID = "berth.io/agent-id"
	// AnnotationClaimedAt is when it did (RFC 3339, the server's time as
	// the agent estimates it): a Node just claimed has no heartbeat yet.
	AnnotationClaimedAt = "berth.io/agent-claimed-at"
)

// DefaultLiveWindow is how recent another agent's heartbeat (or claim)
// must be for its Node to be taken as in use: the node monitor's default
// grace period.
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
}

// register creates the Node, or claims the existing one if this agent
// owns it or its owner is gone (no heartbeat nor claim for liveWindow).
// It refuses a Node another live agent holds. A conflict (two agents
// racing for one name) is tried again: the loser then sees the winner's
// fresh claim.
func register(ctx context.Context, st store.Store, r registration) (*corev1.Node, error) {
	for attempt := 0; ; attempt++ {
		n, err := registerOnce(ctx, st, r)
		if (errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrAlreadyExists)) && attempt < 5 {
			continue
		}
		return n, err
	}
}

func registerOnce(ctx context.Context, st store.Store, r registration) (*corev1.Node, error) {
	now := r.serverNow()
	obj, err := st.Get(ctx, "Node", "", r.name)
	if errors.Is(err, store.ErrNotFound) {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: r.name, Labels: map[string]string{}}}
		for k, v := range r.labels {
			n.Labels[k] = v
		}
		n.Labels[corev1.LabelHostname] = r.name
		n.Spec.Taints = append([]corev1.Taint(nil), r.taints...)
		n.Status.Capacity = r.capacity.DeepCopy()
		n.Status.Allocatable = r.capacity.DeepCopy()
		n.Status.Addresses = append([]corev1.NodeAddress(nil), r.addresses...)
		claim(n, r.id, now)
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
	if owner := n.Annotations[AnnotationAgentID]; owner != r.id {
		if seen, ok := lastSeen(n); ok && now.Sub(seen) < r.liveWindow {
			return nil, fmt.Errorf("%w: node %s is already registered by another agent (last heartbeat %s ago); give this agent another --name",
				errNameTaken, r.name, max(now.Sub(seen), 0).Truncate(time.Second))
		}
	}
	claim(n, r.id, now)
	out, err := st.Update(ctx, n)
	if err != nil {
		return nil, err
	}
	return out.(*corev1.Node), nil
}

// claim marks n as this agent's.
func claim(n *corev1.Node, id string, now time.Time) {
	if n.Annotations == nil {
		n.Annotations = map[string]string{}
	}
	n.Annotations[AnnotationAgentID] = id
	n.Annotations[AnnotationClaimedAt] = now.UTC().Format(time.RFC3339)
}

// lastSeen is the latest sign of life of n's agent: its Ready condition's
// heartbeat or its claim. A Node with neither (made by hand, or by an
// agent of an older berth) was never claimed and may be taken.
func lastSeen(n *corev1.Node) (time.Time, bool) {
	var t time.Time
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.LastHeartbeatTime.After(t) {
			t = c.LastHeartbeatTime.Time
		}
	}
	if at, err := time.Parse(time.RFC3339, n.Annotations[AnnotationClaimedAt]); err == nil && at.After(t) {
		t = at
	}
	return t, !t.IsZero()
}
