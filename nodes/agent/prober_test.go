package agent_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/nodes/fake"
)

func TestRuntimeProber(t *testing.T) {
	exec := &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
		InitialDelaySeconds: 3, PeriodSeconds: 10,
	}
	httpProbe := &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/"}},
		InitialDelaySeconds: 2,
	}
	type at struct {
		d       time.Duration
		ready   bool
		recheck time.Duration // -1: none
	}
	tests := []struct {
		name   string
		probe  *corev1.Probe
		checks []at
	}{
		{"no probe: ready when running", nil, []at{{0, true, -1}}},
		// The fake's exec exits 0 from ReadyAfter (5s) on.
		{"exec probe after its initial delay, every period", exec, []at{
			{0, false, 3 * time.Second},
			{3 * time.Second, false, 13 * time.Second},
			{13 * time.Second, true, 23 * time.Second},
		}},
		{"http probe passes after its initial delay (for now)", httpProbe, []at{
			{0, false, 2 * time.Second},
			{2 * time.Second, true, -1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := clocktesting.NewFakeClock(epoch)
			rt, err := fake.New(fake.Options{Clock: clk, Behavior: always(fake.Behavior{ReadyAfter: 5 * time.Second})})
			if err != nil {
				t.Fatal(err)
			}
			pod := boundPod("web")
			sb, _ := rt.RunPodSandbox(ctx, &nodes.PodSandboxConfig{Pod: pod})
			id, _ := rt.CreateContainer(ctx, sb.ID, &nodes.ContainerConfig{Name: "app"})
			if err := rt.StartContainer(ctx, id); err != nil {
				t.Fatal(err)
			}
			c := &corev1.Container{Name: "app", ReadinessProbe: tt.probe}
			p := agent.RuntimeProber{Runtime: rt, Now: clk.Now}
			for _, ck := range tt.checks {
				clk.SetTime(epoch.Add(ck.d))
				st, _ := rt.ContainerStatus(ctx, id)
				ready, recheck := p.Ready(ctx, pod, c, st)
				want := time.Time{}
				if ck.recheck >= 0 {
					want = epoch.Add(ck.recheck)
				}
				if ready != ck.ready || !recheck.Equal(want) {
					t.Errorf("at +%v: ready %v, recheck %v; want %v, %v", ck.d, ready, recheck, ck.ready, want)
				}
			}
		})
	}
}
