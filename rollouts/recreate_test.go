package rollouts

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

func podIn(phase corev1.PodPhase) *corev1.Pod {
	return &corev1.Pod{Status: corev1.PodStatus{Phase: phase}}
}

// upstream TestOldPodsRunning
func TestOldPodsRunning(t *testing.T) {
	withUID := func(uid string) *appsv1.ReplicaSet {
		r := rs("foo-"+uid, 0, nil, oldTimestamp)
		r.UID = types.UID(uid)
		return r
	}
	tests := []struct {
		name   string
		newRS  *appsv1.ReplicaSet
		oldRSs []*appsv1.ReplicaSet
		pods   map[types.UID][]*corev1.Pod
		want   bool
	}{
		{name: "no old RSs"},
		{name: "old RSs with running pods",
			oldRSs: []*appsv1.ReplicaSet{withUID("some-uid"), withUID("other-uid")},
			pods:   map[types.UID][]*corev1.Pod{"some-uid": {{}, {}}, "other-uid": {{}, {}}},
			want:   true},
		{name: "old RSs without pods but with non-zero status replicas",
			oldRSs: []*appsv1.ReplicaSet{rsWithStatus("rs-1", 0, 1)}, want: true},
		{name: "old RSs without pods or non-zero status replicas",
			oldRSs: []*appsv1.ReplicaSet{rsWithStatus("rs-1", 0, 0)}},
		{name: "old RSs with zero status replicas but pods in terminal state are present",
			oldRSs: []*appsv1.ReplicaSet{rsWithStatus("rs-1", 0, 0)},
			pods:   map[types.UID][]*corev1.Pod{"uid-1": {podIn(corev1.PodFailed), podIn(corev1.PodSucceeded)}}},
		{name: "old RSs with zero status replicas but pod in unknown phase present",
			oldRSs: []*appsv1.ReplicaSet{rsWithStatus("rs-1", 0, 0)},
			pods:   map[types.UID][]*corev1.Pod{"uid-1": {podIn(corev1.PodUnknown)}}, want: true},
		{name: "old RSs with zero status replicas with pending pod present",
			oldRSs: []*appsv1.ReplicaSet{rsWithStatus("rs-1", 0, 0)},
			pods:   map[types.UID][]*corev1.Pod{"uid-1": {podIn(corev1.PodPending)}}, want: true},
		{name: "old RSs with zero status replicas with running pod present",
			oldRSs: []*appsv1.ReplicaSet{rsWithStatus("rs-1", 0, 0)},
			pods:   map[types.UID][]*corev1.Pod{"uid-1": {podIn(corev1.PodRunning)}}, want: true},
		{name: "old RSs with zero status replicas but pods in terminal state and pending are present",
			oldRSs: []*appsv1.ReplicaSet{rsWithStatus("rs-1", 0, 0)},
			pods: map[types.UID][]*corev1.Pod{
				"uid-1": {podIn(corev1.PodFailed), podIn(corev1.PodSucceeded)},
				"uid-2": {},
				"uid-3": {podIn(corev1.PodPending)},
			}, want: true},
		// berth: the new ReplicaSet's own pods do not count
		{name: "only new pods running", newRS: withUID("new"),
			pods: map[types.UID][]*corev1.Pod{"new": {podIn(corev1.PodRunning)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OldPodsRunning(tt.newRS, tt.oldRSs, tt.pods); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRecreateStep(t *testing.T) {
	d := newDeployment("foo", 3, new(int32(1)), nil, nil, map[string]string{"foo": "bar"})
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}

	// upstream TestScaleDownOldReplicaSets: active old ReplicaSets go to 0, and the step ends
	old := rsWithStatus("foo-0", 3, 3)
	step := RecreateStep(d, nil, []*appsv1.ReplicaSet{old}, nil)
	if len(step.Scales) != 1 || step.Scales[0].To != 0 || step.CreateNewReplicaSet {
		t.Fatalf("scale down: %+v", step)
	}
	// old pods still terminating: wait
	old = rsWithStatus("foo-0", 0, 2)
	if step = RecreateStep(d, nil, []*appsv1.ReplicaSet{old}, nil); len(step.Scales) != 0 || step.CreateNewReplicaSet {
		t.Fatalf("waiting: %+v", step)
	}
	// old pods gone, no new ReplicaSet: create it
	old = rsWithStatus("foo-0", 0, 0)
	if step = RecreateStep(d, nil, []*appsv1.ReplicaSet{old}, nil); !step.CreateNewReplicaSet {
		t.Fatalf("create: %+v", step)
	}
	// new ReplicaSet below size: scale it to spec.replicas at once
	newRS := rs("foo-1", 1, nil, newTimestamp)
	if step = RecreateStep(d, newRS, []*appsv1.ReplicaSet{old}, nil); len(step.Scales) != 1 || step.Scales[0].To != 3 {
		t.Fatalf("scale up: %+v", step)
	}
	// complete: history cleanup in the same step
	newRS = rsWithAvailable("foo-1", 3, 3, 3)
	older := rsWithStatus("foo-00", 0, 0)
	d.Status = appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}
	step = RecreateStep(d, newRS, []*appsv1.ReplicaSet{old, older}, nil)
	if len(step.Scales) != 0 || len(step.Cleanup) != 1 {
		t.Fatalf("complete: %+v", step)
	}
	// a fresh ReplicaSet for Recreate starts at spec.replicas
	created, err := NewReplicaSet(d, []*appsv1.ReplicaSet{old})
	if err != nil || *created.Spec.Replicas != 3 {
		t.Errorf("NewReplicaSet for Recreate: %v %v", created.Spec.Replicas, err)
	}
}
