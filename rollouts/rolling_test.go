package rollouts

import (
	"errors"
	"maps"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// upstream TestNewRSNewReplicas (maxUnavailable 1; one other RS at 5)
func TestNewRSNewReplicas(t *testing.T) {
	tests := []struct {
		name                                 string
		strategy                             appsv1.DeploymentStrategyType
		depReplicas, newRSReplicas, maxSurge int32
		want                                 int32
	}{
		{"can not scale up - to newRSReplicas", appsv1.RollingUpdateDeploymentStrategyType, 1, 5, 1, 5},
		{"scale up - to depReplicas", appsv1.RollingUpdateDeploymentStrategyType, 6, 2, 10, 6},
		{"recreate - to depReplicas", appsv1.RecreateDeploymentStrategyType, 3, 1, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := generateDeployment("nginx")
			d.Spec.Replicas = new(tt.depReplicas)
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: tt.strategy, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: new(intstr.FromInt32(1)),
				MaxSurge:       new(intstr.FromInt32(tt.maxSurge)),
			}}
			newRS := generateRS(d, "new")
			newRS.Spec.Replicas = new(tt.newRSReplicas)
			rs5 := generateRS(d, "rs5")
			rs5.Spec.Replicas = new(int32(5))
			got, err := NewRSNewReplicas(d, []*appsv1.ReplicaSet{rs5}, newRS)
			if err != nil || got != tt.want {
				t.Errorf("got %d, %v; want %d", got, err, tt.want)
			}
		})
	}
	d := generateDeployment("nginx")
	d.Spec.Strategy.Type = "Blue"
	if _, err := NewRSNewReplicas(d, nil, generateRS(d, "n")); err == nil || err.Error() != "deployment type Blue isn't supported" {
		t.Errorf("unknown strategy: %v", err)
	}
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: new(intstr.FromString("oops"))}}
	if _, err := NewRSNewReplicas(d, nil, generateRS(d, "n")); err == nil {
		t.Errorf("invalid maxSurge accepted")
	}
}

// upstream TestDeploymentController_reconcileNewReplicaSet (maxUnavailable 0)
func TestReconcileNewReplicaSet(t *testing.T) {
	tests := []struct {
		deploymentReplicas int32
		maxSurge           intstr.IntOrString
		oldReplicas        int32
		newReplicas        int32
		scaleExpected      bool
		expectedNew        int32
	}{
		{10, intstr.FromInt32(0), 10, 0, false, 0},
		{10, intstr.FromInt32(2), 10, 0, true, 2},
		{10, intstr.FromInt32(2), 5, 0, true, 7},
		{10, intstr.FromInt32(2), 10, 2, false, 0},
		{10, intstr.FromInt32(2), 2, 11, true, 10},
	}
	for i, tt := range tests {
		newRS := rs("foo-v2", tt.newReplicas, nil, metav1.Time{})
		oldRS := rs("foo-v1", tt.oldReplicas, nil, metav1.Time{})
		d := newDeployment("foo", tt.deploymentReplicas, nil, &tt.maxSurge, new(intstr.FromInt32(0)), map[string]string{"foo": "bar"})
		got, scale, err := ReconcileNewReplicaSet(d, []*appsv1.ReplicaSet{newRS, oldRS}, newRS)
		if err != nil || scale != tt.scaleExpected || (scale && got != tt.expectedNew) {
			t.Errorf("#%d: got %d scale=%v err=%v; want scale=%v to %d", i, got, scale, err, tt.scaleExpected, tt.expectedNew)
		}
	}
}

// upstream TestDeploymentController_reconcileOldReplicaSets (maxSurge 0)
func TestReconcileOldReplicaSets(t *testing.T) {
	tests := []struct {
		deploymentReplicas int32
		maxUnavailable     intstr.IntOrString
		oldReplicas        int32
		newReplicas        int32
		readyOld, readyNew int32
		scaleExpected      bool
		expectedOld        int32
	}{
		{10, intstr.FromInt32(0), 10, 0, 10, 0, true, 9},
		{10, intstr.FromInt32(2), 10, 0, 10, 0, true, 8},
		// unhealthy replicas from old replica sets cleaned up
		{10, intstr.FromInt32(2), 10, 0, 8, 0, true, 8},
		// 1 unhealthy cleaned up, then 1 ready scaled down
		{10, intstr.FromInt32(2), 10, 0, 9, 0, true, 8},
		// unavailable new pods block further scale-down
		{10, intstr.FromInt32(2), 8, 2, 8, 0, false, 0},
	}
	for i, tt := range tests {
		newRS := rs("foo-new", tt.newReplicas, map[string]string{"foo": "new"}, metav1.Time{})
		newRS.Status.AvailableReplicas = tt.readyNew
		oldRS := rs("foo-old", tt.oldReplicas, map[string]string{"foo": "old"}, metav1.Time{})
		oldRS.Status.AvailableReplicas = tt.readyOld
		d := newDeployment("foo", tt.deploymentReplicas, nil, new(intstr.FromInt32(0)), &tt.maxUnavailable, map[string]string{"foo": "new"})
		plan := ReconcileOldReplicaSets(d, []*appsv1.ReplicaSet{oldRS, newRS}, []*appsv1.ReplicaSet{oldRS}, newRS)
		if (len(plan) > 0) != tt.scaleExpected {
			t.Errorf("#%d: plan %v, want scaling %v", i, plan, tt.scaleExpected)
			continue
		}
		if tt.scaleExpected && sizes(plan)["foo-old"] != tt.expectedOld {
			t.Errorf("#%d: old scaled to %d, want %d", i, sizes(plan)["foo-old"], tt.expectedOld)
		}
		if *oldRS.Spec.Replicas != tt.oldReplicas {
			t.Errorf("#%d: input modified", i)
		}
	}
}

