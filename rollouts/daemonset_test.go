package rollouts

import (
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func rollingDS(maxUnavailable, maxSurge *intstr.IntOrString) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
		Type:          appsv1.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: maxUnavailable, MaxSurge: maxSurge},
	}}}
}

func ios(s string) *intstr.IntOrString { return new(intstr.FromString(s)) }
func ioi(i int32) *intstr.IntOrString  { return new(intstr.FromInt32(i)) }

func TestDaemonSetFenceposts(t *testing.T) {
	tests := []struct {
		name                       string
		ds                         *appsv1.DaemonSet
		desired                    int
		wantSurge, wantUnavailable int
	}{
		{"defaults", rollingDS(nil, nil), 5, 0, 1},
		{"number", rollingDS(ioi(2), ioi(0)), 5, 0, 2},
		{"percent rounds up", rollingDS(ios("30%"), ioi(0)), 5, 0, 2},
		{"10% of 3 rounds up to 1", rollingDS(ios("10%"), ioi(0)), 3, 0, 1},
		{"1% of 1 is 1", rollingDS(ios("1%"), ioi(0)), 1, 0, 1},
		{"surge percent rounds up", rollingDS(ioi(0), ios("20%")), 6, 2, 0},
		{"both 0 becomes unavailable 1", rollingDS(ios("0%"), ios("0%")), 4, 0, 1},
		{"no desired nodes", rollingDS(ios("0%"), ios("0%")), 0, 0, 0},
		{"OnDelete", &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}}}, 4, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, u, err := DaemonSetFenceposts(tt.ds, tt.desired)
			if err != nil || s != tt.wantSurge || u != tt.wantUnavailable {
				t.Fatalf("DaemonSetFenceposts = %d, %d, %v; want %d, %d", s, u, err, tt.wantSurge, tt.wantUnavailable)
			}
		})
	}
	// A Deployment rounds the same percentage down.
	if _, u, _ := ResolveFenceposts(ioi(0), ios("30%"), 5); u != 1 {
		t.Fatalf("Deployment 30%% of 5 = %d, want 1", u)
	}
}

func dsWithImage(image string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Annotations: map[string]string{"a": "b"}},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent", "z": "1"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
		}},
	}
}

func TestDaemonSetPatchRoundTrip(t *testing.T) {
	ds := dsWithImage("agent:v1")
	patch, err := DaemonSetPatch(ds)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(patch), `{"spec":{"template":{"$patch":"replace","metadata":`) {
		t.Fatalf("patch %s", patch)
	}
	rev := &appsv1.ControllerRevision{Data: runtime.RawExtension{Raw: patch}, Revision: 1}
	if ok, _ := DaemonSetRevisionMatches(ds, rev); !ok {
		t.Fatal("revision does not match its own DaemonSet")
	}
	if ok, _ := DaemonSetRevisionMatches(dsWithImage("agent:v2"), rev); ok {
		t.Fatal("revision matches another template")
	}
	// Map order never matters.
	again := dsWithImage("agent:v1")
	again.Spec.Template.Labels = map[string]string{"z": "1", "app": "agent"}
	if ok, _ := DaemonSetRevisionMatches(again, rev); !ok {
		t.Fatal("label order changed the patch")
	}
	tmpl, err := DaemonSetRevisionTemplate(rev)
	if err != nil || tmpl.Spec.Containers[0].Image != "agent:v1" || tmpl.Labels["app"] != "agent" {
		t.Fatalf("template %+v, %v", tmpl, err)
	}
	if _, err := DaemonSetRevisionTemplate(&appsv1.ControllerRevision{Data: runtime.RawExtension{Raw: []byte(`{}`)}}); err == nil {
		t.Fatal("no template: no error")
	}
}

func revs(nums ...int64) []*appsv1.ControllerRevision {
	var out []*appsv1.ControllerRevision
	for _, n := range nums {
		out = append(out, &appsv1.ControllerRevision{
			ObjectMeta: metav1.ObjectMeta{Name: "r" + itoa(n), Labels: map[string]string{appsv1.DefaultDaemonSetUniqueLabelKey: "h" + itoa(n)}},
			Revision:   n,
		})
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func revNames(rs []*appsv1.ControllerRevision) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Name)
	}
	return strings.Join(s, ",")
}

func TestDaemonSetRollbackTarget(t *testing.T) {
	tests := []struct {
		name    string
		revs    []*appsv1.ControllerRevision
		to      int64
		want    string
		wantErr string
	}{
		{"previous", revs(3, 1, 2), 0, "r2", ""},
		{"exact", revs(1, 2, 3), 1, "r1", ""},
		{"only one", revs(1), 0, "", "no last revision to roll back to"},
		{"missing", revs(1, 2), 7, "", "unable to find specified revision 7 in history"},
		{"negative", revs(1, 2), -1, "", "unable to find specified revision -1 in history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DaemonSetRollbackTarget(tt.revs, tt.to)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Name != tt.want {
				t.Fatalf("target %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestRevisionsToCleanup(t *testing.T) {
	tests := []struct {
		name  string
		old   []*appsv1.ControllerRevision
		limit int32
		live  map[string]bool
		want  string
	}{
		{"within limit", revs(1, 2), 2, nil, ""},
		{"oldest first", revs(3, 1, 2, 4), 2, nil, "r1,r2"},
		{"live hash kept", revs(1, 2, 3), 1, map[string]bool{"h1": true}, "r2,r3"},
		{"limit 0", revs(1, 2), 0, nil, "r1,r2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := revNames(RevisionsToCleanup(tt.old, tt.limit, tt.live)); got != tt.want {
				t.Fatalf("cleanup %q, want %q", got, tt.want)
			}
		})
	}
	if r := NewestRevision(revs(2, 5, 3)); r.Revision != 5 {
		t.Fatalf("newest %d", r.Revision)
	}
	if m := MaxRevisionNumber(revs(2, 5, 3)); m != 5 {
		t.Fatalf("max %d", m)
	}
}

// daemonPod is a pod of revision hash, Ready since readySince ago (never
// Ready when negative), terminating when deleting.
func daemonPod(name, hash string, readySince time.Duration, deleting bool, now time.Time) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{appsv1.DefaultDaemonSetUniqueLabelKey: hash}}}
	if readySince >= 0 {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-readySince))}}
	}
	if deleting {
		p.DeletionTimestamp = new(metav1.NewTime(now))
	}
	return p
}

