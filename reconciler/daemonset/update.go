package daemonset

import (
	"context"
	"fmt"

	"github.com/berth-io/berth/rollouts"
)

// rollingUpdate takes one step of a RollingUpdate (upstream's
// rollingUpdate, the arithmetic in rollouts.DaemonSetRollingUpdate): it
// deletes old pods within maxUnavailable, or with maxSurge starts new
// ones next to them, and lets manage create the replacements.
func (c *Controller) rollingUpdate(ctx context.Context, s *syncState) error {
	byNode := podsByNode(s.pods, false)
	var nodes []rollouts.DaemonSetNode
	for _, n := range s.nodes {
		pl := s.placement[n.Name]
		if !pl.shouldRun && len(byNode[n.Name]) == 0 {
			continue
		}
		nodes = append(nodes, rollouts.DaemonSetNode{Name: n.Name, ShouldRun: pl.shouldRun, Pods: byNode[n.Name]})
	}
	plan, err := rollouts.DaemonSetRollingUpdate(s.ds, nodes, s.hash, s.generation, s.now)
	if err != nil {
		return fmt.Errorf("invalid rolling update of DaemonSet %s/%s: %w", s.ds.Namespace, s.ds.Name, err)
	}
	// A pod becoming available lets the update move on, with no event then.
	s.requeueAfter(nextAvailability(s.pods, s.ds.Spec.MinReadySeconds, s.now))
	return c.syncNodes(ctx, s, plan.Delete, plan.CreateOn)
}
