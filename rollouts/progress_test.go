package rollouts

import (
	"math"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// currentDeployment mirrors progress_test.go: Recreate, observed.
func currentDeployment(pds *int32, replicas, statusReplicas, updated, available int32, conds []appsv1.DeploymentCondition) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "progress-test"},
		Spec: appsv1.DeploymentSpec{
			ProgressDeadlineSeconds: pds,
			Replicas:                new(replicas),
			Strategy:                appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		},
		Status: appsv1.DeploymentStatus{Replicas: statusReplicas, UpdatedReplicas: updated, AvailableReplicas: available, Conditions: conds},
	}
}

// upstream TestRequeueStuckDeployment
func TestRequeueAfter(t *testing.T) {
	pds := new(int32(60))
	failed := []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: TimedOutReason}}
	stuck := []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, LastUpdateTime: metav1.Date(2017, 2, 15, 18, 49, 0, 0, time.UTC)}}
	st := func(replicas, updated, available int32) appsv1.DeploymentStatus {
		return appsv1.DeploymentStatus{Replicas: replicas, UpdatedReplicas: updated, AvailableReplicas: available}
	}
	at := func(min, sec, nsec int) time.Time { return time.Date(2017, 2, 15, 18, min, sec, nsec, time.UTC) }
	tests := []struct {
		name   string
		d      *appsv1.Deployment
		status appsv1.DeploymentStatus
		now    time.Time
		want   time.Duration
	}{
		{"nil progressDeadlineSeconds specified", currentDeployment(nil, 4, 3, 3, 2, nil), st(3, 3, 2), at(49, 0, 0), -1},
		{"infinite progressDeadlineSeconds specified", currentDeployment(new(int32(math.MaxInt32)), 4, 3, 3, 2, nil), st(3, 3, 2), at(49, 0, 0), -1},
		{"no progressing condition found", currentDeployment(pds, 4, 3, 3, 2, nil), st(3, 3, 2), at(49, 0, 0), -1},
		{"complete deployment does not need to be requeued", currentDeployment(pds, 3, 3, 3, 3, nil), st(3, 3, 3), at(49, 0, 0), -1},
		{"already failed deployment does not need to be requeued", currentDeployment(pds, 3, 3, 3, 0, failed), st(3, 3, 0), at(49, 0, 0), -1},
		{"stuck deployment - 30s", currentDeployment(pds, 3, 3, 3, 1, stuck), st(3, 3, 1), at(49, 30, 0), 30 * time.Second},
		{"stuck deployment - 1s", currentDeployment(pds, 3, 3, 3, 1, stuck), st(3, 3, 1), at(49, 59, 0), time.Second},
		{"failed deployment - less than a second => now", currentDeployment(pds, 3, 3, 3, 1, stuck), st(3, 3, 1), at(49, 59, 1), 0},
		{"failed deployment - now", currentDeployment(pds, 3, 3, 3, 1, stuck), st(3, 3, 1), at(50, 0, 0), 0},
		{"failed deployment - 1s after deadline", currentDeployment(pds, 3, 3, 3, 1, stuck), st(3, 3, 1), at(50, 1, 0), 0},
		{"failed deployment - 60s after deadline", currentDeployment(pds, 3, 3, 3, 1, stuck), st(3, 3, 1), at(51, 0, 0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RequeueAfter(tt.d, tt.status, tt.now); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// upstream TestSyncRolloutStatus, at a now well past every deadline
func TestRolloutStatus(t *testing.T) {
	pds := new(int32(60))
	testTime := metav1.Date(2017, 2, 15, 18, 49, 0, 0, time.UTC)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	failedTimedOut := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: TimedOutReason}
	newRSAvailable := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: NewRSAvailableReason, LastUpdateTime: testTime, LastTransitionTime: testTime}
	replicaSetUpdated := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: ReplicaSetUpdatedReason, LastUpdateTime: testTime, LastTransitionTime: testTime}
	conds := func(c ...appsv1.DeploymentCondition) []appsv1.DeploymentCondition { return c }

	tests := []struct {
		name           string
		d              *appsv1.Deployment
		allRSs         []*appsv1.ReplicaSet
		newRS          *appsv1.ReplicaSet
		status         corev1.ConditionStatus // "" means no Progressing condition expected
		reason         string
		keepUpdate     bool // lastUpdateTime stays testTime
		keepTransition bool // lastTransitionTime stays testTime
	}{
		{name: "General: remove Progressing condition and do not estimate progress if deployment has no Progress Deadline",
			d: currentDeployment(nil, 3, 2, 2, 2, conds(replicaSetUpdated)), allRSs: []*appsv1.ReplicaSet{rsWithAvailable("bar", 0, 1, 1)}, newRS: rsWithAvailable("foo", 3, 2, 2)},
		{name: "General: do not estimate progress of deployment with only one active ReplicaSet",
			d: currentDeployment(pds, 3, 3, 3, 3, conds(newRSAvailable)), allRSs: []*appsv1.ReplicaSet{rsWithAvailable("bar", 3, 3, 3)},
			status: corev1.ConditionTrue, reason: NewRSAvailableReason, keepUpdate: true, keepTransition: true},
		{name: "DeploymentProgressing: dont update lastTransitionTime if deployment already has Progressing=True",
			d: currentDeployment(pds, 3, 2, 2, 2, conds(replicaSetUpdated)), allRSs: []*appsv1.ReplicaSet{rsWithAvailable("bar", 0, 1, 1)}, newRS: rsWithAvailable("foo", 3, 2, 2),
			status: corev1.ConditionTrue, reason: ReplicaSetUpdatedReason, keepTransition: true},
		{name: "DeploymentProgressing: update everything if deployment has Progressing=False",
			d: currentDeployment(pds, 3, 2, 2, 2, conds(failedTimedOut)), allRSs: []*appsv1.ReplicaSet{rsWithAvailable("bar", 0, 1, 1)}, newRS: rsWithAvailable("foo", 3, 2, 2),
			status: corev1.ConditionTrue, reason: ReplicaSetUpdatedReason},
		{name: "DeploymentProgressing: create Progressing condition if it does not exist",
			d: currentDeployment(pds, 3, 2, 2, 2, conds()), allRSs: []*appsv1.ReplicaSet{rsWithAvailable("bar", 0, 1, 1)}, newRS: rsWithAvailable("foo", 3, 2, 2),
			status: corev1.ConditionTrue, reason: ReplicaSetUpdatedReason},
		{name: "DeploymentComplete: dont update lastTransitionTime if deployment already has Progressing=True",
			d: currentDeployment(pds, 3, 3, 3, 3, conds(replicaSetUpdated)), newRS: rsWithAvailable("foo", 3, 3, 3),
			status: corev1.ConditionTrue, reason: NewRSAvailableReason, keepTransition: true},
		{name: "DeploymentComplete: update everything if deployment has Progressing=False",
			d: currentDeployment(pds, 3, 3, 3, 3, conds(failedTimedOut)), newRS: rsWithAvailable("foo", 3, 3, 3),
			status: corev1.ConditionTrue, reason: NewRSAvailableReason},
		{name: "DeploymentComplete: create Progressing condition if it does not exist",
			d: currentDeployment(pds, 3, 3, 3, 3, conds()), newRS: rsWithAvailable("foo", 3, 3, 3),
			status: corev1.ConditionTrue, reason: NewRSAvailableReason},
		{name: "DeploymentComplete: defend against NPE when newRS=nil",
			d: currentDeployment(pds, 0, 3, 3, 3, conds(replicaSetUpdated)), allRSs: []*appsv1.ReplicaSet{rsWithAvailable("foo", 0, 0, 0)},
			status: corev1.ConditionTrue, reason: NewRSAvailableReason, keepTransition: true},
		{name: "DeploymentTimedOut: update status if rollout exceeds Progress Deadline",
			d: currentDeployment(pds, 3, 2, 2, 2, conds(replicaSetUpdated)), newRS: rsWithAvailable("foo", 3, 2, 2),
			status: corev1.ConditionFalse, reason: TimedOutReason},
		{name: "DeploymentTimedOut: do not update status if deployment has existing timedOut condition",
			d: currentDeployment(pds, 3, 2, 2, 2, conds(func() appsv1.DeploymentCondition {
				c := failedTimedOut
				c.LastUpdateTime, c.LastTransitionTime = testTime, testTime
				return c
			}())), newRS: rsWithAvailable("foo", 3, 2, 2),
			status: corev1.ConditionFalse, reason: TimedOutReason, keepUpdate: true, keepTransition: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := tt.allRSs
			if tt.newRS != nil {
				all = append(all, tt.newRS)
			}
			got := GetDeploymentCondition(RolloutStatus(tt.d, all, tt.newRS, now), appsv1.DeploymentProgressing)
			switch {
			case got == nil:
				if tt.status != "" {
					t.Fatalf("no Progressing condition, want %s %s", tt.status, tt.reason)
				}
			case tt.status == "":
				t.Fatalf("unexpected condition %+v", got)
			case got.Status != tt.status || got.Reason != tt.reason:
				t.Errorf("got %s %s, want %s %s", got.Status, got.Reason, tt.status, tt.reason)
			}
			if got == nil {
				return
			}
			if tt.keepUpdate != got.LastUpdateTime.Equal(&testTime) {
				t.Errorf("lastUpdateTime %v (keep %v)", got.LastUpdateTime, tt.keepUpdate)
			}
			if tt.keepTransition != got.LastTransitionTime.Equal(&testTime) {
				t.Errorf("lastTransitionTime %v (keep %v)", got.LastTransitionTime, tt.keepTransition)
			}
		})
	}
}

