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

// Probes work as kubelet's prober workers (pkg/kubelet/prober/worker.go),
// but inside the pod's sync rather than on goroutines: each probe of each
// container instance has a worker that is due initialDelaySeconds after
// the container started and then every periodSeconds; the pod's sync runs
// the workers that are due and asks to be woken for the next one. So a
// fake clock drives them deterministically.

// probeKind is one of the three probes; the order is the order in which
// a sync runs them (startup gates the others).
type probeKind int

const (
	probeStartup probeKind = iota
	probeLiveness
	probeReadiness
	numProbeKinds
)

func (k probeKind) String() string {
	return [...]string{"Startup", "Liveness", "Readiness"}[k]
}

func (k probeKind) spec(c *corev1.Container) *corev1.Probe {
	switch k {
	case probeStartup:
		return c.StartupProbe
	case probeLiveness:
		return c.LivenessProbe
	}
	return c.ReadinessProbe
}

type probeResult int8

const (
	resultUnknown probeResult = iota
	resultSuccess
	resultFailure
)

// probeWorker is one probe of one container instance.
type probeWorker struct {
	next   time.Time // when it is due; zero until first looked at
	lastOK bool      // the last raw result
	run    int       // how many raw results in a row equal lastOK
	result probeResult
	// onHold: a liveness or startup probe that failed stops probing until
	// the container is replaced (kubelet's worker does the same).
	onHold bool
}

// containerProbes is the probe state of one container instance (by ID).
type containerProbes struct {
	w [numProbeKinds]probeWorker
}

func newContainerProbes() *containerProbes {
	cp := &containerProbes{}
	// Kubelet's initial values: not ready, alive, not yet started.
	cp.w[probeReadiness].result = resultFailure
	cp.w[probeLiveness].result = resultSuccess
	cp.w[probeStartup].result = resultUnknown
	return cp
}

// probeStatus is what the probes say of a running container.
type probeStatus struct {
	started, ready bool
}

// probeDefaults returns a probe's timings with Kubernetes' defaults for
// the zero values (a pod not defaulted by workloads.Default).
func probeDefaults(p *corev1.Probe) (delay, period, timeout time.Duration, success, failure int) {
	period = time.Duration(p.PeriodSeconds) * time.Second
	if p.PeriodSeconds <= 0 {
		period = 10 * time.Second
	}
	timeout = time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	success, failure = int(p.SuccessThreshold), int(p.FailureThreshold)
	if success <= 0 {
		success = 1
	}
	if failure <= 0 {
		failure = 3
	}
	return time.Duration(max(p.InitialDelaySeconds, 0)) * time.Second, period, timeout, success, failure
}

// probeState returns the probe state of container ID, made on first use.
func (a *Agent) probeState(id string) *containerProbes {
	a.mu.Lock()
	defer a.mu.Unlock()
	cp := a.probes[id]
	if cp == nil {
		cp = newContainerProbes()
		a.probes[id] = cp
	}
	return cp
}

// forgetContainer drops what the agent keeps about a removed container.
func (a *Agent) forgetContainer(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.probes, id)
	delete(a.stopping, id)
}

// readinessProbed reports whether the agent runs readiness probes itself
// (not when Options.Prober decides readiness).
func (a *Agent) readinessProbed() bool { return a.opts.Prober == nil }

// runProbes runs the due probes of every running container of the pod,
// records what they say in r.probed, and kills the containers whose
// liveness or startup probe failed (they restart per restartPolicy, with
// CrashLoopBackOff).
func (a *Agent) runProbes(ctx context.Context, r *podRun) {
	r.probed = map[string]probeStatus{}
	spec := &r.pod.Spec
	for i := range spec.InitContainers {
		if c := &spec.InitContainers[i]; isSidecar(c) {
			a.probeOne(ctx, r, c)
		}
	}
	for i := range spec.Containers {
		a.probeOne(ctx, r, &spec.Containers[i])
	}
}

func (a *Agent) probeOne(ctx context.Context, r *podRun, c *corev1.Container) {
	cur, ok := r.latest[c.Name]
	if !ok || cur.State != nodes.ContainerRunning {
		return
	}
	a.mu.Lock()
	stopping := a.stopping[cur.ID]
	a.mu.Unlock()
	if stopping {
		r.probed[c.Name] = probeStatus{}
		return
	}
	cp := a.probeState(cur.ID)
	now := a.now()

	started := true
	if p := c.StartupProbe; p != nil {
		w := &cp.w[probeStartup]
		if w.result != resultSuccess {
			a.step(ctx, r, c, cur, probeStartup, w, now)
		}
		started = w.result == resultSuccess
		if w.result == resultFailure {
			a.killForProbe(ctx, r, c, cur, probeStartup, p)
			return
		}
	}
	if started {
		if p := c.LivenessProbe; p != nil {
			w := &cp.w[probeLiveness]
			a.step(ctx, r, c, cur, probeLiveness, w, now)
			if w.result == resultFailure {
				a.killForProbe(ctx, r, c, cur, probeLiveness, p)
				return
			}
		}
		if c.ReadinessProbe != nil && a.readinessProbed() {
			a.step(ctx, r, c, cur, probeReadiness, &cp.w[probeReadiness], now)
		}
	}
	ready := started && (c.ReadinessProbe == nil || cp.w[probeReadiness].result == resultSuccess)
	r.probed[c.Name] = probeStatus{started: started, ready: ready}
}

