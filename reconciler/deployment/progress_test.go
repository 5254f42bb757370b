package deployment

import (
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/rollouts"
)

// The Progressing condition through a rollout, as upstream's
// TestSyncRolloutStatus and TestRequeueStuckDeployment check it piecewise:
// created, progressing (lastTransitionTime kept, lastUpdateTime moved),
// the requeue at the deadline, timed out, and complete.
func TestProgressDeadline(t *testing.T) {
	f := newFixture(t)
	d := f.create(newDeployment("web", 2, "app:v1", func(d *appsv1.Deployment) {
		d.Spec.ProgressDeadlineSeconds = new(int32(60))
	})).(*appsv1.Deployment)
	f.mustSync("web")
	name := rsName(d, "app:v1")
	p := condition(f.deployment("web"), appsv1.DeploymentProgressing)
	if p == nil || p.Reason != rollouts.NewReplicaSetReason || !p.LastUpdateTime.Time.Equal(t0) {
		t.Fatalf("Progressing %+v", p)
	}

	// Nothing changes: come back at the deadline (plus upstream's second).
	f.clock.Step(10 * time.Second)
	err := f.sync("web")
	var rq controller.Requeue
	if !errors.As(err, &rq) || rq.After != 51*time.Second {
		t.Fatalf("sync = %v, want Requeue after 51s", err)
	}

	// One pod becomes available: progress.
	rs := f.rs(name)
	rs.Status.Replicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas = 2, 1, 1
	f.update(rs)
	f.mustSync("web")
	p = condition(f.deployment("web"), appsv1.DeploymentProgressing)
	if p == nil || p.Status != corev1.ConditionTrue || p.Reason != rollouts.ReplicaSetUpdatedReason ||
		p.Message != `ReplicaSet "`+name+`" is progressing.` ||
		!p.LastUpdateTime.Time.Equal(t0.Add(10*time.Second)) || !p.LastTransitionTime.Time.Equal(t0) {
		t.Fatalf("Progressing %+v", p)
	}

	// No more progress past the deadline: timed out, and no more requeues.
	f.clock.Step(61 * time.Second)
	f.mustSync("web")
	p = condition(f.deployment("web"), appsv1.DeploymentProgressing)
	if p == nil || p.Status != corev1.ConditionFalse || p.Reason != rollouts.TimedOutReason ||
		p.Message != `ReplicaSet "`+name+`" has timed out progressing.` {
		t.Fatalf("Progressing %+v", p)
	}
	if err := f.sync("web"); err != nil {
		t.Fatalf("sync after timing out = %v, want nil", err)
	}

	// The rollout still completes: NewReplicaSetAvailable.
	rs = f.rs(name)
	rs.Status.ReadyReplicas, rs.Status.AvailableReplicas = 2, 2
	f.update(rs)
	f.mustSync("web")
	got := f.deployment("web")
	p = condition(got, appsv1.DeploymentProgressing)
	if p == nil || p.Status != corev1.ConditionTrue || p.Reason != rollouts.NewRSAvailableReason ||
		p.Message != `ReplicaSet "`+name+`" has successfully progressed.` {
		t.Fatalf("Progressing %+v", p)
	}
	if a := condition(got, appsv1.DeploymentAvailable); a == nil || a.Status != corev1.ConditionTrue ||
		a.Reason != rollouts.MinimumReplicasAvailable || a.Message != "Deployment has minimum availability." {
		t.Errorf("Available %+v", a)
	}
	if err := f.sync("web"); err != nil {
		t.Errorf("sync of a complete Deployment = %v, want nil", err)
	}
}

// Time spent paused does not count against the deadline.
func TestPausedLongerThanDeadline(t *testing.T) {
	f := newFixture(t)
	d := f.create(newDeployment("web", 2, "app:v1", func(d *appsv1.Deployment) {
		d.Spec.ProgressDeadlineSeconds = new(int32(60))
	})).(*appsv1.Deployment)
	f.mustSync("web")
	d = f.deployment("web")
	d.Spec.Paused = true
	f.update(d)
	f.mustSync("web")
	f.clock.Step(10 * time.Minute)
	d = f.deployment("web")
	d.Spec.Paused = false
	f.update(d)
	f.mustSync("web")
	if p := condition(f.deployment("web"), appsv1.DeploymentProgressing); p == nil || p.Reason != rollouts.ResumedDeployReason {
		t.Errorf("Progressing %+v, want DeploymentResumed (not timed out)", p)
	}
	// Once the status is written, the next sync waits for the fresh deadline.
	err := f.sync("web")
	var rq controller.Requeue
	if !errors.As(err, &rq) || rq.After != 61*time.Second {
		t.Fatalf("sync after resume = %v, want a requeue at the fresh deadline", err)
	}
}

// Without a deadline there is no Progressing condition at all.
func TestNoProgressDeadline(t *testing.T) {
	f := newFixture(t)
	f.create(newDeployment("web", 1, "app:v1", func(d *appsv1.Deployment) {
		d.Spec.ProgressDeadlineSeconds = new(int32(2147483647))
	}))
	if err := f.sync("web"); err != nil {
		t.Fatal(err)
	}
	if p := condition(f.deployment("web"), appsv1.DeploymentProgressing); p != nil {
		t.Errorf("Progressing %+v without a deadline", p)
	}
}

// A ReplicaSet's ReplicaFailure condition is copied to the Deployment.
func TestReplicaFailureCopied(t *testing.T) {
	f := newFixture(t)
	d := f.create(newDeployment("web", 2, "app:v1")).(*appsv1.Deployment)
	rs := f.addRS(d, rsState{image: "app:v1", replicas: 2, revision: "1", owned: true})
	rs.Status.Conditions = []appsv1.ReplicaSetCondition{{
		Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "quota",
	}}
	f.update(rs)
	f.mustSync("web")
	c := condition(f.deployment("web"), appsv1.DeploymentReplicaFailure)
	if c == nil || c.Reason != "FailedCreate" || c.Message != "quota" {
		t.Errorf("ReplicaFailure %+v", c)
	}
}
