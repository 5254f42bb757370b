package agent_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
)

func execProbe(cmd string, period, failure, success int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{cmd}}},
		PeriodSeconds: period, FailureThreshold: failure, SuccessThreshold: success,
	}
}

func withProbes(startup, liveness, readiness *corev1.Probe) podOpt {
	return func(p *corev1.Pod) {
		c := &p.Spec.Containers[0]
		c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = startup, liveness, readiness
	}
}

// TestLivenessRestartsWithBackoff: three failures in a row kill the
// container; it restarts at once the first time, then with back-off.
func TestLivenessRestartsWithBackoff(t *testing.T) {
	e := newAgentEnv(t, agentEnv{exec: func(time.Time, nodes.ContainerStatus, []string) int32 { return 1 }})
	e.create(boundPod("web", withProbes(nil, execProbe("live", 10, 3, 1), nil)))
	for _, c := range []struct {
		at       time.Duration
		state    string
		restarts int32
	}{
		{0, "running", 0},
		{19 * time.Second, "running", 0},
		{20 * time.Second, "running", 1}, // probes at 0, 10, 20 failed
		{39 * time.Second, "running", 1},
		{40 * time.Second, "waiting:CrashLoopBackOff", 1},
		{49 * time.Second, "waiting:CrashLoopBackOff", 1},
		{50 * time.Second, "running", 2},
	} {
		e.advanceTo(epoch.Add(c.at))
		cs := e.app("web")
		if got := containerState(cs); got != c.state || cs.RestartCount != c.restarts {
			t.Fatalf("at %v: %s restarts=%d, want %s restarts=%d", c.at, got, cs.RestartCount, c.state, c.restarts)
		}
	}
	cs := e.app("web")
	if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 143 {
		t.Errorf("lastState = %+v, want exit 143 (stopped)", last)
	}
	if !e.hasEvent("Normal Killing Container app failed liveness probe, will be restarted") {
		t.Errorf("no liveness Killing event in %q", e.events.Events())
	}
	if !e.hasEvent("Warning Unhealthy Liveness probe failed:") {
		t.Errorf("no Unhealthy event in %q", e.events.Events())
	}
}

// TestReadinessThresholds: Ready follows successThreshold successes and
// failureThreshold failures in a row, probed every period.
func TestReadinessThresholds(t *testing.T) {
	// Healthy in [10s, 40s).
	healthy := func(now time.Time) bool {
		d := now.Sub(epoch)
		return d >= 10*time.Second && d < 40*time.Second
	}
	e := newAgentEnv(t, agentEnv{exec: func(now time.Time, _ nodes.ContainerStatus, _ []string) int32 {
		if healthy(now) {
			return 0
		}
		return 1
	}})
	e.create(boundPod("web", withProbes(nil, nil, execProbe("ready", 5, 2, 2))))
	for _, c := range []struct {
		at    time.Duration
		ready bool
	}{
		{0, false},
		{10 * time.Second, false}, // one success
		{15 * time.Second, true},  // two
		{40 * time.Second, true},  // one failure
		{45 * time.Second, false}, // two
		{time.Minute, false},
	} {
		e.advanceTo(epoch.Add(c.at))
		p := e.pod("web")
		want := corev1.ConditionFalse
		if c.ready {
			want = corev1.ConditionTrue
		}
		if cs := p.Status.ContainerStatuses[0]; cs.Ready != c.ready || condition(p, corev1.PodReady).Status != want || cs.RestartCount != 0 {
			t.Fatalf("at %v: ready=%v Ready=%s restarts=%d, want %v", c.at, cs.Ready, condition(p, corev1.PodReady).Status, cs.RestartCount, c.ready)
		}
	}
}

