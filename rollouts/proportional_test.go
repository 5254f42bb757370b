package rollouts

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// upstream sync_test.go TestScale: annotations set for oldDeployment (the
// size before the event), then ScalePlan for deployment.
func TestScalePlan(t *testing.T) {
	updatedTemplate := func(replicas int32) *appsv1.Deployment {
		d := newDeployment("foo", replicas, nil, nil, nil, map[string]string{"foo": "bar"})
		d.Spec.Template.Labels["another"] = "label"
		return d
	}
	i32 := func(n int32) *intstr.IntOrString { return new(intstr.FromInt32(n)) }
	tests := []struct {
		name          string
		deployment    *appsv1.Deployment
		oldDeployment *appsv1.Deployment
		newRS         *appsv1.ReplicaSet
		oldRSs        []*appsv1.ReplicaSet
		want          map[string]int32 // final sizes of every ReplicaSet
		desired       map[string]int32 // desired-replicas annotation overrides
	}{
		{name: "normal scaling event: 10 -> 12",
			deployment: newDeployment("foo", 12, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 10, nil, nil, nil, nil),
			newRS: rs("foo-v1", 10, nil, newTimestamp),
			want:  map[string]int32{"foo-v1": 12}},
		{name: "normal scaling event: 10 -> 5",
			deployment: newDeployment("foo", 5, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 10, nil, nil, nil, nil),
			newRS: rs("foo-v1", 10, nil, newTimestamp),
			want:  map[string]int32{"foo-v1": 5}},
		{name: "proportional scaling: 5 -> 10",
			deployment: newDeployment("foo", 10, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 5, nil, nil, nil, nil),
			newRS: rs("foo-v2", 2, nil, newTimestamp), oldRSs: []*appsv1.ReplicaSet{rs("foo-v1", 3, nil, oldTimestamp)},
			want: map[string]int32{"foo-v2": 4, "foo-v1": 6}},
		{name: "proportional scaling: 5 -> 3",
			deployment: newDeployment("foo", 3, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 5, nil, nil, nil, nil),
			newRS: rs("foo-v2", 2, nil, newTimestamp), oldRSs: []*appsv1.ReplicaSet{rs("foo-v1", 3, nil, oldTimestamp)},
			want: map[string]int32{"foo-v2": 1, "foo-v1": 2}},
		{name: "proportional scaling: 9 -> 4",
			deployment: newDeployment("foo", 4, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 9, nil, nil, nil, nil),
			newRS: rs("foo-v2", 8, nil, newTimestamp), oldRSs: []*appsv1.ReplicaSet{rs("foo-v1", 1, nil, oldTimestamp)},
			want: map[string]int32{"foo-v2": 4, "foo-v1": 0}},
		{name: "proportional scaling: 7 -> 10",
			deployment: newDeployment("foo", 10, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 7, nil, nil, nil, nil),
			newRS:  rs("foo-v3", 2, nil, newTimestamp),
			oldRSs: []*appsv1.ReplicaSet{rs("foo-v2", 3, nil, oldTimestamp), rs("foo-v1", 2, nil, olderTimestamp)},
			want:   map[string]int32{"foo-v3": 3, "foo-v2": 4, "foo-v1": 3}},
		{name: "proportional scaling: 13 -> 8",
			deployment: newDeployment("foo", 8, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 13, nil, nil, nil, nil),
			newRS:  rs("foo-v3", 2, nil, newTimestamp),
			oldRSs: []*appsv1.ReplicaSet{rs("foo-v2", 8, nil, oldTimestamp), rs("foo-v1", 3, nil, olderTimestamp)},
			want:   map[string]int32{"foo-v3": 1, "foo-v2": 5, "foo-v1": 2}},
		{name: "leftover distribution: 3 -> 4 (scales up the new replica set)",
			deployment: newDeployment("foo", 4, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 3, nil, nil, nil, nil),
			newRS:  rs("foo-v3", 1, nil, newTimestamp),
			oldRSs: []*appsv1.ReplicaSet{rs("foo-v2", 1, nil, oldTimestamp), rs("foo-v1", 1, nil, olderTimestamp)},
			want:   map[string]int32{"foo-v3": 2, "foo-v2": 1, "foo-v1": 1}},
		{name: "leftover distribution: 3 -> 2 (scales down the older replica set)",
			deployment: newDeployment("foo", 2, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 3, nil, nil, nil, nil),
			newRS:  rs("foo-v3", 1, nil, newTimestamp),
			oldRSs: []*appsv1.ReplicaSet{rs("foo-v2", 1, nil, oldTimestamp), rs("foo-v1", 1, nil, olderTimestamp)},
			want:   map[string]int32{"foo-v3": 1, "foo-v2": 1, "foo-v1": 0}},
		{name: "proportional scaling (no new rs): 4 -> 5 (latest first)",
			deployment: newDeployment("foo", 5, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 4, nil, nil, nil, nil),
			oldRSs: []*appsv1.ReplicaSet{rs("foo-v2", 2, nil, oldTimestamp), rs("foo-v1", 2, nil, olderTimestamp)},
			want:   map[string]int32{"foo-v2": 3, "foo-v1": 2}},
		{name: "proportional scaling: 6 -> 0",
			deployment: newDeployment("foo", 0, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 6, nil, nil, nil, nil),
			newRS:  rs("foo-v3", 3, nil, newTimestamp),
			oldRSs: []*appsv1.ReplicaSet{rs("foo-v2", 2, nil, oldTimestamp), rs("foo-v1", 1, nil, olderTimestamp)},
			want:   map[string]int32{"foo-v3": 0, "foo-v2": 0, "foo-v1": 0}},
		{name: "proportional scaling: 0 -> 6 (up from zero: the new one)",
			deployment: newDeployment("foo", 6, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 6, nil, nil, nil, nil),
			newRS:  rs("foo-v3", 0, nil, newTimestamp),
			oldRSs: []*appsv1.ReplicaSet{rs("foo-v2", 0, nil, oldTimestamp), rs("foo-v1", 0, nil, olderTimestamp)},
			want:   map[string]int32{"foo-v3": 6, "foo-v2": 0, "foo-v1": 0}},
		{name: "failed rs update (foo-v2 annotated for 3)",
			deployment: newDeployment("foo", 5, nil, nil, nil, nil), oldDeployment: newDeployment("foo", 5, nil, nil, nil, nil),
			newRS:   rs("foo-v3", 2, nil, newTimestamp),
			oldRSs:  []*appsv1.ReplicaSet{rs("foo-v2", 1, nil, oldTimestamp), rs("foo-v1", 1, nil, olderTimestamp)},
			desired: map[string]int32{"foo-v2": 3},
			want:    map[string]int32{"foo-v3": 2, "foo-v2": 2, "foo-v1": 1}},
		{name: "deployment with surge pods",
			deployment: newDeployment("foo", 20, nil, i32(2), nil, nil), oldDeployment: newDeployment("foo", 10, nil, i32(2), nil, nil),
			newRS: rs("foo-v2", 6, nil, newTimestamp), oldRSs: []*appsv1.ReplicaSet{rs("foo-v1", 6, nil, oldTimestamp)},
			want: map[string]int32{"foo-v2": 11, "foo-v1": 11}},
		{name: "change both surge and size",
			deployment: newDeployment("foo", 50, nil, i32(6), nil, nil), oldDeployment: newDeployment("foo", 10, nil, i32(3), nil, nil),
			newRS: rs("foo-v2", 5, nil, newTimestamp), oldRSs: []*appsv1.ReplicaSet{rs("foo-v1", 8, nil, oldTimestamp)},
			want: map[string]int32{"foo-v2": 22, "foo-v1": 34}},
		{name: "change both size and template",
			deployment: updatedTemplate(14), oldDeployment: newDeployment("foo", 10, nil, nil, nil, map[string]string{"foo": "bar"}),
			oldRSs: []*appsv1.ReplicaSet{rs("foo-v2", 7, nil, newTimestamp), rs("foo-v1", 3, nil, oldTimestamp)},
			want:   map[string]int32{"foo-v2": 10, "foo-v1": 4}},
		{name: "saturated but broken new replica set does not affect old pods",
			deployment: newDeployment("foo", 2, nil, i32(1), i32(1), nil), oldDeployment: newDeployment("foo", 2, nil, i32(1), i32(1), nil),
			newRS: rs("foo-v2", 2, nil, newTimestamp), oldRSs: []*appsv1.ReplicaSet{rs("foo-v1", 1, nil, oldTimestamp)},
			want: map[string]int32{"foo-v2": 2, "foo-v1": 1}},
		// k8s-semantics.md 1.11 (e2e): 10 replicas, surge 3, unavailable 2,
		// stuck at old 8 / new 5 (max-replicas 13), scaled to 30.
		{name: "10 -> 30 during a stuck rollout",
			deployment: newDeployment("foo", 30, nil, i32(3), i32(2), nil), oldDeployment: newDeployment("foo", 10, nil, i32(3), i32(2), nil),
			newRS: rs("foo-v2", 5, nil, newTimestamp), oldRSs: []*appsv1.ReplicaSet{rs("foo-v1", 8, nil, oldTimestamp)},
			want: map[string]int32{"foo-v2": 13, "foo-v1": 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			annotate := func(r *appsv1.ReplicaSet) {
				desired := DeploymentReplicas(tt.oldDeployment)
				if v, ok := tt.desired[r.Name]; ok {
					desired = v
				}
				SetReplicasAnnotations(r, desired, desired+MaxSurge(tt.oldDeployment))
			}
			got := map[string]int32{}
			if tt.newRS != nil {
				annotate(tt.newRS)
				got[tt.newRS.Name] = *tt.newRS.Spec.Replicas
			}
			for _, r := range tt.oldRSs {
				annotate(r)
				got[r.Name] = *r.Spec.Replicas
			}
			for name, n := range sizes(ScalePlan(tt.deployment, tt.newRS, tt.oldRSs)) {
				got[name] = n
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for name, n := range tt.want {
				if got[name] != n {
					t.Errorf("%s = %d, want %d (all: %v)", name, got[name], n, got)
				}
			}
		})
	}
}

func TestScalePlanSteps(t *testing.T) {
	// proportional steps are forced (annotations refresh) and ordered
	// largest first, the first taking the leftover
	d := newDeployment("foo", 30, nil, new(intstr.FromInt32(3)), new(intstr.FromInt32(2)), nil)
	old := rs("old", 8, nil, oldTimestamp)
	newRS := rs("new", 5, nil, newTimestamp)
	SetReplicasAnnotations(old, 10, 13)
	SetReplicasAnnotations(newRS, 10, 13)
	plan := ScalePlan(d, newRS, []*appsv1.ReplicaSet{old})
	if len(plan) != 2 || plan[0].ReplicaSet != old || !plan[0].Force || !plan[1].Force || plan[0].From != 8 || plan[0].To != 20 {
		t.Fatalf("plan %+v", plan)
	}
	up, write, changed := ScaledReplicaSet(d, plan[1])
	if !write || !changed || *up.Spec.Replicas != 13 || up.Annotations[DesiredReplicasAnnotation] != "30" || up.Annotations[MaxReplicasAnnotation] != "33" {
		t.Errorf("applied: %v %v %+v", write, changed, up.Annotations)
	}
	if *newRS.Spec.Replicas != 5 || newRS.Annotations[DesiredReplicasAnnotation] != "10" {
		t.Errorf("ScaledReplicaSet modified its input")
	}
	// saturated new ReplicaSet: active olds to 0, not forced
	d = newDeployment("foo", 3, nil, nil, nil, nil)
	sat := rsWithAvailable("new", 3, 3, 3)
	SetReplicasAnnotations(sat, 3, 3)
	plan = ScalePlan(d, sat, []*appsv1.ReplicaSet{rs("a", 1, nil, oldTimestamp), rs("b", 0, nil, olderTimestamp)})
	if len(plan) != 1 || plan[0].ReplicaSet.Name != "a" || plan[0].To != 0 || plan[0].Force {
		t.Errorf("saturated: %+v", plan)
	}
	// one active ReplicaSet already at size: nothing
	if plan = ScalePlan(d, sat, nil); plan != nil {
		t.Errorf("no-op: %+v", plan)
	}
	// Recreate with several active: nothing, as upstream
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if plan = ScalePlan(d, rs("n", 1, nil, newTimestamp), []*appsv1.ReplicaSet{rs("o", 1, nil, oldTimestamp)}); plan != nil {
		t.Errorf("recreate: %+v", plan)
	}
}

func TestScaledReplicaSet(t *testing.T) {
	d := newDeployment("foo", 4, nil, new(intstr.FromInt32(1)), nil, nil)
	r := rs("r", 4, nil, oldTimestamp)
	// same size, not forced: no write
	if _, write, _ := ScaledReplicaSet(d, ReplicaSetScale{ReplicaSet: r, From: 4, To: 4}); write {
		t.Errorf("unforced same size written")
	}
	// same size, forced, annotations stale: written, no event
	if _, write, changed := ScaledReplicaSet(d, ReplicaSetScale{ReplicaSet: r, From: 4, To: 4, Force: true}); !write || changed {
		t.Errorf("forced: write %v changed %v", write, changed)
	}
	SetReplicasAnnotations(r, 4, 5)
	if _, write, _ := ScaledReplicaSet(d, ReplicaSetScale{ReplicaSet: r, From: 4, To: 4, Force: true}); write {
		t.Errorf("forced with current annotations written")
	}
	if got := ScalingMessage("web-abc", 2, 5); got != "Scaled up replica set web-abc from 2 to 5" {
		t.Errorf("message %q", got)
	}
	if got := ScalingMessage("web-abc", 5, 0); got != "Scaled down replica set web-abc from 5 to 0" {
		t.Errorf("message %q", got)
	}
}

// upstream TestGetReplicaSetFraction (maxUnavailable 1)
func TestReplicaSetFraction(t *testing.T) {
	tests := []struct {
		name                                         string
		deploymentReplicas, statusReplicas, maxSurge int32
		rsReplicas                                   int32
		annotations                                  map[string]string
		want                                         int32
	}{
		{name: "empty deployment always scales to 0", deploymentReplicas: 0, rsReplicas: 10, want: -10},
		{name: "unsynced deployment does not scale when max-replicas annotation is missing", deploymentReplicas: 10, rsReplicas: 5, want: 0},
		{name: "unsynced deployment does not scale when max-replicas annotation is 0", deploymentReplicas: 10, rsReplicas: 5,
			annotations: map[string]string{MaxReplicasAnnotation: "0"}, want: 0},
		{name: "scale up by 1/5 without annotation uses status.replicas", deploymentReplicas: 120, statusReplicas: 100, rsReplicas: 50, want: 10},
		{name: "scale up by 1/5 with annotation 0 uses status.replicas", deploymentReplicas: 120, statusReplicas: 100, rsReplicas: 50,
			annotations: map[string]string{MaxReplicasAnnotation: "0"}, want: 10},
		{name: "scale up by 1/5", deploymentReplicas: 120, rsReplicas: 50,
			annotations: map[string]string{MaxReplicasAnnotation: "100"}, want: 10},
		{name: "scale up with maxSurge by 1/5", deploymentReplicas: 120, maxSurge: 10, rsReplicas: 50,
			annotations: map[string]string{MaxReplicasAnnotation: "110"}, want: 9},
		{name: "scale down by 1/6", deploymentReplicas: 10, rsReplicas: 6,
			annotations: map[string]string{MaxReplicasAnnotation: "12"}, want: -1},
		{name: "scale down with maxSurge by 1/6", deploymentReplicas: 100, maxSurge: 10, rsReplicas: 50,
			annotations: map[string]string{MaxReplicasAnnotation: "130"}, want: -8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeployment("nginx", tt.deploymentReplicas, nil, new(intstr.FromInt32(tt.maxSurge)), new(intstr.FromInt32(1)), nil)
			d.Status.Replicas = tt.statusReplicas
			r := rs("r", tt.rsReplicas, nil, oldTimestamp)
			r.Annotations = tt.annotations
			if got := replicaSetFraction(d, r); got != tt.want {
				t.Errorf("fraction %d, want %d", got, tt.want)
			}
		})
	}
}

func TestGetProportion(t *testing.T) {
	d := newDeployment("foo", 30, nil, new(intstr.FromInt32(3)), nil, nil)
	r := rs("r", 8, nil, oldTimestamp)
	SetReplicasAnnotations(r, 10, 13)
	tests := []struct {
		name         string
		rs           *appsv1.ReplicaSet
		toAdd, added int32
		want         int32
	}{
		{"share", r, 20, 0, 12},
		{"capped by what is left", r, 20, 15, 5},
		{"nothing to add", r, 0, 0, 0},
		{"all handed out", r, 20, 20, 0},
		{"nil", nil, 20, 0, 0},
		{"empty ReplicaSet is not scaled up from zero", rs("z", 0, nil, oldTimestamp), 20, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GetProportion(d, tt.rs, tt.toAdd, tt.added); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
	// scaling down: the share is floored by what may still be removed
	down := newDeployment("foo", 5, nil, nil, nil, nil)
	r2 := rs("r2", 8, nil, oldTimestamp)
	SetReplicasAnnotations(r2, 10, 10)
	if got := GetProportion(down, r2, -2, 0); got != -2 {
		t.Errorf("scale down capped: %d, want -2", got)
	}
}
