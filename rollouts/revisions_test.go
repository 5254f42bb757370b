package rollouts

import (
	"fmt"
	"math"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestRevisionNumbers(t *testing.T) {
	r := func(name, rev string) *appsv1.ReplicaSet {
		x := rs(name, 0, nil, metav1.Time{})
		if rev != "" {
			withRevision(x, rev)
		}
		return x
	}
	tests := []struct {
		name      string
		rss       []*appsv1.ReplicaSet
		max, last int64
		next      string
	}{
		{"none", nil, 0, 0, "1"},
		{"unannotated counts as 0", []*appsv1.ReplicaSet{r("a", "")}, 0, 0, "1"},
		{"one", []*appsv1.ReplicaSet{r("a", "1")}, 1, 0, "2"},
		{"several, unordered", []*appsv1.ReplicaSet{r("a", "3"), r("b", "7"), r("c", "5")}, 7, 5, "8"},
		{"unparseable skipped", []*appsv1.ReplicaSet{r("a", "x"), r("b", "2"), nil}, 2, 0, "3"},
		{"duplicate max", []*appsv1.ReplicaSet{r("a", "4"), r("b", "4")}, 4, 4, "5"},
		// e2e: adopting a ReplicaSet annotated 3546343826724305832
		{"adopted huge revision", []*appsv1.ReplicaSet{r("a", "3546343826724305832")}, 3546343826724305832, 0, "3546343826724305833"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaxRevision(tt.rss); got != tt.max {
				t.Errorf("MaxRevision = %d, want %d", got, tt.max)
			}
			if got := LastRevision(tt.rss); got != tt.last {
				t.Errorf("LastRevision = %d, want %d", got, tt.last)
			}
			if got := NextRevision(tt.rss); got != tt.next {
				t.Errorf("NextRevision = %q, want %q", got, tt.next)
			}
		})
	}
	if _, err := Revision(r("a", "x")); err == nil {
		t.Errorf("Revision of \"x\" did not fail")
	}
}

// upstream TestAnnotationUtils, SetNewReplicaSetAnnotations part: revisions
// 11..20 with a 5-character history limit keep the last two old revisions.
func TestSetNewReplicaSetAnnotationsHistoryLimit(t *testing.T) {
	d := generateDeployment("nginx")
	d.Annotations[RevisionAnnotation] = "1"
	r := generateRS(d, "r")
	for i := 10; i < 20; i++ {
		next := fmt.Sprint(i + 1)
		SetNewReplicaSetAnnotations(d, r, next, true, 5)
		if i >= 12 {
			if want := fmt.Sprintf("%d,%d", i-1, i); r.Annotations[RevisionHistoryAnnotation] != want {
				t.Errorf("i=%d: history %q, want %q", i, r.Annotations[RevisionHistoryAnnotation], want)
			}
		}
		if r.Annotations[RevisionAnnotation] != next {
			t.Errorf("i=%d: revision %q, want %q", i, r.Annotations[RevisionAnnotation], next)
		}
	}
}

