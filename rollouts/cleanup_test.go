package rollouts

import (
	"math"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// upstream TestDeploymentController_cleanupDeployment
func TestReplicaSetsToCleanupCounts(t *testing.T) {
	now := metav1.Now()
	alreadyDeleted := rsWithStatus("foo-1", 0, 0)
	alreadyDeleted.DeletionTimestamp = &now
	unobserved := rsWithStatus("foo-2", 0, 0)
	unobserved.Generation = 2
	unobserved.Status.ObservedGeneration = 1
	tests := []struct {
		name   string
		oldRSs []*appsv1.ReplicaSet
		limit  *int32
		want   int
	}{
		{"limit 1 of 3", []*appsv1.ReplicaSet{rsWithStatus("foo-1", 0, 0), rsWithStatus("foo-2", 0, 0), rsWithStatus("foo-3", 0, 0)}, new(int32(1)), 2},
		{"only fully scaled down ones", []*appsv1.ReplicaSet{rsWithStatus("foo-1", 0, 0), rsWithStatus("foo-2", 0, 1), rsWithStatus("foo-3", 1, 0), rsWithStatus("foo-4", 1, 1)}, new(int32(0)), 1},
		{"revisionHistoryLimit 0 deletes all scaled-down", []*appsv1.ReplicaSet{rsWithStatus("foo-1", 0, 0), rsWithStatus("foo-2", 0, 0)}, new(int32(0)), 2},
		{"none scaled down", []*appsv1.ReplicaSet{rsWithStatus("foo-1", 1, 1), rsWithStatus("foo-2", 1, 1)}, new(int32(0)), 0},
		{"already being deleted", []*appsv1.ReplicaSet{alreadyDeleted}, new(int32(0)), 0},
		{"unlimited", []*appsv1.ReplicaSet{rsWithStatus("foo-1", 0, 0), rsWithStatus("foo-2", 0, 0), rsWithStatus("foo-3", 0, 0)}, new(int32(math.MaxInt32)), 0},
		{"unset", []*appsv1.ReplicaSet{rsWithStatus("foo-1", 0, 0)}, nil, 0},
		{"not yet observed", []*appsv1.ReplicaSet{unobserved}, new(int32(0)), 0},
		{"within the limit", []*appsv1.ReplicaSet{rsWithStatus("foo-1", 0, 0)}, new(int32(10)), 0},
		{"negative limit (invalid) is bounded", []*appsv1.ReplicaSet{rsWithStatus("foo-1", 0, 0)}, new(int32(-3)), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeployment("foo", 1, tt.limit, nil, nil, map[string]string{"foo": "bar"})
			if got := ReplicaSetsToCleanup(d, tt.oldRSs); len(got) != tt.want {
				t.Errorf("deleting %v, want %d", names(got), tt.want)
			}
		})
	}
}

// upstream TestDeploymentController_cleanupDeploymentOrder: creation order
// foo-1 < foo-2 < foo-3 < foo-4 throughout; revision decides.
func TestReplicaSetsToCleanupOrder(t *testing.T) {
	now := time.Now()
	r := func(name string, replicas int32, at time.Time, revision string) *appsv1.ReplicaSet {
		x := rs(name, replicas, nil, metav1.NewTime(at))
		if revision != "" {
			withRevision(x, revision)
		}
		x.Status.Replicas = replicas
		return x
	}
	tests := []struct {
		name   string
		oldRSs []*appsv1.ReplicaSet
		limit  int32
		want   []string
	}{
		{"revision order: rs1 < rs2, delete rs1", []*appsv1.ReplicaSet{
			r("foo-1", 0, now.Add(-time.Minute), "1"), r("foo-2", 0, now, "2")}, 1, []string{"foo-1"}},
		{"revision order: rs2 < rs1, delete rs2", []*appsv1.ReplicaSet{
			r("foo-1", 0, now.Add(-time.Minute), "2"), r("foo-2", 0, now, "1")}, 1, []string{"foo-2"}},
		{"rs2 without revision is deleted", []*appsv1.ReplicaSet{
			r("foo-1", 0, now.Add(-time.Minute), "1"), r("foo-2", 0, now, "")}, 1, []string{"foo-2"}},
		{"rs1 without revision is deleted", []*appsv1.ReplicaSet{
			r("foo-1", 0, now.Add(-time.Minute), ""), r("foo-2", 0, now, "2")}, 1, []string{"foo-1"}},
		{"rs1 has replicas: rs2 deleted", []*appsv1.ReplicaSet{
			r("foo-1", 1, now.Add(-time.Minute), "1"), r("foo-2", 0, now, "2"), r("foo-3", 0, now.Add(time.Minute), "3")}, 1, []string{"foo-2"}},
		{"rs1 and rs2 have replicas: none deleted", []*appsv1.ReplicaSet{
			r("foo-1", 1, now.Add(-time.Minute), "1"), r("foo-2", 1, now, "2"), r("foo-3", 0, now.Add(time.Minute), "3")}, 1, nil},
		{"revision order rs2 < rs4 < rs1 < rs3: delete rs2 and rs4", []*appsv1.ReplicaSet{
			r("foo-1", 0, now.Add(-time.Minute), "3"), r("foo-2", 0, now, "1"), r("foo-3", 0, now.Add(time.Minute), "4"), r("foo-4", 0, now.Add(2*time.Minute), "2")}, 2, []string{"foo-2", "foo-4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeployment("foo", 1, new(tt.limit), nil, nil, map[string]string{"foo": "bar"})
			in := slices.Clone(tt.oldRSs)
			if got := names(ReplicaSetsToCleanup(d, tt.oldRSs)); !slices.Equal(got, tt.want) {
				t.Errorf("deleting %v, want %v", got, tt.want)
			}
			if !slices.Equal(in, tt.oldRSs) {
				t.Errorf("input reordered")
			}
		})
	}
}
