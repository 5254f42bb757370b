package agent_test

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
)

func withHooks(post, pre []string) podOpt {
	return func(p *corev1.Pod) {
		lc := &corev1.Lifecycle{}
		if post != nil {
			lc.PostStart = &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: post}}
		}
		if pre != nil {
			lc.PreStop = &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: pre}}
		}
		p.Spec.Containers[0].Lifecycle = lc
	}
}

// TestHooksOrder: postStart right after the start, preStop before the
// stop signal, which gets the grace period.
func TestHooksOrder(t *testing.T) {
	e := newAgentEnv(t, agentEnv{})
	e.create(boundPod("web", gracePeriod(20), withHooks([]string{"post"}, []string{"pre"})))
	e.advanceTo(epoch)
	if cs := e.app("web"); containerState(cs) != "running" {
		t.Fatalf("state %s", containerState(cs))
	}
	e.deletePod("web", nil)
	e.advanceTo(epoch.Add(time.Second))
	want := []string{"start app", "exec app post", "exec app pre", "stop app 20s"}
	if got := e.rec.Log(); !slices.Equal(got, want) {
		t.Errorf("log %q, want %q", got, want)
	}
	if e.pod("web") != nil {
		t.Error("pod not deleted")
	}
}

// TestPostStartFailureKills: the container is killed (event) and
// restarted per restartPolicy.
func TestPostStartFailureKills(t *testing.T) {
	e := newAgentEnv(t, agentEnv{exec: func(_ time.Time, c nodes.ContainerStatus, cmd []string) int32 {
		if cmd[0] == "post" && c.Attempt == 0 {
			return 1
		}
		return 0
	}})
	e.create(boundPod("web", withHooks([]string{"post"}, nil)))
	e.advanceTo(epoch)
	cs := e.app("web")
	if !e.hasEvent("Warning FailedPostStartHook Exec lifecycle hook ([post]) for Container \"app\"") {
		t.Errorf("events %q", e.events.Events())
	}
	if containerState(cs) != "running" || cs.RestartCount != 1 {
		t.Errorf("after a failed postStart: %s restarts=%d, want running restarts=1", containerState(cs), cs.RestartCount)
	}
}