// The rollback numbering of k8s-semantics.md 1.8: A is revision 1, B is
// revision 2; undo brings A back as revision 3 with history "1"; another
// round trip gives "1,3".
func TestSetNewReplicaSetAnnotationsRollback(t *testing.T) {
	d := newDeployment("web", 3, nil, nil, nil, nil)
	a := rs("web-a", 0, nil, oldTimestamp)
	b := rs("web-b", 3, nil, newTimestamp)

	if !SetNewReplicaSetAnnotations(d, a, "1", false, MaxRevisionHistoryLengthInChars) {
		t.Fatal("first revision reported no change")
	}
	SetNewReplicaSetAnnotations(d, b, NextRevision([]*appsv1.ReplicaSet{a}), false, MaxRevisionHistoryLengthInChars)
	if b.Annotations[RevisionAnnotation] != "2" || b.Annotations[RevisionHistoryAnnotation] != "" {
		t.Fatalf("b: %v", b.Annotations)
	}
	// undo: A is the new ReplicaSet again
	if !SetNewReplicaSetAnnotations(d, a, NextRevision([]*appsv1.ReplicaSet{b}), true, MaxRevisionHistoryLengthInChars) {
		t.Fatal("rollback reported no change")
	}
	if a.Annotations[RevisionAnnotation] != "3" || a.Annotations[RevisionHistoryAnnotation] != "1" {
		t.Fatalf("after undo: %v", a.Annotations)
	}
	// undo again: B becomes 4 with history "2"; then A becomes 5 with "1,3"
	SetNewReplicaSetAnnotations(d, b, NextRevision([]*appsv1.ReplicaSet{a}), true, MaxRevisionHistoryLengthInChars)
	SetNewReplicaSetAnnotations(d, a, NextRevision([]*appsv1.ReplicaSet{b}), true, MaxRevisionHistoryLengthInChars)
	if b.Annotations[RevisionHistoryAnnotation] != "2" || a.Annotations[RevisionAnnotation] != "5" || a.Annotations[RevisionHistoryAnnotation] != "1,3" {
		t.Fatalf("a %v, b %v", a.Annotations, b.Annotations)
	}
	// a revision already ahead stays (old ReplicaSets were deleted meanwhile)
	if SetNewReplicaSetAnnotations(d, a, "2", true, MaxRevisionHistoryLengthInChars) || a.Annotations[RevisionAnnotation] != "5" {
		t.Errorf("revision went backwards: %v", a.Annotations)
	}
	// comparison is numeric, not lexical ("10" > "9")
	c := withRevision(rs("c", 0, nil, oldTimestamp), "9")
	SetNewReplicaSetAnnotations(d, c, "10", true, MaxRevisionHistoryLengthInChars)
	if c.Annotations[RevisionAnnotation] != "10" || c.Annotations[RevisionHistoryAnnotation] != "9" {
		t.Errorf("numeric compare: %v", c.Annotations)
	}
}

func TestSetNewReplicaSetAnnotationsHistoryCap(t *testing.T) {
	d := newDeployment("web", 1, nil, nil, nil, nil)
	// 1000 old revisions of 1-4 digits: the history stays within 2000
	// characters, keeps the newest entries and drops from the front.
	r := withRevision(rs("r", 1, nil, oldTimestamp), "1")
	for rev := 2; rev <= 1000; rev++ {
		SetNewReplicaSetAnnotations(d, r, fmt.Sprint(rev), true, MaxRevisionHistoryLengthInChars)
	}
	h := r.Annotations[RevisionHistoryAnnotation]
	if len(h) > MaxRevisionHistoryLengthInChars || !strings.HasSuffix(h, ",998,999") || strings.HasPrefix(h, "1,") {
		t.Errorf("history (%d chars) = %.40q...%q", len(h), h, h[len(h)-20:])
	}
}