func TestRolloutStatusReplicaFailure(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	failure := func(msg string) appsv1.ReplicaSetCondition {
		return appsv1.ReplicaSetCondition{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: msg, LastTransitionTime: metav1.NewTime(now)}
	}
	d := currentDeployment(nil, 3, 0, 0, 0, []appsv1.DeploymentCondition{{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "Stale"}})
	old := rsWithAvailable("old", 1, 1, 1)
	old.Status.Conditions = []appsv1.ReplicaSetCondition{failure("old")}
	newRS := rsWithAvailable("new", 2, 0, 0)
	newRS.Status.Conditions = []appsv1.ReplicaSetCondition{failure("new")}
	c := GetDeploymentCondition(RolloutStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, now), appsv1.DeploymentReplicaFailure)
	if c == nil || c.Message != "new" || !c.LastUpdateTime.Time.Equal(now) {
		t.Errorf("new ReplicaSet's failure first: %+v", c)
	}
	newRS.Status.Conditions = nil
	if c = GetDeploymentCondition(RolloutStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, now), appsv1.DeploymentReplicaFailure); c == nil || c.Message != "old" {
		t.Errorf("old ReplicaSet's failure: %+v", c)
	}
	old.Status.Conditions = nil
	if c = GetDeploymentCondition(RolloutStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, now), appsv1.DeploymentReplicaFailure); c != nil {
		t.Errorf("stale failure kept: %+v", c)
	}
}