// The cleanup-then-scale-down case gives two chained steps on one ReplicaSet.
func TestReconcileOldReplicaSetsChainsSteps(t *testing.T) {
	newRS := rs("new", 0, nil, newTimestamp)
	oldRS := rs("old", 10, nil, oldTimestamp)
	oldRS.Status.AvailableReplicas = 9
	d := newDeployment("foo", 10, nil, new(intstr.FromInt32(0)), new(intstr.FromInt32(2)), nil)
	plan := ReconcileOldReplicaSets(d, []*appsv1.ReplicaSet{oldRS, newRS}, []*appsv1.ReplicaSet{oldRS}, newRS)
	if len(plan) != 2 || plan[0].From != 10 || plan[0].To != 9 || plan[1].From != 9 || plan[1].To != 8 {
		t.Fatalf("plan %+v", plan)
	}
	if plan[0].ReplicaSet != oldRS || *plan[1].ReplicaSet.Spec.Replicas != 9 {
		t.Errorf("second step should carry the cleaned-up copy")
	}
}

// upstream TestDeploymentController_cleanupUnhealthyReplicas
func TestCleanupUnhealthyReplicas(t *testing.T) {
	tests := []struct {
		oldReplicas, ready, maxCleanup, want int32
	}{
		{10, 8, 1, 1},
		{10, 8, 3, 2},
		{10, 8, 0, 0},
		{10, 10, 3, 0},
	}
	for i, tt := range tests {
		oldRS := rs("foo-v2", tt.oldReplicas, nil, metav1.Time{})
		oldRS.Status.AvailableReplicas = tt.ready
		_, got, err := CleanupUnhealthyReplicas([]*appsv1.ReplicaSet{oldRS}, tt.maxCleanup)
		if err != nil || got != tt.want {
			t.Errorf("#%d: cleaned %d (%v), want %d", i, got, err, tt.want)
		}
	}
	// oldest first, across ReplicaSets
	a := rs("a", 3, nil, olderTimestamp)
	a.Status.AvailableReplicas = 1
	b := rs("b", 4, nil, oldTimestamp)
	b.Status.AvailableReplicas = 0
	plan, n, _ := CleanupUnhealthyReplicas([]*appsv1.ReplicaSet{b, a}, 5)
	if n != 5 || len(plan) != 2 || plan[0].ReplicaSet != a || plan[0].To != 1 || plan[1].To != 1 {
		t.Errorf("plan %+v cleaned %d", plan, n)
	}
	// stale status (more available than desired) stops with upstream's error
	s := rs("s", 2, nil, oldTimestamp)
	s.Status.AvailableReplicas = 3
	if _, _, err := CleanupUnhealthyReplicas([]*appsv1.ReplicaSet{s}, 5); err == nil {
		t.Errorf("stale status accepted")
	}
}

// upstream TestDeploymentController_scaleDownOldReplicaSetsForRollingUpdate (maxSurge 0)
func TestScaleDownOldReplicaSetsForRollingUpdate(t *testing.T) {
	tests := []struct {
		deploymentReplicas int32
		maxUnavailable     intstr.IntOrString
		ready, old         int32
		scaleExpected      bool
		expectedOld        int32
	}{
		{10, intstr.FromInt32(0), 10, 10, true, 9},
		{10, intstr.FromInt32(2), 10, 10, true, 8},
		{10, intstr.FromInt32(2), 8, 10, false, 0},
		{10, intstr.FromInt32(2), 10, 0, false, 0},
		{10, intstr.FromInt32(2), 1, 10, false, 0},
	}
	for i, tt := range tests {
		oldRS := rs("foo-v2", tt.old, nil, metav1.Time{})
		oldRS.Status.AvailableReplicas = tt.ready
		d := newDeployment("foo", tt.deploymentReplicas, nil, new(intstr.FromInt32(0)), &tt.maxUnavailable, map[string]string{"foo": "bar"})
		plan, n := ScaleDownOldReplicaSetsForRollingUpdate(d, []*appsv1.ReplicaSet{oldRS}, []*appsv1.ReplicaSet{oldRS})
		if (n > 0) != tt.scaleExpected {
			t.Errorf("#%d: scaled %d, want scaling %v", i, n, tt.scaleExpected)
			continue
		}
		if tt.scaleExpected && (len(plan) != 1 || plan[0].To != tt.expectedOld) {
			t.Errorf("#%d: plan %+v, want old at %d", i, plan, tt.expectedOld)
		}
	}
}

