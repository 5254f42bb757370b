package agent

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
)

// Prober decides whether a running container is ready. The agent asks on
// every sync of the pod; recheck, when non-zero, is when the answer may
// change (the next probe), and the agent syncs the pod again then.
type Prober interface {
	Ready(ctx context.Context, pod *corev1.Pod, c *corev1.Container, st nodes.ContainerStatus) (ready bool, recheck time.Time)
}

// RuntimeProber is a stateless Prober kept for compatibility: a
// container without a readinessProbe is ready as soon as it runs; one
// with an exec readinessProbe is ready once initialDelaySeconds have
// passed and the command exits 0; other probes pass after the delay.
//
// Deprecated: leave Options.Prober nil; the agent then runs every probe
// itself, with kubelet's thresholds (probe.go).
type RuntimeProber struct {
	Runtime nodes.Runtime
	Now     func() time.Time
}

// Ready implements Prober.
func (p RuntimeProber) Ready(ctx context.Context, _ *corev1.Pod, c *corev1.Container, st nodes.ContainerStatus) (bool, time.Time) {
	if st.State != nodes.ContainerRunning {
		return false, time.Time{}
	}
	probe := c.ReadinessProbe
	if probe == nil {
		return true, time.Time{}
	}
	now := p.Now()
	if start := st.StartedAt.Add(time.Duration(probe.InitialDelaySeconds) * time.Second); now.Before(start) {
		return false, start
	}
	if probe.Exec == nil {
		return true, time.Time{}
	}
	period := time.Duration(max(probe.PeriodSeconds, 1)) * time.Second
	timeout := time.Duration(max(probe.TimeoutSeconds, 1)) * time.Second
	res, err := p.Runtime.Exec(ctx, st.ID, probe.Exec.Command, timeout)
	return err == nil && res.ExitCode == 0, now.Add(period)
}
