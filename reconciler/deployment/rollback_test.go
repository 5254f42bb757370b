package deployment

import (
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// rolledOut seeds web at v2 (revision 2) with the v1 ReplicaSet
// (revision 1) scaled down, each with a change-cause.
func rolledOut(f *fixture, opts ...dOpt) *appsv1.Deployment {
	opts = append(opts, func(d *appsv1.Deployment) {
		d.Annotations = map[string]string{
			rollouts.ChangeCauseAnnotation:     "deploy v2",
			corev1.LastAppliedConfigAnnotation: `{"kept":true}`,
			rollouts.RevisionAnnotation:        "2",
		}
	})
	d := f.create(newDeployment("web", 2, "app:v2", opts...)).(*appsv1.Deployment)
	f.addRS(d, rsState{image: "app:v1", replicas: 0, revision: "1", owned: true,
		extraAnnotations: map[string]string{rollouts.ChangeCauseAnnotation: "deploy v1"}})
	f.addRS(d, rsState{image: "app:v2", replicas: 2, available: 2, revision: "2", owned: true,
		extraAnnotations: map[string]string{rollouts.ChangeCauseAnnotation: "deploy v2"}})
	return d
}

func TestRollbackErrors(t *testing.T) {
	tests := []struct {
		name       string
		toRevision int64
		setup      func(f *fixture)
		want       string
	}{
		{"negative revision", -1, func(f *fixture) { rolledOut(f) }, "unable to find specified revision -1 in history"},
		{"unknown revision", 7, func(f *fixture) { rolledOut(f) }, "unable to find specified revision 7 in history"},
		{"no previous revision", 0, func(f *fixture) {
			d := f.create(newDeployment("web", 1, "app:v1")).(*appsv1.Deployment)
			f.addRS(d, rsState{image: "app:v1", replicas: 1, revision: "1", owned: true})
		}, `no rollout history found for deployment "web"`},
		{"paused", 1, func(f *fixture) { rolledOut(f, paused()) }, rollouts.PausedRollbackMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(f)
			msg, err := Rollback(f.ctx, f.store, "default", "web", tt.toRevision)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Rollback = %q, %v; want error %q", msg, err, tt.want)
			}
		})
	}

	f := newFixture(t)
	if _, err := Rollback(f.ctx, f.store, "default", "missing", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing deployment: %v, want ErrNotFound", err)
	}
}

func TestRollbackSkipsCurrentTemplate(t *testing.T) {
	f := newFixture(t)
	rolledOut(f)
	before := f.deployment("web")
	msg, err := Rollback(f.ctx, f.store, "default", "web", 2)
	if err != nil || msg != "skipped rollback (current template already matches revision 2)" {
		t.Fatalf("Rollback = %q, %v", msg, err)
	}
	if after := f.deployment("web"); after.ResourceVersion != before.ResourceVersion {
		t.Error("a skipped rollback wrote the Deployment")
	}
}

// `rollout undo`, then the controller: the v1 ReplicaSet is reused and
// renumbered 3 with revision-history "1"; history lists 2 and 3.
func TestRollbackReusesReplicaSet(t *testing.T) {
	f := newFixture(t)
	d := rolledOut(f)
	v1 := rsName(d, "app:v1")
	msg, err := Rollback(f.ctx, f.store, "default", "web", 0)
	if err != nil || msg != "rolled back" {
		t.Fatalf("Rollback = %q, %v", msg, err)
	}
	got := f.deployment("web")
	if img := got.Spec.Template.Spec.Containers[0].Image; img != "app:v1" {
		t.Errorf("template image %q, want app:v1", img)
	}
	if _, ok := got.Spec.Template.Labels[rollouts.PodTemplateHashLabel]; ok {
		t.Error("pod-template-hash copied into the Deployment's template")
	}
	if got.Annotations[rollouts.ChangeCauseAnnotation] != "deploy v1" ||
		got.Annotations[corev1.LastAppliedConfigAnnotation] != `{"kept":true}` ||
		got.Annotations[rollouts.RevisionAnnotation] != "2" {
		t.Errorf("annotations %v", got.Annotations)
	}

	f.mustSync("web")
	f.mustSync("web")
	rs := f.rs(v1)
	if rs.Annotations[rollouts.RevisionAnnotation] != "3" || rs.Annotations[rollouts.RevisionHistoryAnnotation] != "1" {
		t.Errorf("reused ReplicaSet annotations %v, want revision 3, history 1", rs.Annotations)
	}
	if n := len(f.replicaSets()); n != 2 {
		t.Errorf("%d ReplicaSets, want the 2 existing ones", n)
	}
	if rev := f.deployment("web").Annotations[rollouts.RevisionAnnotation]; rev != "3" {
		t.Errorf("deployment revision %q, want 3", rev)
	}

	hist, err := History(f.ctx, f.store, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	want := "REVISION  CHANGE-CAUSE\n2         deploy v2\n3         deploy v1\n"
	if got := rollouts.FormatHistory(hist); got != want {
		t.Errorf("history\n%s\nwant\n%s", got, want)
	}

	// Undo again (to revision 2) reuses the v2 ReplicaSet as revision 4.
	if msg, err := Rollback(f.ctx, f.store, "default", "web", 2); err != nil || msg != "rolled back" {
		t.Fatalf("second Rollback = %q, %v", msg, err)
	}
	f.mustSync("web")
	if a := f.rs(rsName(d, "app:v2")).Annotations; a[rollouts.RevisionAnnotation] != "4" || a[rollouts.RevisionHistoryAnnotation] != "2" {
		t.Errorf("v2 annotations %v, want revision 4, history 2", a)
	}
}

// The legacy deprecated.deployment.rollback.to annotation (upstream's
// rollback.go and TestReentrantRollback): done, unchanged, not found.
func TestLegacyRollbackAnnotation(t *testing.T) {
	tests := []struct {
		name      string
		to        string
		wantImage string
		wantEvent string
	}{
		{"to revision 1", "1", "app:v1", `Normal DeploymentRollback Rolled back deployment "web" to revision 1`},
		{"to the last revision", "0", "app:v1", `Normal DeploymentRollback Rolled back deployment "web" to revision 1`},
		{"same template", "2", "app:v2", `Warning DeploymentRollbackTemplateUnchanged The rollback revision contains the same template as current deployment "web"`},
		{"unknown revision", "9", "app:v2", "Warning DeploymentRollbackRevisionNotFound Unable to find the revision to rollback to."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rolledOut(f)
			d := f.deployment("web")
			d.Annotations[appsv1.DeprecatedRollbackTo] = tt.to
			f.update(d)
			f.mustSync("web")
			got := f.deployment("web")
			if _, ok := got.Annotations[appsv1.DeprecatedRollbackTo]; ok {
				t.Error("rollback annotation not cleared")
			}
			if img := got.Spec.Template.Spec.Containers[0].Image; img != tt.wantImage {
				t.Errorf("image %q, want %q", img, tt.wantImage)
			}
			f.wantEvents(tt.wantEvent)
		})
	}
}