func TestSetNewReplicaSetAnnotationsCopies(t *testing.T) {
	d := newDeployment("web", 10, nil, new(intstr.FromString("25%")), nil, nil)
	d.Annotations = map[string]string{
		"team":                             "a",
		ChangeCauseAnnotation:              "edit",
		corev1.LastAppliedConfigAnnotation: "{}",
		RevisionAnnotation:                 "9",
		RevisionHistoryAnnotation:          "1,2",
		DesiredReplicasAnnotation:          "4",
		MaxReplicasAnnotation:              "5",
		appsv1.DeprecatedRollbackTo:        "3",
	}
	r := rs("r", 0, nil, oldTimestamp)
	SetNewReplicaSetAnnotations(d, r, "1", false, MaxRevisionHistoryLengthInChars)
	want := map[string]string{
		"team": "a", ChangeCauseAnnotation: "edit", RevisionAnnotation: "1",
		DesiredReplicasAnnotation: "10", MaxReplicasAnnotation: "13",
	}
	if len(r.Annotations) != len(want) {
		t.Errorf("annotations %v, want %v", r.Annotations, want)
	}
	for k, v := range want {
		if r.Annotations[k] != v {
			t.Errorf("%s = %q, want %q", k, r.Annotations[k], v)
		}
	}
	// existing ReplicaSet: replica annotations are not set here, and a
	// second pass changes nothing
	e := withRevision(rs("e", 3, nil, oldTimestamp), "1")
	if !SetNewReplicaSetAnnotations(d, e, "1", true, MaxRevisionHistoryLengthInChars) {
		t.Errorf("copy not reported")
	}
	if _, ok := e.Annotations[DesiredReplicasAnnotation]; ok {
		t.Errorf("desired-replicas set on an existing ReplicaSet")
	}
	if SetNewReplicaSetAnnotations(d, e, "1", true, MaxRevisionHistoryLengthInChars) {
		t.Errorf("second pass reported a change")
	}
	// an unparseable revision on the ReplicaSet: left alone, false
	bad := withRevision(rs("bad", 1, nil, oldTimestamp), "x")
	if SetNewReplicaSetAnnotations(d, bad, "2", true, MaxRevisionHistoryLengthInChars) || bad.Annotations[RevisionAnnotation] != "x" {
		t.Errorf("unparseable revision: %v", bad.Annotations)
	}
}

// upstream TestAnnotationUtils: SetReplicasAnnotations and IsSaturated
func TestSetReplicasAnnotationsAndIsSaturated(t *testing.T) {
	d := generateDeployment("nginx")
	r := generateRS(d, "r")
	if !SetReplicasAnnotations(r, 10, 11) {
		t.Fatal("SetReplicasAnnotations reported no change")
	}
	if r.Annotations[DesiredReplicasAnnotation] != "10" || r.Annotations[MaxReplicasAnnotation] != "11" {
		t.Errorf("annotations %v", r.Annotations)
	}
	if SetReplicasAnnotations(r, 10, 11) {
		t.Errorf("second call reported a change")
	}
	r.Annotations[DesiredReplicasAnnotation] = "1"
	r.Status.AvailableReplicas = 1
	r.Spec.Replicas = new(int32(1))
	if !IsSaturated(d, r) {
		t.Errorf("IsSaturated = false")
	}
	r.Status.AvailableReplicas = 0
	if IsSaturated(d, r) {
		t.Errorf("IsSaturated with nothing available")
	}
	if IsSaturated(d, nil) {
		t.Errorf("IsSaturated(nil)")
	}
}

