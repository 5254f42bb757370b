package rollouts

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestLegacyRollback(t *testing.T) {
	tests := []struct {
		name       string
		annotation string // "" means absent
		n          int
		wantOK     bool
		wantType   string
		wantReason string
		wantText   string
		wantImage  string
	}{
		{name: "no annotation", n: 3},
		{name: "invalid annotation ignored", annotation: "x", n: 3},
		{name: "revision 0 is the last revision", annotation: "0", n: 3, wantOK: true,
			wantType: corev1.EventTypeNormal, wantReason: RollbackDone, wantText: `Rolled back deployment "moons" to revision 2`, wantImage: "foo:2"},
		{name: "explicit revision", annotation: "1", n: 3, wantOK: true,
			wantType: corev1.EventTypeNormal, wantReason: RollbackDone, wantText: `Rolled back deployment "moons" to revision 1`, wantImage: "foo:1"},
		{name: "no last revision", annotation: "0", n: 1, wantOK: true,
			wantType: corev1.EventTypeWarning, wantReason: RollbackRevisionNotFound, wantText: "Unable to find last revision.", wantImage: "foo:1"},
		{name: "missing revision", annotation: "9", n: 3, wantOK: true,
			wantType: corev1.EventTypeWarning, wantReason: RollbackRevisionNotFound, wantText: "Unable to find the revision to rollback to.", wantImage: "foo:3"},
		{name: "same template", annotation: "3", n: 3, wantOK: true,
			wantType: corev1.EventTypeWarning, wantReason: RollbackTemplateUnchanged, wantText: `The rollback revision contains the same template as current deployment "moons"`, wantImage: "foo:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, rss := rollbackFixture(tt.n, tt.n)
			if tt.annotation != "" {
				d.Annotations[appsv1.DeprecatedRollbackTo] = tt.annotation
			}
			res, ok := LegacyRollback(d, rss)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			if res.EventType != tt.wantType || res.Reason != tt.wantReason || res.Text != tt.wantText {
				t.Errorf("event %s %s %q", res.EventType, res.Reason, res.Text)
			}
			if _, still := res.Deployment.Annotations[appsv1.DeprecatedRollbackTo]; still {
				t.Errorf("annotation not cleared")
			}
			if img := res.Deployment.Spec.Template.Spec.Containers[0].Image; img != tt.wantImage {
				t.Errorf("image %s, want %s", img, tt.wantImage)
			}
			if _, ok := res.Deployment.Spec.Template.Labels[PodTemplateHashLabel]; ok {
				t.Errorf("hash label restored into the Deployment")
			}
			if d.Annotations[appsv1.DeprecatedRollbackTo] != tt.annotation {
				t.Errorf("input modified")
			}
		})
	}
}
