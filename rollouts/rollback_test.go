package rollouts

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// rollbackFixture: Deployment "moons" on image foo:<current>, and one
// ReplicaSet per revision 1..n with image foo:<rev> (created in order, the
// hash label set as the controller would).
func rollbackFixture(n, current int) (*appsv1.Deployment, []*appsv1.ReplicaSet) {
	d := newDeployment("moons", 1, nil, nil, nil, map[string]string{"foo": "bar"})
	d.Spec.Template.Spec.Containers[0].Image = fmt.Sprintf("foo:%d", current)
	d.Annotations = map[string]string{RevisionAnnotation: fmt.Sprint(current), ChangeCauseAnnotation: fmt.Sprintf("cause %d", current)}
	var rss []*appsv1.ReplicaSet
	for i := 1; i <= n; i++ {
		r := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{
				Name:              fmt.Sprintf("moons-%d", i),
				UID:               types.UID(fmt.Sprint(i)),
				CreationTimestamp: metav1.NewTime(olderTimestamp.Add(time.Duration(i) * time.Minute)),
				Annotations:       map[string]string{RevisionAnnotation: fmt.Sprint(i), ChangeCauseAnnotation: fmt.Sprintf("cause %d", i), DesiredReplicasAnnotation: "1"},
			},
			Spec: appsv1.ReplicaSetSpec{Replicas: new(int32(0)), Template: *d.Spec.Template.DeepCopy()},
		}
		r.Spec.Template.Spec.Containers[0].Image = fmt.Sprintf("foo:%d", i)
		r.Spec.Template.Labels = cloneAndAdd(r.Spec.Template.Labels, PodTemplateHashLabel, fmt.Sprintf("h%d", i))
		rss = append(rss, r)
	}
	return d, rss
}