// step runs one worker if it is due, applies the thresholds, and asks for
// a wake-up when it is next due.
func (a *Agent) step(ctx context.Context, r *podRun, c *corev1.Container, cur nodes.ContainerStatus, kind probeKind, w *probeWorker, now time.Time) {
	p := kind.spec(c)
	delay, period, timeout, success, failure := probeDefaults(p)
	if w.onHold {
		return
	}
	if w.next.IsZero() {
		w.next = cur.StartedAt.Add(delay)
	}
	if now.Before(w.next) {
		r.wake = earliest(r.wake, w.next)
		return
	}
	ok, output := a.probe(ctx, r, c, cur, p, timeout)
	w.next = now.Add(period)
	r.wake = earliest(r.wake, w.next)
	if !ok {
		a.event(r.pod, corev1.EventTypeWarning, "Unhealthy", "%s probe failed: %s", kind, output)
	}
	if w.run > 0 && ok == w.lastOK {
		w.run++
	} else {
		w.lastOK, w.run = ok, 1
	}
	if (!ok && w.run < failure) || (ok && w.run < success) {
		return // not enough in a row to change the result
	}
	w.result = resultFailure
	if ok {
		w.result = resultSuccess
	}
	if kind != probeReadiness && !ok {
		w.onHold, w.run = true, 0
	}
}

// killForProbe stops a container whose liveness or startup probe failed
// and records what it now is, so that this sync restarts it.
func (a *Agent) killForProbe(ctx context.Context, r *podRun, c *corev1.Container, cur nodes.ContainerStatus, kind probeKind, p *corev1.Probe) {
	r.probed[c.Name] = probeStatus{}
	a.event(r.pod, corev1.EventTypeNormal, "Killing", "Container %s failed %s probe, will be restarted",
		c.Name, strings.ToLower(kind.String()))
	grace := gracePeriodSpec(r.pod)
	if p.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(max(*p.TerminationGracePeriodSeconds, 0)) * time.Second
	}
	if err := a.killContainer(ctx, r.pod, r.sandbox.IP, c, cur.ID, grace); err != nil {
		a.opts.Log.Error("agent: kill container", "node", a.name, "container", cur.ID, "err", err)
		return
	}
	if st, err := a.opts.Runtime.ContainerStatus(ctx, cur.ID); err == nil {
		r.latest[c.Name] = st
		if st.State != nodes.ContainerExited {
			r.wake = earliest(r.wake, a.stopWake(r.sandbox.ID))
		}
	}
}

// probe runs one check and says whether it passed, and if not why.
func (a *Agent) probe(ctx context.Context, r *podRun, c *corev1.Container, cur nodes.ContainerStatus, p *corev1.Probe, timeout time.Duration) (bool, string) {
	switch {
	case p.Exec != nil:
		res, err := a.opts.Runtime.Exec(ctx, cur.ID, p.Exec.Command, timeout)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return false, fmt.Sprintf("command %q timed out", strings.Join(p.Exec.Command, " "))
			}
			return false, err.Error()
		}
		if res.ExitCode != 0 {
			out := strings.TrimSpace(string(res.Stdout) + string(res.Stderr))
			if out == "" {
				out = fmt.Sprintf("command %q exited with %d", strings.Join(p.Exec.Command, " "), res.ExitCode)
			}
			return false, out
		}
		return true, ""
	case p.HTTPGet != nil:
		u, hdr, err := httpURL(r.pod, r.sandbox.IP, c, p.HTTPGet)
		if err != nil {
			return false, err.Error()
		}
		code, err := a.opts.NetProber.HTTPGet(ctx, HTTPProbe{ContainerID: cur.ID, URL: u, Header: hdr, Timeout: timeout})
		if err != nil {
			return false, fmt.Sprintf("Get %q: %v", u, err)
		}
		if code < 200 || code >= 400 {
			return false, fmt.Sprintf("HTTP probe failed with statuscode: %d", code)
		}
		return true, ""
	case p.TCPSocket != nil:
		addr, err := tcpAddress(r.pod, r.sandbox.IP, c, p.TCPSocket)
		if err != nil {
			return false, err.Error()
		}
		if err := a.opts.NetProber.TCPConnect(ctx, TCPProbe{ContainerID: cur.ID, Address: addr, Timeout: timeout}); err != nil {
			return false, err.Error()
		}
		return true, ""
	}
	// gRPC probes are not run yet: they pass (reported in the agent's log).
	a.opts.Log.Warn("agent: gRPC probes are not supported yet; taken as passing", "pod", r.pod.Namespace+"/"+r.pod.Name, "container", c.Name)
	return true, ""
}

// unprobedStatus is what a running container that this sync did not
// probe (it just started) reports: started unless it has a startup
// probe, ready if also without a readiness probe; the pod is synced again
// when its first probe is due.
func (a *Agent) unprobedStatus(r *podRun, c *corev1.Container, cur nodes.ContainerStatus) probeStatus {
	st := probeStatus{started: c.StartupProbe == nil}
	st.ready = st.started && c.ReadinessProbe == nil
	for k := range numProbeKinds {
		p := k.spec(c)
		if p == nil || (k == probeReadiness && !a.readinessProbed()) || (k != probeStartup && !st.started) {
			continue
		}
		delay, _, _, _, _ := probeDefaults(p)
		r.wake = earliest(r.wake, cur.StartedAt.Add(delay))
	}
	return st
}
