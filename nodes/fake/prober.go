package fake

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/nodes/agent"
)

// Prober is the fake node's agent.Prober: a container is ready once its
// pod's Behavior.ReadyAfter has passed since it started, whatever probes
// the pod declares; the agent is woken when that time comes. It is also
// the fake node's agent.NetProber, so that probes and hooks never touch
// the network.
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

// HTTPGet implements agent.NetProber without a network: the check is
// the command "GET <url>" run by the runtime's Exec (by default: 200 once
// the container is ready, 503 before); a failed command answers 500 and
// an Exec error is no answer.
func (p Prober) HTTPGet(ctx context.Context, req agent.HTTPProbe) (int, error) {
	res, err := p.Runtime.Exec(ctx, req.ContainerID, []string{"GET", req.URL.String()}, req.Timeout)
	switch {
	case err != nil:
		return 0, err
	case res.ExitCode != 0:
		return 503, nil
	}
	return 200, nil
}

// TCPConnect implements agent.NetProber: the command "TCP <address>"
// must exit 0.
func (p Prober) TCPConnect(ctx context.Context, req agent.TCPProbe) error {
	res, err := p.Runtime.Exec(ctx, req.ContainerID, []string{"TCP", req.Address}, req.Timeout)
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("dial tcp %s: connection refused", req.Address)
	}
	return err
}

var (
	_ agent.Prober    = Prober{}
	_ agent.NetProber = Prober{}
)