func TestRollbackTarget(t *testing.T) {
	d, rss := rollbackFixture(4, 4)
	tests := []struct {
		name    string
		rss     []*appsv1.ReplicaSet
		to      int64
		want    string
		wantErr string
	}{
		{"previous revision", rss, 0, "moons-3", ""},
		{"explicit revision", rss, 2, "moons-2", ""},
		{"the current revision itself", rss, 4, "moons-4", ""},
		{"missing revision", rss, 7, "", "unable to find specified revision 7 in history"},
		{"negative revision", rss, -1, "", "unable to find specified revision -1 in history"},
		{"only one revision", rss[3:], 0, "", `no rollout history found for deployment "moons"`},
		{"no ReplicaSets", nil, 0, "", `no rollout history found for deployment "moons"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RollbackTarget(d, tt.rss, tt.to)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Name != tt.want {
				t.Fatalf("got %v, %v; want %s", got, err, tt.want)
			}
		})
	}
	// revisions out of creation order: the second highest wins
	shuffled := []*appsv1.ReplicaSet{withRevision(rss[0].DeepCopy(), "9"), rss[1], withRevision(rss[2].DeepCopy(), "1"), rss[3]}
	if got, _ := RollbackTarget(d, shuffled, 0); got.Annotations[RevisionAnnotation] != "4" {
		t.Errorf("previous of 9,2,1,4 = %s, want 4", got.Annotations[RevisionAnnotation])
	}
	// an unannotated ReplicaSet is revision 0 and can be the previous one (kubectl)
	bare := rss[0].DeepCopy()
	delete(bare.Annotations, RevisionAnnotation)
	if got, err := RollbackTarget(d, []*appsv1.ReplicaSet{bare, rss[3]}, 0); err != nil || got.Name != "moons-1" {
		t.Errorf("unannotated previous: %v %v", got, err)
	}
}

func TestPlanRollback(t *testing.T) {
	d, rss := rollbackFixture(2, 2)
	plan, err := PlanRollback(d, rss, 0)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Skipped || plan.Message != "rolled back" || plan.Target.Name != "moons-1" {
		t.Fatalf("plan %+v", plan)
	}
	if _, ok := plan.Template.Labels[PodTemplateHashLabel]; ok || plan.Template.Spec.Containers[0].Image != "foo:1" {
		t.Errorf("template %+v", plan.Template)
	}
	if rss[0].Spec.Template.Labels[PodTemplateHashLabel] != "h1" {
		t.Errorf("target ReplicaSet modified")
	}
	// annotations: d keeps its revision; change-cause comes back; replica annotations don't
	want := map[string]string{RevisionAnnotation: "2", ChangeCauseAnnotation: "cause 1"}
	if len(plan.Annotations) != len(want) || plan.Annotations[RevisionAnnotation] != "2" || plan.Annotations[ChangeCauseAnnotation] != "cause 1" {
		t.Errorf("annotations %v, want %v", plan.Annotations, want)
	}
	rolled := plan.Apply(d)
	if rolled.Spec.Template.Spec.Containers[0].Image != "foo:1" || d.Spec.Template.Spec.Containers[0].Image != "foo:2" {
		t.Errorf("Apply: rolled %s, original %s", rolled.Spec.Template.Spec.Containers[0].Image, d.Spec.Template.Spec.Containers[0].Image)
	}
	if !EqualIgnoreHash(&rolled.Spec.Template, &rss[0].Spec.Template) {
		t.Errorf("rolled-back template differs from the target's")
	}

	// already at that template: kubectl's skip message names the requested revision
	plan, err = PlanRollback(d, rss, 2)
	if err != nil || !plan.Skipped || plan.Message != "skipped rollback (current template already matches revision 2)" {
		t.Errorf("skip: %+v %v", plan, err)
	}
	if same := plan.Apply(d); same.Spec.Template.Spec.Containers[0].Image != "foo:2" {
		t.Errorf("skipped plan changed the template")
	}

	// paused: refused, but only after the target was found
	d.Spec.Paused = true
	if _, err = PlanRollback(d, rss, 0); err == nil || err.Error() != PausedRollbackMessage {
		t.Errorf("paused: %v", err)
	}
	if _, err = PlanRollback(d, rss, 9); err == nil || err.Error() != "unable to find specified revision 9 in history" {
		t.Errorf("paused, missing revision: %v", err)
	}
}

// The rollback of k8s-semantics.md 1.8 end to end: rev1 (A), rev2 (B)
// current; undo → A's ReplicaSet is new again as revision 3 with history
// "1"; history lists 2 and 3.
func TestRollbackRenumbering(t *testing.T) {
	d, rss := rollbackFixture(2, 2)
	plan, err := PlanRollback(d, rss, 0)
	if err != nil {
		t.Fatal(err)
	}
	d = plan.Apply(d)
	newRS := FindNewReplicaSet(d, rss)
	if newRS == nil || newRS.Name != "moons-1" {
		t.Fatalf("new ReplicaSet after undo: %v", newRS)
	}
	_, olds := FindOldReplicaSets(d, rss)
	synced, changed, _ := SyncExistingNewReplicaSet(d, newRS, olds, newTimestamp.Time)
	if !changed || synced.Annotations[RevisionAnnotation] != "3" || synced.Annotations[RevisionHistoryAnnotation] != "1" {
		t.Fatalf("after undo: %v", synced.Annotations)
	}
	h := History(d, []*appsv1.ReplicaSet{synced, rss[1]})
	if len(h) != 2 || h[0].Revision != 2 || h[1].Revision != 3 || h[1].ChangeCause != "cause 1" {
		t.Errorf("history %+v", h)
	}
}

func TestRollbackPlanTemplateKeepsEmptyLabels(t *testing.T) {
	d, rss := rollbackFixture(2, 2)
	rss[0].Spec.Template.Labels = map[string]string{PodTemplateHashLabel: "h1"}
	plan, err := PlanRollback(d, rss, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Template.Labels) != 0 {
		t.Errorf("labels %v", plan.Template.Labels)
	}
}
