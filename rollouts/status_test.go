package rollouts

import (
	"math"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var (
	condProgressing  = appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ForSomeReason"}
	condProgressing2 = appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "BecauseItIs"}
	condAvailable    = appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "AwesomeController"}
)

// upstream TestGetCondition, TestSetCondition, TestRemoveCondition
func TestConditionHelpers(t *testing.T) {
	full := func() *appsv1.DeploymentStatus {
		return &appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{condProgressing, condAvailable}}
	}
	if GetDeploymentCondition(*full(), appsv1.DeploymentAvailable) == nil {
		t.Errorf("condition exists")
	}
	if GetDeploymentCondition(*full(), appsv1.DeploymentReplicaFailure) != nil {
		t.Errorf("condition does not exist")
	}

	sets := []struct {
		name   string
		status *appsv1.DeploymentStatus
		cond   appsv1.DeploymentCondition
		want   *appsv1.DeploymentStatus
	}{
		{"set for the first time", &appsv1.DeploymentStatus{}, condAvailable, &appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{condAvailable}}},
		{"simple set", &appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{condProgressing}}, condAvailable, full()},
		{"overwrite", &appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{condProgressing}}, condProgressing2, &appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{condProgressing2}}},
	}
	for _, tt := range sets {
		SetDeploymentCondition(tt.status, tt.cond)
		if !reflect.DeepEqual(tt.status, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, tt.status, tt.want)
		}
	}

	removes := []struct {
		name     string
		status   *appsv1.DeploymentStatus
		condType appsv1.DeploymentConditionType
		want     *appsv1.DeploymentStatus
	}{
		{"remove from empty status", &appsv1.DeploymentStatus{}, appsv1.DeploymentProgressing, &appsv1.DeploymentStatus{}},
		{"simple remove", &appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{condProgressing}}, appsv1.DeploymentProgressing, &appsv1.DeploymentStatus{}},
		{"doesn't remove anything", full(), appsv1.DeploymentReplicaFailure, full()},
	}
	for _, tt := range removes {
		RemoveDeploymentCondition(tt.status, tt.condType)
		if !reflect.DeepEqual(tt.status, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, tt.status, tt.want)
		}
	}
}

func TestSetDeploymentConditionTimes(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	status := &appsv1.DeploymentStatus{}
	SetDeploymentCondition(status, ProgressingCondition(&appsv1.Deployment{}, rs("r", 1, nil, metav1.Time{}), t0))
	// same status and reason: nothing changes, not even lastUpdateTime
	SetDeploymentCondition(status, ProgressingCondition(&appsv1.Deployment{}, rs("r", 1, nil, metav1.Time{}), t1))
	if c := status.Conditions[0]; !c.LastUpdateTime.Time.Equal(t0) {
		t.Errorf("same reason updated: %+v", c)
	}
	// same status, new reason: transition time kept, update time moves
	SetDeploymentCondition(status, CompleteCondition(&appsv1.Deployment{}, rs("r", 1, nil, metav1.Time{}), t1))
	if c := status.Conditions[0]; !c.LastTransitionTime.Time.Equal(t0) || !c.LastUpdateTime.Time.Equal(t1) || c.Reason != NewRSAvailableReason {
		t.Errorf("reason change: %+v", c)
	}
	// new status: both move
	SetDeploymentCondition(status, TimedOutCondition(&appsv1.Deployment{}, rs("r", 1, nil, metav1.Time{}), t1.Add(time.Minute)))
	if c := status.Conditions[0]; !c.LastTransitionTime.Time.Equal(t1.Add(time.Minute)) {
		t.Errorf("status change: %+v", c)
	}
}