func TestDaemonSetRollingUpdatePlan(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := func(name string) *corev1.Pod { return daemonPod(name, "old", time.Hour, false, now) }
	oldDown := func(name string) *corev1.Pod { return daemonPod(name, "old", -1, false, now) }
	newUp := func(name string) *corev1.Pod { return daemonPod(name, "new", time.Hour, false, now) }
	newDown := func(name string) *corev1.Pod { return daemonPod(name, "new", -1, false, now) }
	node := func(name string, run bool, pods ...*corev1.Pod) DaemonSetNode {
		return DaemonSetNode{Name: name, ShouldRun: run, Pods: pods}
	}
	podNames := func(ps []*corev1.Pod) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.Name)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name       string
		ds         *appsv1.DaemonSet
		nodes      []DaemonSetNode
		wantDelete string
		wantCreate string
	}{
		{"unavailable 1: one old pod goes", rollingDS(ioi(1), ioi(0)),
			[]DaemonSetNode{node("a", true, old("a1")), node("b", true, old("b1")), node("c", true, old("c1"))}, "a1", ""},
		{"unavailable 2: two go", rollingDS(ioi(2), ioi(0)),
			[]DaemonSetNode{node("a", true, old("a1")), node("b", true, old("b1")), node("c", true, old("c1"))}, "a1,b1", ""},
		{"budget used by a new pod not yet available", rollingDS(ioi(1), ioi(0)),
			[]DaemonSetNode{node("a", true, newDown("a2")), node("b", true, old("b1"))}, "", ""},
		{"budget used by a node without pod", rollingDS(ioi(1), ioi(0)),
			[]DaemonSetNode{node("a", true), node("b", true, old("b1"))}, "", ""},
		{"terminating pod: node counts down", rollingDS(ioi(1), ioi(0)),
			[]DaemonSetNode{node("a", true, daemonPod("a1", "old", time.Hour, true, now)), node("b", true, old("b1"))}, "", ""},
		{"unavailable old pods go regardless", rollingDS(ioi(1), ioi(0)),
			[]DaemonSetNode{node("a", true, oldDown("a1")), node("b", true, oldDown("b1")), node("c", true, old("c1"))}, "a1,b1", ""},
		{"updated nodes are left alone", rollingDS(ioi(1), ioi(0)),
			[]DaemonSetNode{node("a", true, newUp("a2")), node("b", true, old("b1"))}, "b1", ""},
		{"surge: new pod next to an available old one", rollingDS(ioi(0), ioi(1)),
			[]DaemonSetNode{node("a", true, old("a1")), node("b", true, old("b1"))}, "", "a"},
		{"surge: old pod down, new one at once", rollingDS(ioi(0), ioi(1)),
			[]DaemonSetNode{node("a", true, oldDown("a1")), node("b", true, oldDown("b1"))}, "", "a,b"},
		{"surge: waiting for the new pod", rollingDS(ioi(0), ioi(1)),
			[]DaemonSetNode{node("a", true, old("a1"), newDown("a2")), node("b", true, old("b1"))}, "", ""},
		{"surge: new pod available, old goes", rollingDS(ioi(0), ioi(1)),
			[]DaemonSetNode{node("a", true, old("a1"), newUp("a2")), node("b", true, old("b1"))}, "a1", "b"},
		{"surge: placement moved, old goes once enough are available", rollingDS(ioi(0), ioi(1)),
			[]DaemonSetNode{node("a", false, old("a1")), node("b", true, newUp("b2"))}, "a1", ""},
		{"surge: placement moved, old stays while the new is down", rollingDS(ioi(0), ioi(1)),
			[]DaemonSetNode{node("a", false, old("a1")), node("b", true, newDown("b2"))}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := DaemonSetRollingUpdate(tt.ds, tt.nodes, "new", nil, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := podNames(plan.Delete); got != tt.wantDelete {
				t.Errorf("delete %q, want %q", got, tt.wantDelete)
			}
			if got := strings.Join(plan.CreateOn, ","); got != tt.wantCreate {
				t.Errorf("create on %q, want %q", got, tt.wantCreate)
			}
		})
	}
}

func TestIsDaemonPodUpdated(t *testing.T) {
	gen := int64(3)
	tests := []struct {
		labels map[string]string
		want   bool
	}{
		{map[string]string{appsv1.DefaultDaemonSetUniqueLabelKey: "h"}, true},
		{map[string]string{appsv1.DefaultDaemonSetUniqueLabelKey: "x", DaemonSetTemplateGenerationLabel: "3"}, true},
		{map[string]string{appsv1.DefaultDaemonSetUniqueLabelKey: "x", DaemonSetTemplateGenerationLabel: "2"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: tt.labels}}
		if got := IsDaemonPodUpdated(p, "h", &gen); got != tt.want {
			t.Errorf("IsDaemonPodUpdated(%v) = %v, want %v", tt.labels, got, tt.want)
		}
	}
}
