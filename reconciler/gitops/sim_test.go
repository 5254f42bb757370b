package gitops

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/sim"
	"github.com/berth-io/berth/sources"
)

// TestRolloutUnderControllersHasNoDrift runs the whole control plane (the
// Deployment and ReplicaSet controllers, the scheduler, fake nodes whose
// pods take a while to become ready) with the gitops controller: the
// controllers write the Deployment's status and annotations all through
// the rollouts, and the sync must never see that as drift. A revision in
// the middle of a rollout supersedes it.
func TestRolloutUnderControllersHasNoDrift(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := controller.NewFakeRecorder()
	cl, err := sim.New(sim.Options{
		Nodes:    3,
		Recorder: rec,
		Behavior: func(*corev1.Pod) fake.Behavior { return fake.Behavior{ReadyAfter: 2 * time.Second} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Store.Close()
	src := newFakeSource("web")
	c, err := New(Options{Store: cl.Store, Recorder: rec, Clock: cl.Clock, Sources: []sources.Source{src}, ResyncInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	c.Register(cl.Manager)
	defer cl.Cache.Stop()

	deliver := func(rev, image string) {
		c.Update("web", src.snapshot(rev, file("web.yaml", deployWeb(image, ""))), nil)
	}
	deliver("r1", "nginx:1")
	if err := cl.RunUntilIdle(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	deliver("r2", "nginx:2")
	// Part of the rollout, then a new revision supersedes it.
	cl.Clock.Step(100 * time.Millisecond)
	for range 20 {
		cl.Manager.Step(ctx)
	}
	deliver("r3", "nginx:3")
	if err := cl.RunUntilIdle(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}

	d, newRS, old, err := cl.DeploymentReplicaSets(ctx, "shop", "web")
	if err != nil {
		t.Fatal(err)
	}
	if newRS == nil || newRS.Spec.Template.Spec.Containers[0].Image != "nginx:3" || d.Status.AvailableReplicas != 3 || d.Status.UpdatedReplicas != 3 {
		t.Fatalf("rollout did not complete on nginx:3: %+v", d.Status)
	}
	if len(old) != 2 {
		t.Errorf("%d old ReplicaSets, want 2 (nginx:1, and nginx:2 superseded mid-rollout)", len(old))
	}
	for _, rs := range old {
		if *rs.Spec.Replicas != 0 {
			t.Errorf("old ReplicaSet %s still has %d replicas", rs.Name, *rs.Spec.Replicas)
		}
	}
	for _, ev := range rec.Events() {
		if strings.Contains(ev, ReasonDriftCorrected) {
			t.Errorf("the sync fought the controllers: %s", ev)
		}
	}
	res, err := cl.Store.Get(ctx, sources.Kind, "", "web")
	if err != nil {
		t.Fatal(err)
	}
	rs := res.(*sources.Resource).Status.Resources
	if len(rs) != 1 || rs[0].Sync != sources.SyncSynced || rs[0].Health != sources.HealthHealthy {
		t.Errorf("resources: %+v", rs)
	}
}
