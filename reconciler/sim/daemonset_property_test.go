package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/rollouts"
)

// TestDaemonSetRollingUpdateProperty rolls DaemonSets over random node
// counts, maxUnavailable or maxSurge (as numbers or percentages),
// minReadySeconds and readiness delays, and checks after every write:
// without surge, never more than maxUnavailable nodes without an available
// pod; with surge, never a node without one, never more than maxSurge
// nodes running two pods, never two pods of one version on a node; and
// in the end every node on the new template.
func TestDaemonSetRollingUpdateProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 2026))
	for i := range 40 {
		nodes := 1 + rng.IntN(8)
		surge := rng.IntN(2) == 0
		budget := randomFencepost(rng, nodes)
		minReady := int32(rng.IntN(3) * 5)
		readyAfter := time.Duration(rng.IntN(4)) * time.Second
		name := fmt.Sprintf("%d/nodes=%d/surge=%v/budget=%s/minReady=%d/readyAfter=%s", i, nodes, surge, budget.String(), minReady, readyAfter)
		t.Run(name, func(t *testing.T) {
			cl := newCluster(t, Options{Nodes: nodes, Behavior: byImage(map[string]fake.Behavior{"agent:v2": {ReadyAfter: readyAfter}})})
			unav, sur := budget, intstr.FromInt32(0)
			if surge {
				unav, sur = intstr.FromInt32(0), budget
			}
			ds := applyDS(t, cl, agentDaemonSet("agent:v1", dsRolling(unav, sur), func(ds *appsv1.DaemonSet) { ds.Spec.MinReadySeconds = minReady }))
			runDS(t, cl)
			maxSurge, maxUnavailable, err := rollouts.DaemonSetFenceposts(ds, nodes)
			if err != nil {
				t.Fatal(err)
			}
			w := watchDS(t, cl, allNodes(nodes), minReady)
			setDSImage(t, cl, "agent:v2")
			runDS(t, cl, w.check)
			if w.rec.Err != nil {
				t.Fatal(w.rec.Err)
			}
			if surge {
				if w.worstDown != 0 {
					t.Errorf("%d nodes without an available pod during a surge update", w.worstDown)
				}
				if w.worstTwo > maxSurge {
					t.Errorf("%d nodes with two pods, maxSurge %d", w.worstTwo, maxSurge)
				}
			} else if w.worstDown > maxUnavailable {
				t.Errorf("%d nodes without an available pod, maxUnavailable %d", w.worstDown, maxUnavailable)
			}
			if w.dupImage != "" {
				t.Error(w.dupImage)
			}
			wantAllOn(t, cl, "agent:v2", nodes)
		})
	}
}

// randomFencepost is a non-zero maxUnavailable or maxSurge for n nodes: a
// number from 1 to n+1 or a percentage from 1% to 100%.
func randomFencepost(rng *rand.Rand, n int) intstr.IntOrString {
	if rng.IntN(2) == 0 {
		return intstr.FromInt32(int32(1 + rng.IntN(n+1)))
	}
	return intstr.FromString(fmt.Sprintf("%d%%", 1+rng.IntN(100)))
}