func TestConditionMessages(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}}
	r := rs("web-5d4f", 1, nil, metav1.Time{})
	tests := []struct {
		cond    appsv1.DeploymentCondition
		typ     appsv1.DeploymentConditionType
		status  corev1.ConditionStatus
		reason  string
		message string
	}{
		{NewReplicaSetCreatedCondition("web-5d4f", now), appsv1.DeploymentProgressing, corev1.ConditionTrue, "NewReplicaSetCreated", `Created new replica set "web-5d4f"`},
		{FoundNewReplicaSetCondition("web-5d4f", now), appsv1.DeploymentProgressing, corev1.ConditionTrue, "FoundNewReplicaSet", `Found new replica set "web-5d4f"`},
		{ReplicaSetCreateErrorCondition("web-5d4f", errString("quota"), now), appsv1.DeploymentProgressing, corev1.ConditionFalse, "ReplicaSetCreateError", `Failed to create new replica set "web-5d4f": quota`},
		{ProgressingCondition(d, r, now), appsv1.DeploymentProgressing, corev1.ConditionTrue, "ReplicaSetUpdated", `ReplicaSet "web-5d4f" is progressing.`},
		{ProgressingCondition(d, nil, now), appsv1.DeploymentProgressing, corev1.ConditionTrue, "ReplicaSetUpdated", `Deployment "web" is progressing.`},
		{CompleteCondition(d, r, now), appsv1.DeploymentProgressing, corev1.ConditionTrue, "NewReplicaSetAvailable", `ReplicaSet "web-5d4f" has successfully progressed.`},
		{CompleteCondition(d, nil, now), appsv1.DeploymentProgressing, corev1.ConditionTrue, "NewReplicaSetAvailable", `Deployment "web" has successfully progressed.`},
		{TimedOutCondition(d, r, now), appsv1.DeploymentProgressing, corev1.ConditionFalse, "ProgressDeadlineExceeded", `ReplicaSet "web-5d4f" has timed out progressing.`},
		{TimedOutCondition(d, nil, now), appsv1.DeploymentProgressing, corev1.ConditionFalse, "ProgressDeadlineExceeded", `Deployment "web" has timed out progressing.`},
		{PausedCondition(now), appsv1.DeploymentProgressing, corev1.ConditionUnknown, "DeploymentPaused", "Deployment is paused"},
		{ResumedCondition(now), appsv1.DeploymentProgressing, corev1.ConditionUnknown, "DeploymentResumed", "Deployment is resumed"},
		{AvailableCondition(true, now), appsv1.DeploymentAvailable, corev1.ConditionTrue, "MinimumReplicasAvailable", "Deployment has minimum availability."},
		{AvailableCondition(false, now), appsv1.DeploymentAvailable, corev1.ConditionFalse, "MinimumReplicasUnavailable", "Deployment does not have minimum availability."},
	}
	for _, tt := range tests {
		c := tt.cond
		if c.Type != tt.typ || c.Status != tt.status || c.Reason != tt.reason || c.Message != tt.message ||
			!c.LastUpdateTime.Time.Equal(now) || !c.LastTransitionTime.Time.Equal(now) {
			t.Errorf("got %+v, want %s %s %s %q", c, tt.typ, tt.status, tt.reason, tt.message)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// upstream TestDeploymentComplete
func TestDeploymentComplete(t *testing.T) {
	d := func(desired, current, updated, available, maxUnavailable, maxSurge int32) *appsv1.Deployment {
		x := newDeployment("foo", desired, nil, new(intstr.FromInt32(maxSurge)), new(intstr.FromInt32(maxUnavailable)), nil)
		x.Status = appsv1.DeploymentStatus{Replicas: current, UpdatedReplicas: updated, AvailableReplicas: available}
		return x
	}
	tests := []struct {
		name string
		d    *appsv1.Deployment
		want bool
	}{
		{"not complete: min but not all pods become available", d(5, 5, 5, 4, 1, 0), false},
		{"not complete: min availability is not honored", d(5, 5, 5, 3, 1, 0), false},
		{"complete", d(5, 5, 5, 5, 0, 0), true},
		{"not complete: all pods are available but not updated", d(5, 5, 4, 5, 0, 0), false},
		{"not complete: still running old pods", d(1, 2, 1, 1, 0, 1), false},
		{"not complete: one replica deployment never comes up", d(1, 1, 1, 0, 1, 1), false},
		{"not complete: generation not observed", func() *appsv1.Deployment { x := d(5, 5, 5, 5, 0, 0); x.Generation = 2; return x }(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeploymentComplete(tt.d, &tt.d.Status); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// upstream TestDeploymentProgressing
func TestDeploymentProgressing(t *testing.T) {
	st := func(current, updated, ready, available int32) appsv1.DeploymentStatus {
		return appsv1.DeploymentStatus{Replicas: current, UpdatedReplicas: updated, ReadyReplicas: ready, AvailableReplicas: available}
	}
	tests := []struct {
		name     string
		old, new appsv1.DeploymentStatus
		want     bool
	}{
		{"progressing: updated pods", st(10, 4, 4, 4), st(10, 6, 4, 4), true},
		{"not progressing", st(10, 4, 4, 4), st(10, 4, 4, 4), false},
		{"progressing: old pods removed", st(10, 4, 6, 6), st(8, 4, 6, 6), true},
		{"not progressing: less new pods", st(10, 7, 3, 3), st(10, 6, 3, 3), false},
		{"progressing: less overall but more new pods", st(10, 4, 7, 7), st(8, 8, 5, 5), true},
		{"progressing: more ready pods", st(10, 10, 9, 8), st(10, 10, 10, 8), true},
		{"progressing: more available pods", st(10, 10, 10, 9), st(10, 10, 10, 10), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &appsv1.Deployment{Status: tt.old}
			if got := DeploymentProgressing(d, &tt.new); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// upstream TestDeploymentTimedOut
func TestDeploymentTimedOut(t *testing.T) {
	at := func(min, sec int) time.Time { return time.Date(2016, 1, 1, 0, min, sec, 0, time.UTC) }
	d := func(reason string, pds *int32, from time.Time) *appsv1.Deployment {
		return &appsv1.Deployment{
			Spec: appsv1.DeploymentSpec{ProgressDeadlineSeconds: pds},
			Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{{
				Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: reason, LastUpdateTime: metav1.NewTime(from),
			}}},
		}
	}
	tests := []struct {
		name string
		d    *appsv1.Deployment
		now  time.Time
		want bool
	}{
		{"nil progressDeadlineSeconds specified - no timeout", d("", nil, at(1, 9)), at(1, 20), false},
		{"infinite progressDeadlineSeconds specified - no timeout", d("", new(int32(math.MaxInt32)), at(1, 9)), at(1, 20), false},
		{"progressDeadlineSeconds: 10s, now - started => 00:01:20 - 00:01:09 => 11s", d("", new(int32(10)), at(1, 9)), at(1, 20), true},
		{"progressDeadlineSeconds: 10s, now - started => 00:01:20 - 00:01:11 => 9s", d("", new(int32(10)), at(1, 11)), at(1, 20), false},
		{"exactly at the deadline - not yet", d("", new(int32(10)), at(1, 10)), at(1, 20), false},
		{"previous status was a complete deployment", d(NewRSAvailableReason, nil, time.Time{}), at(1, 20), false},
		{"complete with a deadline", d(NewRSAvailableReason, new(int32(10)), at(0, 0)), at(1, 20), false},
		{"already timed out", d(TimedOutReason, new(int32(10)), at(1, 19)), at(1, 20), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeploymentTimedOut(tt.d, &tt.d.Status, tt.now); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if DeploymentTimedOut(&appsv1.Deployment{Spec: appsv1.DeploymentSpec{ProgressDeadlineSeconds: new(int32(1))}}, &appsv1.DeploymentStatus{}, at(1, 0)) {
		t.Errorf("timed out without a Progressing condition")
	}
}

func TestCalculateStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := newDeployment("web", 10, nil, new(intstr.FromInt32(3)), new(intstr.FromInt32(2)), nil)
	d.Generation = 7
	d.Status.CollisionCount = new(int32(1))
	d.Status.Conditions = []appsv1.DeploymentCondition{condProgressing2}
	old := rsWithAvailable("old", 8, 8, 8)
	old.Status.ReadyReplicas = 8
	newRS := rsWithAvailable("new", 5, 5, 1)
	newRS.Status.ReadyReplicas = 2
	got := CalculateStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, now)
	want := appsv1.DeploymentStatus{
		ObservedGeneration: 7, Replicas: 13, UpdatedReplicas: 5, ReadyReplicas: 10, AvailableReplicas: 9,
		UnavailableReplicas: 4, TerminatingReplicas: new(int32(0)), CollisionCount: new(int32(1)),
		Conditions: []appsv1.DeploymentCondition{condProgressing2, AvailableCondition(true, now)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if len(d.Status.Conditions) != 1 {
		t.Errorf("d's conditions modified")
	}
	// below minAvailable (8): Available=False; more available than desired: unavailable 0
	old.Status.AvailableReplicas = 6
	if c := GetDeploymentCondition(CalculateStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, now), appsv1.DeploymentAvailable); c.Status != corev1.ConditionFalse {
		t.Errorf("Available %+v", c)
	}
	over := rsWithAvailable("over", 2, 4, 4)
	if s := CalculateStatus(d, []*appsv1.ReplicaSet{over}, nil, now); s.UnavailableReplicas != 0 || s.UpdatedReplicas != 0 {
		t.Errorf("over-available: %+v", s)
	}
}

// TestDeploymentRolloutStatus holds the viewer to kubectl's
// DeploymentStatusViewer cases, plus the progress deadline.
func TestDeploymentRolloutStatus(t *testing.T) {
	timedOut := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: TimedOutReason}
	tests := []struct {
		name       string
		generation int64
		replicas   *int32
		status     appsv1.DeploymentStatus
		msg        string
		done       bool
		err        string
	}{
		{"not all updated", 0, new(int32(1)), appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, AvailableReplicas: 1},
			`Waiting for deployment "foo" rollout to finish: 0 out of 1 new replicas have been updated...`, false, ""},
		{"old pending termination", 1, new(int32(1)), appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 1, AvailableReplicas: 2},
			`Waiting for deployment "foo" rollout to finish: 1 old replicas are pending termination...`, false, ""},
		{"not all available", 1, new(int32(2)), appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 1, UnavailableReplicas: 1},
			`Waiting for deployment "foo" rollout to finish: 1 of 2 updated replicas are available...`, false, ""},
		{"complete", 1, new(int32(2)), appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2},
			`deployment "foo" successfully rolled out`, true, ""},
		{"spec not observed", 2, new(int32(2)), appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2},
			`Waiting for deployment spec update to be observed...`, false, ""},
		{"scaled to zero", 3, new(int32(0)), appsv1.DeploymentStatus{ObservedGeneration: 3},
			`deployment "foo" successfully rolled out`, true, ""},
		{"nil replicas skips the updated check", 1, nil, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1},
			`deployment "foo" successfully rolled out`, true, ""},
		{"progress deadline exceeded", 1, new(int32(2)), appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 1, Conditions: []appsv1.DeploymentCondition{timedOut}},
			"", false, `deployment "foo" exceeded its progress deadline`},
		{"deadline of an older generation is not reported", 2, new(int32(2)), appsv1.DeploymentStatus{ObservedGeneration: 1, Conditions: []appsv1.DeploymentCondition{timedOut}},
			`Waiting for deployment spec update to be observed...`, false, ""},
		{"other Progressing reasons are not errors", 1, new(int32(2)), appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, Conditions: []appsv1.DeploymentCondition{condProgressing}},
			`deployment "foo" successfully rolled out`, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Namespace: "bar", Name: "foo", Generation: tt.generation},
				Spec:       appsv1.DeploymentSpec{Replicas: tt.replicas},
				Status:     tt.status,
			}
			msg, done, err := DeploymentRolloutStatus(d)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if msg != tt.msg || done != tt.done || gotErr != tt.err {
				t.Errorf("DeploymentRolloutStatus() = %q, %v, %q; want %q, %v, %q", msg, done, gotErr, tt.msg, tt.done, tt.err)
			}
		})
	}
}