// upstream TestReplicasAnnotationsNeedUpdate
func TestReplicasAnnotationsNeedUpdate(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		want        bool
	}{
		{"test Annotations nil", nil, true},
		{"test desiredReplicas update", map[string]string{DesiredReplicasAnnotation: "8", MaxReplicasAnnotation: "20"}, true},
		{"test maxReplicas update", map[string]string{DesiredReplicasAnnotation: "10", MaxReplicasAnnotation: "16"}, true},
		{"test needn't update", map[string]string{DesiredReplicasAnnotation: "10", MaxReplicasAnnotation: "20"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rs("hello", 1, nil, metav1.Time{})
			r.Annotations = tt.annotations
			if got := ReplicasAnnotationsNeedUpdate(r, 10, 20); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// upstream TestGetNonNegativeInt32FromAnnotation
func TestNonNegativeInt32Annotation(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		value       int32
		valid       bool
		errContains string
	}{
		{name: "invalid empty"},
		{name: "invalid", annotations: map[string]string{"test": "invalid", "foo": "2"}, errContains: "invalid syntax"},
		{name: "invalid negative", annotations: map[string]string{"test": "-1", "foo": "2"}, errContains: "invalid syntax"},
		{name: "valid zero", annotations: map[string]string{"test": "0", "foo": "2"}, value: 0, valid: true},
		{name: "valid", annotations: map[string]string{"test": "13", "foo": "2"}, value: 13, valid: true},
		{name: "valid max", annotations: map[string]string{"test": fmt.Sprint(math.MaxInt32), "foo": "2"}, value: math.MaxInt32, valid: true},
		{name: "invalid max out of range", annotations: map[string]string{"test": fmt.Sprint(uint32(math.MaxInt32) + 1), "foo": "2"}, errContains: "out of range"},
		{name: "invalid max out of range 2", annotations: map[string]string{"test": fmt.Sprint(uint64(math.MaxUint32) + 1), "foo": "2"}, errContains: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rs("r", 1, nil, metav1.Time{})
			r.Annotations = tt.annotations
			v, ok, err := nonNegativeInt32Annotation(r, "test")
			if v != tt.value || ok != tt.valid {
				t.Errorf("got %d,%v want %d,%v", v, ok, tt.value, tt.valid)
			}
			if (err == nil) != (tt.errContains == "") || (err != nil && !strings.Contains(err.Error(), tt.errContains)) {
				t.Errorf("err = %v, want containing %q", err, tt.errContains)
			}
		})
	}
}

func TestRollbackAnnotations(t *testing.T) {
	d := newDeployment("web", 1, nil, nil, nil, nil)
	d.Annotations = map[string]string{RevisionAnnotation: "2", ChangeCauseAnnotation: "edit", "team": "b", corev1.LastAppliedConfigAnnotation: "{}"}
	r := rs("r", 0, nil, oldTimestamp)
	r.Annotations = map[string]string{RevisionAnnotation: "1", ChangeCauseAnnotation: "create", DesiredReplicasAnnotation: "1", "owner": "x"}
	SetDeploymentAnnotationsTo(d, r)
	want := map[string]string{RevisionAnnotation: "2", ChangeCauseAnnotation: "create", corev1.LastAppliedConfigAnnotation: "{}", "owner": "x"}
	if len(d.Annotations) != len(want) {
		t.Errorf("annotations %v, want %v", d.Annotations, want)
	}
	for k, v := range want {
		if d.Annotations[k] != v {
			t.Errorf("%s = %q, want %q", k, d.Annotations[k], v)
		}
	}
}

func TestSetDeploymentRevision(t *testing.T) {
	d := &appsv1.Deployment{}
	if !SetDeploymentRevision(d, "3") || d.Annotations[RevisionAnnotation] != "3" || SetDeploymentRevision(d, "3") {
		t.Errorf("SetDeploymentRevision: %v", d.Annotations)
	}
}

func TestIsScalingEvent(t *testing.T) {
	d := newDeployment("web", 5, nil, nil, nil, nil)
	annotated := func(name string, replicas int32, desired string) *appsv1.ReplicaSet {
		r := rs(name, replicas, nil, oldTimestamp)
		if desired != "" {
			r.Annotations = map[string]string{DesiredReplicasAnnotation: desired}
		}
		return r
	}
	tests := []struct {
		name   string
		newRS  *appsv1.ReplicaSet
		oldRSs []*appsv1.ReplicaSet
		want   bool
	}{
		{"all current", annotated("new", 5, "5"), nil, false},
		{"active new annotated differently", annotated("new", 5, "3"), nil, true},
		{"inactive old annotated differently", annotated("new", 5, "5"), []*appsv1.ReplicaSet{annotated("old", 0, "3")}, false},
		{"active old annotated differently", annotated("new", 2, "5"), []*appsv1.ReplicaSet{annotated("old", 3, "4")}, true},
		{"no annotation", annotated("new", 5, ""), nil, false},
		{"no new ReplicaSet", nil, []*appsv1.ReplicaSet{annotated("old", 3, "4")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsScalingEvent(d, tt.newRS, tt.oldRSs); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