func TestCheckPausedConditions(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	timedOut := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: TimedOutReason}
	paused := PausedCondition(now.Add(-time.Hour))
	progressing := ProgressingCondition(&appsv1.Deployment{}, nil, now.Add(-time.Hour))
	tests := []struct {
		name       string
		pds        *int32
		paused     bool
		cond       *appsv1.DeploymentCondition
		wantChange bool
		wantReason string
	}{
		{"no deadline: nothing", nil, true, nil, false, ""},
		{"pause", new(int32(600)), true, &progressing, true, PausedDeployReason},
		{"pause without any condition", new(int32(600)), true, nil, true, PausedDeployReason},
		{"still paused", new(int32(600)), true, &paused, false, PausedDeployReason},
		{"resume", new(int32(600)), false, &paused, true, ResumedDeployReason},
		{"running, not paused before", new(int32(600)), false, &progressing, false, ReplicaSetUpdatedReason},
		{"timed out is never overwritten", new(int32(600)), true, &timedOut, false, TimedOutReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := currentDeployment(tt.pds, 3, 3, 3, 3, nil)
			d.Spec.Paused = tt.paused
			if tt.cond != nil {
				d.Status.Conditions = []appsv1.DeploymentCondition{*tt.cond}
			}
			if got := CheckPausedConditions(d, now); got != tt.wantChange {
				t.Errorf("changed %v, want %v", got, tt.wantChange)
			}
			c := GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
			if reason := func() string {
				if c == nil {
					return ""
				}
				return c.Reason
			}(); reason != tt.wantReason {
				t.Errorf("reason %q, want %q", reason, tt.wantReason)
			}
		})
	}
}