func TestDaemonSetRolloutStatus(t *testing.T) {
	ds := func(gen, observed int64, desired, updated, available int32) *appsv1.DaemonSet {
		return &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "agent", Generation: gen},
			Spec:       appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}},
			Status: appsv1.DaemonSetStatus{ObservedGeneration: observed, DesiredNumberScheduled: desired,
				UpdatedNumberScheduled: updated, NumberAvailable: available},
		}
	}
	tests := []struct {
		ds   *appsv1.DaemonSet
		msg  string
		done bool
	}{
		{ds(2, 1, 3, 3, 3), "Waiting for daemon set spec update to be observed...", false},
		{ds(2, 2, 3, 1, 1), `Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...`, false},
		{ds(2, 2, 3, 3, 2), `Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...`, false},
		{ds(2, 2, 3, 3, 3), `daemon set "agent" successfully rolled out`, true},
	}
	for _, tt := range tests {
		msg, done, err := DaemonSetRolloutStatus(tt.ds)
		if err != nil || msg != tt.msg || done != tt.done {
			t.Errorf("DaemonSetRolloutStatus = %q, %v, %v; want %q, %v", msg, done, err, tt.msg, tt.done)
		}
	}
	onDelete := ds(1, 1, 1, 1, 1)
	onDelete.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	if _, _, err := DaemonSetRolloutStatus(onDelete); err == nil || err.Error() != "rollout status is only available for RollingUpdate strategy type" {
		t.Errorf("OnDelete: %v", err)
	}
}
