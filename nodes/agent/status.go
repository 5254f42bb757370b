package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/nodes"
)

// stamp is a status time: whole seconds, as the API serialises them, so
// that a status read back compares equal and is not written again.
func stamp(t time.Time) metav1.Time { return metav1.NewTime(t.Truncate(time.Second)) }

// podStatus computes the pod's status from the runtime, as kubelet's
// generateAPIPodStatus: IPs, start time, container statuses, phase and the
// kubelet-owned conditions. Other fields and conditions are kept.
func (a *Agent) podStatus(ctx context.Context, r *podRun) *corev1.PodStatus {
	pod := r.pod
	now := a.now()
	st := pod.Status.DeepCopy()

	if a.hostIP != "" {
		st.HostIP = a.hostIP
		st.HostIPs = []corev1.HostIP{{IP: a.hostIP}}
	}
	ip, ips := r.sandbox.IP, r.sandbox.IPs
	if pod.Spec.HostNetwork {
		ip, ips = a.hostIP, []string{a.hostIP}
	}
	st.PodIP, st.PodIPs = ip, nil
	for _, x := range ips {
		if x != "" {
			st.PodIPs = append(st.PodIPs, corev1.PodIP{IP: x})
		}
	}
	if st.StartTime == nil {
		t := stamp(now)
		st.StartTime = &t
	}

	wasInitialized := false
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodInitialized && c.Status == corev1.ConditionTrue {
			wasInitialized = true
		}
	}
	initialized := r.initialized || wasInitialized

	var incomplete, unready []string
	st.InitContainerStatuses = nil
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := a.containerStatus(ctx, r, c, true, false)
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
		switch {
		case isSidecar(c):
			if cs.Started == nil || !*cs.Started {
				incomplete = append(incomplete, c.Name)
			}
			if !cs.Ready {
				unready = append(unready, c.Name)
			}
		case cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0:
			incomplete = append(incomplete, c.Name)
		}
	}
	st.ContainerStatuses = nil
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cs := a.containerStatus(ctx, r, c, false, !initialized)
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		if !cs.Ready {
			unready = append(unready, c.Name)
		}
	}
	st.Phase = podPhase(pod, st.InitContainerStatuses, st.ContainerStatuses, initialized)
	a.podConditions(r, st, initialized, incomplete, unready, now)
	return st
}

// containerStatus reports one container: its newest instance's state,
// the one before as lastState, the restart count, started and ready.
func (a *Agent) containerStatus(ctx context.Context, r *podRun, c *corev1.Container, init, waitingForInit bool) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image}
	started, ready := false, false
	cur, has := r.latest[c.Name]
	w, isWaiting := r.waiting[c.Name]
	if !has {
		if !isWaiting {
			w = corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
			if init || waitingForInit {
				w.Reason = "PodInitializing"
			}
		}
		cs.State.Waiting = &w
		cs.Started, cs.Ready = &started, false
		return cs
	}
	cs.ContainerID = a.opts.RuntimeName + "://" + cur.ID
	cs.ImageID = cur.ImageRef
	cs.RestartCount = int32(cur.Attempt)
	if prev, ok := r.previous[c.Name]; ok && prev.State == nodes.ContainerExited {
		cs.LastTerminationState.Terminated = a.terminated(prev)
	}
	switch cur.State {
	case nodes.ContainerRunning:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: stamp(cur.StartedAt)}
		ps, probed := r.probed[c.Name]
		if !probed {
			ps = a.unprobedStatus(r, c, cur)
		}
		started, ready = ps.started, ps.ready
		if a.opts.Prober != nil {
			var recheck time.Time
			ready, recheck = a.opts.Prober.Ready(ctx, r.pod, c, cur)
			r.wake = earliest(r.wake, recheck)
			ready = ready && started
		}
	case nodes.ContainerExited:
		if isWaiting {
			cs.State.Waiting = &w
			cs.LastTerminationState.Terminated = a.terminated(cur)
		} else {
			cs.State.Terminated = a.terminated(cur)
			// A regular init container that succeeded counts as ready.
			ready = init && !isSidecar(c) && cur.ExitCode == 0
		}
	default:
		if !isWaiting {
			w = corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		}
		cs.State.Waiting = &w
	}
	cs.Started, cs.Ready = &started, ready
	return cs
}

func (a *Agent) terminated(c nodes.ContainerStatus) *corev1.ContainerStateTerminated {
	return &corev1.ContainerStateTerminated{
		ExitCode:    c.ExitCode,
		Reason:      c.Reason,
		Message:     c.Message,
		StartedAt:   stamp(c.StartedAt),
		FinishedAt:  stamp(c.FinishedAt),
		ContainerID: a.opts.RuntimeName + "://" + c.ID,
	}
}

// podConditions sets the conditions kubelet owns, in kubelet's order:
// PodReadyToStartContainers, Initialized, Ready, ContainersReady,
// PodScheduled.
func (a *Agent) podConditions(r *podRun, st *corev1.PodStatus, initialized bool, incomplete, unready []string, now time.Time) {
	cond := func(t corev1.PodConditionType, ok bool, reason, msg string) corev1.PodCondition {
		if ok {
			return corev1.PodCondition{Type: t, Status: corev1.ConditionTrue}
		}
		return corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: msg}
	}
	setPodCondition(st, cond(corev1.PodReadyToStartContainers, r.sandbox.State == nodes.SandboxReady, "", ""), now)

	setPodCondition(st, cond(corev1.PodInitialized, initialized, "ContainersNotInitialized",
		fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(incomplete, " "))), now)

	terminal := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed
	containersReady := cond(corev1.ContainersReady, len(unready) == 0, "ContainersNotReady",
		fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " ")))
	ready := containersReady
	ready.Type = corev1.PodReady
	if terminal {
		containersReady = cond(corev1.ContainersReady, false, "PodCompleted", "")
		ready = cond(corev1.PodReady, false, "PodCompleted", "")
	} else if ready.Status == corev1.ConditionTrue {
		if msg := unmetReadinessGates(r.pod, st); msg != "" {
			ready = cond(corev1.PodReady, false, "ReadinessGatesNotReady", msg)
		}
	}
	setPodCondition(st, ready, now)
	setPodCondition(st, containersReady, now)

	for _, c := range st.Conditions {
		if c.Type == corev1.PodScheduled {
			return
		}
	}
	setPodCondition(st, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, now)
}

// unmetReadinessGates returns why the pod's readiness gates are not all
// True ("" if they are), in kubelet's words.
func unmetReadinessGates(pod *corev1.Pod, st *corev1.PodStatus) string {
	var msgs []string
	for _, g := range pod.Spec.ReadinessGates {
		found := false
		for _, c := range st.Conditions {
			if c.Type != g.ConditionType {
				continue
			}
			found = true
			if c.Status != corev1.ConditionTrue {
				msgs = append(msgs, fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but %v", g.ConditionType, c.Status))
			}
		}
		if !found {
			msgs = append(msgs, fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", g.ConditionType))
		}
	}
	return strings.Join(msgs, ", ")
}

// setPodCondition replaces or appends a condition; lastTransitionTime
// moves only when the status changes.
func setPodCondition(st *corev1.PodStatus, c corev1.PodCondition, now time.Time) {
	c.LastTransitionTime = stamp(now)
	for i := range st.Conditions {
		old := &st.Conditions[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
			c.LastProbeTime = old.LastProbeTime
		}
		*old = c
		return
	}
	st.Conditions = append(st.Conditions, c)
}
