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

// syncNode registers the Node or refreshes it: labels the agent owns,
// capacity, addresses, and the conditions with lastHeartbeatTime now. It
// also removes sandboxes whose pod is gone (after an agent restart, or a
// force delete seen while down). It runs again every heartbeat.
func (a *Agent) syncNode(ctx context.Context) error {
	now := a.now()
	obj, err := a.opts.Store.Get(ctx, "Node", "", a.name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: a.name}}
		n.Spec.Taints = append([]corev1.Taint(nil), a.opts.Taints...)
		a.fillNode(n, now)
		if _, err := a.opts.Store.Create(ctx, n); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		n := obj.(*corev1.Node)
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
// and taints others added, spec.unschedulable).
func (a *Agent) fillNode(n *corev1.Node, now time.Time) {
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	for k, v := range a.opts.Labels {
		n.Labels[k] = v
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
