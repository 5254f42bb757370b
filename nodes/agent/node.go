package agent

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/reconciler/store"
)

// AnnotationAgentID names the agent instance that owns a Node (the
// remote agent's id, kept in its data dir): see Config.OwnerID.
const AnnotationAgentID = "berth.io/agent-id"

// AnnotationClaimedAt is when the owner claimed the Node (RFC 3339, by
// the owner's estimate of the server's time; informative, and a sign of
// life that moves while the owner waits for its pod subnet).
const AnnotationClaimedAt = "berth.io/agent-claimed-at"

// syncNode registers the Node or refreshes it: the labels the agent owns
// (hostname, os, arch), capacity, addresses, and the conditions with
// lastHeartbeatTime now. Config.Labels and Taints are set only when it
// creates the Node, so that later changes by hand (berth label, taint)
// stay, as with kubelet's --node-labels. It also removes sandboxes whose
// pod is gone (after an agent restart, or a force delete seen while
// down). It runs again every heartbeat.
//
// With an OwnerID, a Node that another agent has claimed since is not
// written: the heartbeat stops and NodeLost is called.
func (a *Agent) syncNode(ctx context.Context) error {
	now := a.now()
	obj, err := a.opts.Store.Get(ctx, "Node", "", a.name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: a.name, Labels: map[string]string{}}}
		for k, v := range a.opts.Labels {
			n.Labels[k] = v
		}
		n.Spec.Taints = append([]corev1.Taint(nil), a.opts.Taints...)
		if a.opts.OwnerID != "" {
			n.Annotations = map[string]string{AnnotationAgentID: a.opts.OwnerID,
				AnnotationClaimedAt: now.UTC().Format(time.RFC3339)}
		}
		a.fillNode(n, now)
		if _, err := a.opts.Store.Create(ctx, n); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		n := obj.(*corev1.Node)
		if owner := n.Annotations[AnnotationAgentID]; a.opts.OwnerID != "" && owner != a.opts.OwnerID {
			a.opts.Log.Error("agent: another agent now owns this node: stopping its heartbeat and pods",
				"node", a.name, "owner", owner, "agentID", a.opts.OwnerID)
			if a.opts.NodeLost != nil {
				a.opts.NodeLost(owner)
			}
			return nil // no requeue: the heartbeat stops
		}
		a.fillNode(n, now)
		if _, err := a.opts.Store.Update(ctx, n); err != nil {
			return err
		}
	}
	a.collectOrphans(ctx)
	a.collectPodDirs()
	if a.opts.HeartbeatPeriod < 0 {
		return nil
	}
	return a.requeueAt(now.Add(a.opts.HeartbeatPeriod))
}

// fillNode sets what the agent owns on its Node, keeping the rest (labels
// and taints, the agent's own --labels included once set, and
// spec.unschedulable).
func (a *Agent) fillNode(n *corev1.Node, now time.Time) {
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	n.Labels[corev1.LabelHostname] = a.name
	n.Labels[corev1.LabelOSStable] = a.opts.OS
	n.Labels[corev1.LabelArchStable] = a.opts.Arch
	if a.opts.PodCIDR != "" {
		n.Spec.PodCIDR = a.opts.PodCIDR
		n.Spec.PodCIDRs = []string{a.opts.PodCIDR}
	}
	n.Status.Capacity = a.opts.Capacity.DeepCopy()
	n.Status.Allocatable = a.opts.Allocatable.DeepCopy()
	n.Status.Addresses = append(append([]corev1.NodeAddress(nil), a.opts.Addresses...),
		corev1.NodeAddress{Type: corev1.NodeHostName, Address: a.name})
	n.Status.NodeInfo.OperatingSystem = a.opts.OS
	n.Status.NodeInfo.Architecture = a.opts.Arch
	n.Status.NodeInfo.ContainerRuntimeVersion = a.opts.RuntimeName + "://"
	n.Status.Phase = ""

	beat := metav1.NewTime(now.Truncate(time.Second))
	want := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse,
			Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse,
			Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse,
			Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletReady", Message: "kubelet is posting ready status"},
	}
	for _, c := range want {
		c.LastHeartbeatTime, c.LastTransitionTime = beat, beat
		setNodeCondition(&n.Status, c)
	}
}

// setNodeCondition replaces or appends a condition, keeping
// lastTransitionTime while the status does not change.
func setNodeCondition(st *corev1.NodeStatus, c corev1.NodeCondition) {
	for i := range st.Conditions {
		if old := &st.Conditions[i]; old.Type == c.Type {
			if old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
			*old = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}

// collectOrphans removes the sandboxes of pods the cache no longer has on
// this node (each such pod key is synced, which cleans up).
func (a *Agent) collectOrphans(ctx context.Context) {
	sbs, err := a.opts.Runtime.ListPodSandboxes(ctx, nodes.SandboxFilter{
		Labels: map[string]string{nodes.LabelManagedBy: nodes.ManagedByAgent},
	})
	if err != nil {
		a.opts.Log.Error("agent: list sandboxes", "node", a.name, "err", err)
		return
	}
	for _, sb := range sbs {
		obj, ok := a.pods.Get(sb.Namespace, sb.Name)
		if ok {
			if p := obj.(*corev1.Pod); p.Spec.NodeName == a.name && string(p.UID) == sb.UID {
				continue
			}
		}
		if err := a.syncPod(ctx, sb.Namespace, sb.Name); err != nil && !isRequeue(err) {
			a.opts.Log.Error("agent: clean up", "node", a.name, "pod", sb.Namespace+"/"+sb.Name, "err", err)
		}
	}
}
