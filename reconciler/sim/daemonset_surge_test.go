package sim

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/store"
)

// TestDaemonSetSurgeReplacesATerminatingPod: as upstream's
// podsShouldBeOnNode, a surging DaemonSet (maxSurge > 0) starts the
// replacement of a pod being deleted at once, so the node keeps a daemon
// pod; without surge the replacement waits until the old pod is gone.
func TestDaemonSetSurgeReplacesATerminatingPod(t *testing.T) {
	for _, tt := range []struct {
		name     string
		surge    bool
		wantSoon int // pods not terminating on the node 5s after the delete
	}{
		{"maxUnavailable 1", false, 0},
		{"maxSurge 1", true, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cl := newCluster(t, Options{Behavior: func(*corev1.Pod) fake.Behavior { return fake.Behavior{StopDelay: 20 * time.Second} }})
			mu, ms := intstr.FromInt32(1), intstr.FromInt32(0)
			if tt.surge {
				mu, ms = intstr.FromInt32(0), intstr.FromInt32(1)
			}
			applyDS(t, cl, agentDaemonSet("img:v1", dsRolling(mu, ms)))
			ctx := context.Background()
			_ = cl.RunFor(ctx, time.Minute, nil)
			node := fake.NodeName(0)
			victim := dsPods(t, cl)[node][0]
			if err := cl.Store.Delete(ctx, "Pod", victim.Namespace, victim.Name, store.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			_ = cl.RunFor(ctx, 5*time.Second, nil)
			if got := len(dsPods(t, cl)[node]); got != tt.wantSoon {
				t.Errorf("5s after deleting the pod on %s (it stops in 20s): %d pods not terminating there, want %d", node, got, tt.wantSoon)
			}
			_ = cl.RunFor(ctx, 30*time.Second, nil)
			if got := len(dsPods(t, cl)[node]); got != 1 {
				t.Errorf("after the old pod stopped: %d pods on %s, want 1", got, node)
			}
		})
	}
}
