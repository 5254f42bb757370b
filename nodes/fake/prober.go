package fake

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/nodes/agent"
)

// Prober is the fake node's agent.Prober: a container is ready once its
// pod's Behavior.ReadyAfter has passed since it started, whatever probes
// the pod declares; the agent is woken when that time comes.
type Prober struct {
	Runtime *Runtime
}

// Ready implements agent.Prober.
func (p Prober) Ready(_ context.Context, _ *corev1.Pod, _ *corev1.Container, st nodes.ContainerStatus) (bool, time.Time) {
	ready, at, err := p.Runtime.Ready(st.ID)
	if err != nil {
		return false, time.Time{}
	}
	return ready, at
}

var _ agent.Prober = Prober{}