// rolling.go's worked example: 10 replicas, maxSurge 3, maxUnavailable 2.
func TestMaxScaledDownWorkedExample(t *testing.T) {
	d := newDeployment("foo", 10, nil, new(intstr.FromInt32(3)), new(intstr.FromInt32(2)), nil)
	old := rs("old", 8, nil, oldTimestamp)
	old.Status.AvailableReplicas = 8
	crashing := rs("new", 5, nil, newTimestamp)
	// new pods crashloop: 13 - 8 - 5 = 0, nothing more may go
	if got := MaxScaledDown(d, []*appsv1.ReplicaSet{old, crashing}, crashing); got != 0 {
		t.Errorf("crashlooping: %d, want 0", got)
	}
	// rolled back to the good template (4 of 5 available): 13 - 8 - 1 = 4
	good := rs("good", 5, nil, newTimestamp)
	good.Status.AvailableReplicas = 4
	if got := MaxScaledDown(d, []*appsv1.ReplicaSet{old, good}, good); got != 4 {
		t.Errorf("after rollback: %d, want 4", got)
	}
	// roll-over to a third template: new starts at 0, 13 - 8 - 0 = 5
	third := rs("third", 0, nil, newTimestamp)
	if got := MaxScaledDown(d, []*appsv1.ReplicaSet{old, crashing, third}, third); got != 5 {
		t.Errorf("roll-over: %d, want 5", got)
	}
	if n, _ := NewRSNewReplicas(d, []*appsv1.ReplicaSet{old, crashing, third}, third); n != 0 {
		t.Errorf("roll-over new ReplicaSet starts at %d, want 0", n)
	}
}

// A whole rolling update of 10 replicas with maxSurge 3 and maxUnavailable
// 2, pods becoming available at once: the step sequence ends at new 10, old 0.
func TestRollingStepSimulation(t *testing.T) {
	d := newDeployment("foo", 10, new(int32(10)), new(intstr.FromInt32(3)), new(intstr.FromInt32(2)), nil)
	old := rs("old", 10, nil, oldTimestamp)
	newRS := rs("new", 0, nil, newTimestamp)
	state := map[*appsv1.ReplicaSet]int32{old: 10, newRS: 0}
	apply := func(s ReplicaSetScale) {
		for r := range state {
			if r.Name == s.ReplicaSet.Name {
				state[r] = s.To
			}
		}
	}
	var trace []map[string]int32
	for i := 0; i < 20; i++ {
		for r, n := range state {
			r.Spec.Replicas = new(n)
			r.Status.Replicas, r.Status.AvailableReplicas = n, n
		}
		step, err := RollingStep(d, newRS, []*appsv1.ReplicaSet{old})
		if err != nil {
			t.Fatal(err)
		}
		if len(step.Scales) == 0 {
			break
		}
		for _, s := range step.Scales {
			apply(s)
		}
		trace = append(trace, map[string]int32{"old": state[old], "new": state[newRS]})
	}
	want := []map[string]int32{
		{"old": 10, "new": 3}, // surge 3
		{"old": 5, "new": 3},  // 13 available, min 8: old -5
		{"old": 5, "new": 8},
		{"old": 0, "new": 8},
		{"old": 0, "new": 10},
	}
	if len(trace) != len(want) {
		t.Fatalf("trace %v, want %v", trace, want)
	}
	for i := range want {
		if !maps.Equal(trace[i], want[i]) {
			t.Errorf("step %d: %v, want %v", i, trace[i], want[i])
		}
	}
}

func TestRollingStepCleanupOnlyWhenComplete(t *testing.T) {
	d := newDeployment("foo", 2, new(int32(0)), new(intstr.FromInt32(1)), nil, nil)
	newRS := rsWithAvailable("new", 2, 2, 2)
	old := rsWithStatus("old", 0, 0)
	if _, err := RollingStep(d, nil, nil); !errors.Is(err, ErrNoNewReplicaSet) {
		t.Errorf("nil new ReplicaSet: %v", err)
	}
	step, _ := RollingStep(d, newRS, []*appsv1.ReplicaSet{old})
	if len(step.Scales) != 0 || len(step.Cleanup) != 0 {
		t.Errorf("incomplete status: %+v", step)
	}
	d.Status = appsv1.DeploymentStatus{Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}
	step, _ = RollingStep(d, newRS, []*appsv1.ReplicaSet{old})
	if len(step.Cleanup) != 1 || step.Cleanup[0] != old {
		t.Errorf("complete: %+v", step)
	}
}