// TestStartupGatesOtherProbes: liveness and readiness do not run until
// the startup probe passed; started and ready follow.
func TestStartupGatesOtherProbes(t *testing.T) {
	e := newAgentEnv(t, agentEnv{exec: func(now time.Time, _ nodes.ContainerStatus, cmd []string) int32 {
		if cmd[0] == "startup" && now.Sub(epoch) < 15*time.Second {
			return 1
		}
		return 0
	}})
	e.create(boundPod("web", withProbes(execProbe("startup", 5, 10, 1), execProbe("live", 10, 1, 1), execProbe("ready", 10, 1, 1))))
	e.advanceTo(epoch.Add(14 * time.Second))
	cs := e.app("web")
	if *cs.Started || cs.Ready {
		t.Fatalf("before startup passed: started=%v ready=%v", *cs.Started, cs.Ready)
	}
	for _, l := range e.rec.Log() {
		if strings.Contains(l, "live") || strings.Contains(l, "ready") {
			t.Fatalf("%q ran before the startup probe passed: %q", l, e.rec.Log())
		}
	}
	e.advanceTo(epoch.Add(15 * time.Second))
	cs = e.app("web")
	if !*cs.Started || !cs.Ready {
		t.Fatalf("after startup passed: started=%v ready=%v; log %q", *cs.Started, cs.Ready, e.rec.Log())
	}
}

func TestStartupFailureKills(t *testing.T) {
	e := newAgentEnv(t, agentEnv{exec: func(time.Time, nodes.ContainerStatus, []string) int32 { return 1 }})
	e.create(boundPod("web", withProbes(execProbe("startup", 5, 2, 1), nil, nil)))
	e.advanceTo(epoch.Add(4 * time.Second))
	if cs := e.app("web"); cs.RestartCount != 0 {
		t.Fatalf("restarted early: %+v", cs)
	}
	e.advanceTo(epoch.Add(5 * time.Second))
	if cs := e.app("web"); cs.RestartCount != 1 {
		t.Fatalf("not restarted after 2 startup failures: %+v", cs)
	}
	if !e.hasEvent("Container app failed startup probe, will be restarted") {
		t.Errorf("events %q", e.events.Events())
	}
}

// TestLivenessWithNeverDoesNotRestart: the killed container stays
// terminated and the pod fails.
func TestLivenessWithNeverDoesNotRestart(t *testing.T) {
	e := newAgentEnv(t, agentEnv{exec: func(time.Time, nodes.ContainerStatus, []string) int32 { return 1 }})
	e.create(boundPod("web", restartPolicy(corev1.RestartPolicyNever), withProbes(nil, execProbe("live", 10, 1, 1), nil)))
	e.advanceTo(epoch.Add(time.Minute))
	p := e.pod("web")
	if cs := p.Status.ContainerStatuses[0]; containerState(cs) != "terminated:143" || p.Status.Phase != corev1.PodFailed {
		t.Fatalf("phase %s, %s", p.Status.Phase, containerState(cs))
	}
}

// TestProbeDelayAndFakeHTTP: initialDelaySeconds holds the first probe;
// httpGet and tcpSocket go through the NetProber (the fake's here) with
// the pod's IP and the named port.
func TestProbeDelayAndFakeHTTP(t *testing.T) {
	e := newAgentEnv(t, agentEnv{})
	e.create(boundPod("web", func(p *corev1.Pod) {
		c := &p.Spec.Containers[0]
		c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
		c.ReadinessProbe = &corev1.Probe{InitialDelaySeconds: 7, ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: "readyz", Port: intOrStr("http")}}}
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Port: intOrInt(8080)}}}
	}))
	e.advanceTo(epoch.Add(6 * time.Second))
	if cs := e.app("web"); cs.Ready {
		t.Fatal("ready before the initial delay")
	}
	e.advanceTo(epoch.Add(7 * time.Second))
	p := e.pod("web")
	if !p.Status.ContainerStatuses[0].Ready {
		t.Fatal("not ready after the initial delay")
	}
	log := e.rec.Log()
	wantGet := fmt.Sprintf("exec app GET http://%s:8080/readyz", p.Status.PodIP)
	wantTCP := fmt.Sprintf("exec app TCP %s:8080", p.Status.PodIP)
	if !slices.Contains(log, wantGet) || !slices.Contains(log, wantTCP) {
		t.Errorf("log %q lacks %q or %q", log, wantGet, wantTCP)
	}
}
