package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
)

// DefaultPostStartTimeout bounds a postStart hook. Kubelet waits for the
// hook without limit on its own goroutine; the agent runs it inside the
// pod's sync, so it bounds it.
const DefaultPostStartTimeout = 2 * time.Minute

// minStopGrace is what is left for the stop signal after a preStop hook
// used the grace period up (kubelet's minimumGracePeriodInSeconds).
const minStopGrace = 2 * time.Second

// runHook runs a lifecycle hook (exec or httpGet) of container c, instance
// id. An httpGet hook succeeds when any response comes back (kubelet does
// not look at its status code). sleep and tcpSocket hooks are not run.
func (a *Agent) runHook(ctx context.Context, pod *corev1.Pod, sandboxIP string, c *corev1.Container, id string, h *corev1.LifecycleHandler, timeout time.Duration) error {
	switch {
	case h.Exec != nil:
		res, err := a.opts.Runtime.Exec(ctx, id, h.Exec.Command, timeout)
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("command '%s' exited with %d: %s", strings.Join(h.Exec.Command, " "), res.ExitCode,
				strings.TrimSpace(string(res.Stdout)+string(res.Stderr)))
		}
		if err != nil {
			return fmt.Errorf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %w",
				h.Exec.Command, c.Name, pod.Name+"_"+pod.Namespace+"("+string(pod.UID)+")", err)
		}
	case h.HTTPGet != nil:
		u, hdr, err := httpURL(pod, sandboxIP, c, h.HTTPGet)
		if err == nil {
			_, err = a.opts.NetProber.HTTPGet(ctx, HTTPProbe{ContainerID: id, URL: u, Header: hdr, Timeout: timeout})
		}
		if err != nil {
			return fmt.Errorf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %w",
				h.HTTPGet.Path, c.Name, pod.Name+"_"+pod.Namespace+"("+string(pod.UID)+")", err)
		}
	}
	return nil
}

// postStart runs c's postStart hook on the instance that just started;
// on failure it kills the instance (event FailedPostStartHook) and
// returns the error.
func (a *Agent) postStart(ctx context.Context, r *podRun, c *corev1.Container, id string) error {
	if c.Lifecycle == nil || c.Lifecycle.PostStart == nil {
		return nil
	}
	err := a.runHook(ctx, r.pod, r.sandbox.IP, c, id, c.Lifecycle.PostStart, DefaultPostStartTimeout)
	if err == nil {
		return nil
	}
	a.event(r.pod, corev1.EventTypeWarning, "FailedPostStartHook", "%v", err)
	if kerr := a.killContainer(ctx, r.pod, r.sandbox.IP, c, id, gracePeriodSpec(r.pod)); kerr != nil {
		a.opts.Log.Error("agent: kill container", "node", a.name, "container", id, "err", kerr)
	}
	return err
}

// killContainer stops one container instance once: its preStop hook
// first (within the grace period), then the stop signal with what is left
// of the grace (at least 2s), then the kill. c may be nil (a container no
// longer in the spec: no hook). Asking again does nothing.
func (a *Agent) killContainer(ctx context.Context, pod *corev1.Pod, sandboxIP string, c *corev1.Container, id string, grace time.Duration) error {
	a.mu.Lock()
	asked := a.stopping[id]
	a.stopping[id] = true
	a.mu.Unlock()
	if asked {
		return nil
	}
	if c != nil && c.Lifecycle != nil && c.Lifecycle.PreStop != nil && grace > 0 {
		start := a.now()
		if err := a.runHook(ctx, pod, sandboxIP, c, id, c.Lifecycle.PreStop, grace); err != nil {
			a.event(pod, corev1.EventTypeWarning, "FailedPreStopHook", "%v", err)
		}
		grace = max(grace-a.now().Sub(start), minStopGrace)
	}
	err := a.opts.Runtime.StopContainer(ctx, id, grace)
	if errors.Is(err, nodes.ErrNotFound) {
		return nil
	}
	return err
}

// specContainer finds a container of the pod's spec by name (nil if none).
func specContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	return nil
}

// gracePeriodSpec is the pod's terminationGracePeriodSeconds (30s when
// unset): the grace of a container killed while the pod lives on.
func gracePeriodSpec(pod *corev1.Pod) time.Duration {
	if s := pod.Spec.TerminationGracePeriodSeconds; s != nil {
		return time.Duration(max(*s, 0)) * time.Second
	}
	return DefaultGracePeriod
}
