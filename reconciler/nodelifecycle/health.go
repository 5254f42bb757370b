package nodelifecycle

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// healthController marks nodes that stopped posting status Unknown and
// taints nodes by their Ready condition (upstream's node lifecycle
// controller: monitorNodeHealth and the NoExecute/NoSchedule tainting).
type healthController struct {
	st    *controller.WriteTracker
	cache *controller.Cache
	clock clock.PassiveClock
	grace time.Duration

	mu sync.Mutex
	// probes is, per node, the heartbeat last seen and when this
	// controller saw it change, by its own clock. Staleness is measured
	// from that, never from the heartbeat's own time, as upstream's
	// nodeHealthData.probeTimestamp: an agent whose clock is far off is
	// neither declared dead at once nor kept alive forever.
	probes map[string]probe
}

type probe struct {
	heartbeat metav1.Time
	seen      time.Time
}

func newHealthController(st store.Store, cache *controller.Cache, clk clock.PassiveClock, grace time.Duration) *healthController {
	return &healthController{st: controller.NewWriteTracker(st), cache: cache, clock: clk, grace: grace, probes: map[string]probe{}}
}

// Name implements controller.Controller.
func (c *healthController) Name() string { return "nodelifecycle" }

// Sync implements controller.Controller: it checks one node's heartbeat,
// sets its conditions Unknown past the grace period, puts on or takes off
// the not-ready/unreachable taints, and asks to be called again when the
// grace period would run out.
func (c *healthController) Sync(ctx context.Context, key string) error {
	if err := c.st.AwaitCache(ctx, c.cache.WaitFor); err != nil {
		return err
	}
	obj, ok := c.cache.Lister("Node").Get("", key)
	if !ok {
		c.forget(key)
		return nil
	}
	node := obj.(*corev1.Node).DeepCopy()
	now := c.clock.Now()
	deadline := c.observe(node, now).Add(c.grace)
	changed := false
	if !now.Before(deadline) {
		changed = markUnknown(&node.Status, now)
	}
	if setReadinessTaints(node, now) {
		changed = true
	}
	if changed {
		if _, err := c.st.Update(ctx, node); err != nil {
			return err
		}
	}
	if now.Before(deadline) {
		return controller.Requeue{After: deadline.Sub(now)}
	}
	return nil // Unknown already; the next heartbeat wakes it
}

// observe records node's heartbeat and returns when it was last seen
// moving (now, for a node seen for the first time: a restarted controller
// gives every node a full grace period, as upstream's does).
func (c *healthController) observe(node *corev1.Node, now time.Time) time.Time {
	var beat metav1.Time
	if cond := readyCondition(&node.Status); cond != nil {
		beat = cond.LastHeartbeatTime
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.probes[node.Name]
	if !ok || !p.heartbeat.Equal(&beat) {
		p = probe{heartbeat: beat, seen: now}
		c.probes[node.Name] = p
	}
	return p.seen
}

func (c *healthController) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.probes, name)
}

// readyCondition returns the node's Ready condition, or nil.
func readyCondition(st *corev1.NodeStatus) *corev1.NodeCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == corev1.NodeReady {
			return &st.Conditions[i]
		}
	}
	return nil
}

// markUnknown sets the kubelet's conditions to Unknown with upstream's
// reasons (a missing Ready condition is added as "never updated"); it
// reports whether anything changed. lastHeartbeatTime is kept, so the
// agent's next post is seen as a change.
func markUnknown(st *corev1.NodeStatus, now time.Time) bool {
	t := metav1.NewTime(now.Truncate(time.Second))
	changed := false
	if readyCondition(st) == nil {
		st.Conditions = append(st.Conditions, corev1.NodeCondition{
			Type: corev1.NodeReady, Status: corev1.ConditionUnknown,
			Reason: "NodeStatusNeverUpdated", Message: "Kubelet never posted node status.",
			LastHeartbeatTime: t, LastTransitionTime: t,
		})
		changed = true
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		switch c.Type {
		case corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure:
		default:
			continue
		}
		if c.Status == corev1.ConditionUnknown {
			continue
		}
		c.Status = corev1.ConditionUnknown
		c.Reason = "NodeStatusUnknown"
		c.Message = "Kubelet stopped posting node status."
		c.LastTransitionTime = t
		changed = true
	}
	return changed
}
