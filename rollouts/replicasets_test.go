package rollouts

import (
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// upstream TestEqualIgnoreHash, both argument orders
func TestEqualIgnoreHash(t *testing.T) {
	tpl := func(name, node string, annotations, labels map[string]string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations, Labels: labels},
			Spec:       corev1.PodSpec{NodeName: node},
		}
	}
	h := PodTemplateHashLabel
	tests := []struct {
		name           string
		former, latter corev1.PodTemplateSpec
		want           bool
	}{
		{"Same spec, same labels",
			tpl("foo", "foo-node", map[string]string{}, map[string]string{h: "value-1", "something": "else"}),
			tpl("foo", "foo-node", map[string]string{}, map[string]string{h: "value-1", "something": "else"}), true},
		{"Same spec, only pod-template-hash label value is different",
			tpl("foo", "foo-node", map[string]string{}, map[string]string{h: "value-1", "something": "else"}),
			tpl("foo", "foo-node", map[string]string{}, map[string]string{h: "value-2", "something": "else"}), true},
		{"Same spec, the former doesn't have pod-template-hash label",
			tpl("foo", "foo-node", map[string]string{}, map[string]string{"something": "else"}),
			tpl("foo", "foo-node", map[string]string{}, map[string]string{h: "value-2", "something": "else"}), true},
		{"Same spec, the label is different, the former doesn't have pod-template-hash label, same number of labels",
			tpl("foo", "foo-node", map[string]string{}, map[string]string{"something": "else"}),
			tpl("foo", "foo-node", map[string]string{}, map[string]string{h: "value-2"}), false},
		{"Same spec, the label is different, the latter doesn't have pod-template-hash label, same number of labels",
			tpl("foo", "foo-node", map[string]string{}, map[string]string{h: "value-1"}),
			tpl("foo", "foo-node", map[string]string{}, map[string]string{"something": "else"}), false},
		{"Same spec, the label is different, and the pod-template-hash label value is the same",
			tpl("foo", "foo-node", map[string]string{}, map[string]string{h: "value-1"}),
			tpl("foo", "foo-node", map[string]string{}, map[string]string{h: "value-1", "something": "else"}), false},
		{"Different spec, same labels",
			tpl("foo", "foo-node", map[string]string{"former": "value"}, map[string]string{h: "value-1", "something": "else"}),
			tpl("foo", "foo-node", map[string]string{"latter": "value"}, map[string]string{h: "value-1", "something": "else"}), false},
		{"Different spec, different pod-template-hash label value",
			tpl("foo-1", "foo-node", map[string]string{}, map[string]string{h: "value-1", "something": "else"}),
			tpl("foo-2", "foo-node", map[string]string{}, map[string]string{h: "value-2", "something": "else"}), false},
		{"Different spec, the former doesn't have pod-template-hash label",
			tpl("foo-1", "foo-node-1", map[string]string{}, map[string]string{"something": "else"}),
			tpl("foo-2", "foo-node-2", map[string]string{}, map[string]string{h: "value-2", "something": "else"}), false},
		{"Different spec, different labels",
			tpl("foo", "foo-node-1", map[string]string{}, map[string]string{"something": "else"}),
			tpl("foo", "foo-node-2", map[string]string{}, map[string]string{"nothing": "else"}), false},
		// semantic equality: 1000m == 1 CPU, nil == empty map
		{"Semantic quantities and empty maps", func() corev1.PodTemplateSpec {
			t := tpl("foo", "", nil, nil)
			t.Spec.Containers = []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: mustQuantity("1000m")}}}}
			return t
		}(), func() corev1.PodTemplateSpec {
			t := tpl("foo", "", map[string]string{}, map[string]string{h: "x"})
			t.Spec.Containers = []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: mustQuantity("1")}}}}
			return t
		}(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rev := range []bool{false, true} {
				a, b := tt.former.DeepCopy(), tt.latter.DeepCopy()
				if rev {
					a, b = b, a
				}
				if got := EqualIgnoreHash(a, b); got != tt.want {
					t.Errorf("reversed=%v: got %v, want %v", rev, got, tt.want)
				}
				if tt.former.Labels != nil && tt.latter.Labels != nil && (a.Labels == nil || b.Labels == nil) {
					t.Errorf("labels became nil")
				}
			}
		})
	}
	// the hash label of the arguments is left alone
	a := tpl("foo", "", nil, map[string]string{h: "v"})
	EqualIgnoreHash(&a, &a)
	if a.Labels[h] != "v" {
		t.Errorf("EqualIgnoreHash modified its argument")
	}
}

// upstream TestFindNewReplicaSet
func TestFindNewReplicaSet(t *testing.T) {
	now := metav1.Now()
	later := metav1.NewTime(now.Add(time.Minute))
	d := generateDeployment("nginx")
	newRS := generateRS(d, "new")
	newRS.Labels[PodTemplateHashLabel] = "hash"
	newRS.CreationTimestamp = later
	newRSDup := generateRS(d, "new-dup")
	newRSDup.Labels[PodTemplateHashLabel] = "different-hash"
	newRSDup.CreationTimestamp = now
	oldD := generateDeployment("nginx")
	oldD.Spec.Template.Spec.Containers[0].Name = "nginx-old-1"
	oldRS := generateRS(oldD, "old")

	tests := []struct {
		name string
		rss  []*appsv1.ReplicaSet
		want *appsv1.ReplicaSet
	}{
		{"Get new ReplicaSet with the same template as Deployment spec but different pod-template-hash value", []*appsv1.ReplicaSet{newRS, oldRS}, newRS},
		{"Get the oldest new ReplicaSet when there are more than one ReplicaSet with the same template", []*appsv1.ReplicaSet{newRS, oldRS, newRSDup}, newRSDup},
		{"Get nil new ReplicaSet", []*appsv1.ReplicaSet{oldRS}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.rss)
			if got := FindNewReplicaSet(d, tt.rss); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if !slices.Equal(in, tt.rss) {
				t.Errorf("input reordered")
			}
		})
	}
}

// upstream TestFindOldReplicaSets
func TestFindOldReplicaSets(t *testing.T) {
	now := metav1.Now()
	later := metav1.NewTime(now.Add(time.Minute))
	before := metav1.NewTime(now.Add(-time.Minute))
	d := generateDeployment("nginx")
	newRS := generateRS(d, "new")
	newRS.Spec.Replicas = new(int32(1))
	newRS.Labels[PodTemplateHashLabel] = "hash"
	newRS.CreationTimestamp = later
	newRSDup := generateRS(d, "new-dup")
	newRSDup.Labels[PodTemplateHashLabel] = "different-hash"
	newRSDup.CreationTimestamp = now
	oldD := generateDeployment("nginx")
	oldD.Spec.Template.Spec.Containers[0].Name = "nginx-old-1"
	oldRS := generateRS(oldD, "old")
	oldRS.CreationTimestamp = before

	tests := []struct {
		name       string
		rss        []*appsv1.ReplicaSet
		wantAll    []string
		wantActive []string
	}{
		{"Get old ReplicaSets", []*appsv1.ReplicaSet{newRS, oldRS}, []string{"old"}, nil},
		{"Get old ReplicaSets with no new ReplicaSet", []*appsv1.ReplicaSet{oldRS}, []string{"old"}, nil},
		{"Get old ReplicaSets with two new ReplicaSets, only the oldest new ReplicaSet is seen as new ReplicaSet",
			[]*appsv1.ReplicaSet{oldRS, newRS, newRSDup}, []string{"old", "new"}, []string{"new"}},
		{"Get empty old ReplicaSets", []*appsv1.ReplicaSet{newRS}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			active, all := FindOldReplicaSets(d, tt.rss)
			if got := names(all); !slices.Equal(got, tt.wantAll) {
				t.Errorf("all = %v, want %v", got, tt.wantAll)
			}
			if got := names(active); !slices.Equal(got, tt.wantActive) {
				t.Errorf("active = %v, want %v", got, tt.wantActive)
			}
		})
	}
}

// upstream TestGetReplicaCountForReplicaSets
func TestGetReplicaCountForReplicaSets(t *testing.T) {
	rs1 := rs("rs1", 1, nil, metav1.Time{})
	rs1.Status = appsv1.ReplicaSetStatus{ObservedGeneration: 1, Replicas: 2, TerminatingReplicas: new(int32(3))}
	rs2 := rs("rs2", 2, nil, metav1.Time{})
	rs2.Status = appsv1.ReplicaSetStatus{Replicas: 3, TerminatingReplicas: new(int32(1))}
	rs3 := rs("unsynced", 3, nil, metav1.Time{})
	rs4 := rs("dropped", 1, nil, metav1.Time{})
	rs4.Status = appsv1.ReplicaSetStatus{ObservedGeneration: 1, Replicas: 1}
	tests := []struct {
		name          string
		sets          []*appsv1.ReplicaSet
		count, actual int32
		terminating   *int32
	}{
		{"scaling down rs1", []*appsv1.ReplicaSet{rs1}, 1, 2, new(int32(3))},
		{"scaling down rs1 and rs2", []*appsv1.ReplicaSet{rs1, rs2}, 3, 5, new(int32(4))},
		{"scaling up rs3", []*appsv1.ReplicaSet{rs3}, 3, 0, new(int32(0))},
		{"scaling down rs1 and rs2 and scaling up rs3", []*appsv1.ReplicaSet{rs1, rs2, rs3}, 6, 5, new(int32(4))},
		{"invalid/unknown terminating status for rs4", []*appsv1.ReplicaSet{rs4}, 1, 1, nil},
		{"invalid/unknown terminating status for rs4 with rs1, rs2 and rs3", []*appsv1.ReplicaSet{rs1, rs2, rs3, rs4}, 7, 6, nil},
		{"nil entries are skipped", []*appsv1.ReplicaSet{nil, rs1}, 1, 2, new(int32(3))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GetReplicaCountForReplicaSets(tt.sets); got != tt.count {
				t.Errorf("count = %d, want %d", got, tt.count)
			}
			if got := GetActualReplicaCountForReplicaSets(tt.sets); got != tt.actual {
				t.Errorf("actual = %d, want %d", got, tt.actual)
			}
			got := GetTerminatingReplicaCountForReplicaSets(tt.sets)
			if (got == nil) != (tt.terminating == nil) || (got != nil && *got != *tt.terminating) {
				t.Errorf("terminating = %v, want %v", got, tt.terminating)
			}
		})
	}
}

// upstream TestActiveReplicaSetsFiltering
func TestFilterActiveReplicaSets(t *testing.T) {
	in := []*appsv1.ReplicaSet{rs("zero", 0, nil, metav1.Time{}), nil, rs("foo", 1, nil, metav1.Time{}), rs("bar", 2, nil, metav1.Time{})}
	if got := names(FilterActiveReplicaSets(in)); !slices.Equal(got, []string{"foo", "bar"}) {
		t.Errorf("got %v", got)
	}
}

func TestFindActiveOrLatest(t *testing.T) {
	tests := []struct {
		name   string
		newRS  *appsv1.ReplicaSet
		oldRSs []*appsv1.ReplicaSet
		want   string
	}{
		{"nothing", nil, nil, ""},
		{"only new", rs("new", 0, nil, newTimestamp), nil, "new"},
		{"none active, new wins", rs("new", 0, nil, newTimestamp), []*appsv1.ReplicaSet{rs("old", 0, nil, oldTimestamp)}, "new"},
		{"none active, no new: newest old", nil, []*appsv1.ReplicaSet{rs("older", 0, nil, olderTimestamp), rs("old", 0, nil, oldTimestamp)}, "old"},
		{"one active old", rs("new", 0, nil, newTimestamp), []*appsv1.ReplicaSet{rs("old", 3, nil, oldTimestamp)}, "old"},
		{"two active", rs("new", 1, nil, newTimestamp), []*appsv1.ReplicaSet{rs("old", 3, nil, oldTimestamp)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FindActiveOrLatest(tt.newRS, tt.oldRSs)
			if name := func() string {
				if got == nil {
					return ""
				}
				return got.Name
			}(); name != tt.want {
				t.Errorf("got %q, want %q", name, tt.want)
			}
		})
	}
}

// upstream TestGenerateReplicaSetName
func TestReplicaSetName(t *testing.T) {
	tests := []struct {
		name, deployment, hash, want string
	}{
		{"short name", "my-deployment", "abcde12345", "my-deployment-abcde12345"},
		{"maximum length without truncating", strings.Repeat("a", 242), "abcde12345", strings.Repeat("a", 242) + "-abcde12345"},
		{"very long deployment name is truncated", strings.Repeat("b", 250), "abcde12345", strings.Repeat("b", 242) + "-abcde12345"},
		{"very long hash is not truncated", strings.Repeat("d", 252), strings.Repeat("h", 252), strings.Repeat("d", 252) + "-" + strings.Repeat("h", 252)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReplicaSetName(tt.deployment, tt.hash); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewReplicaSet(t *testing.T) {
	d := newDeployment("web", 10, nil, new(intstr.FromInt32(3)), new(intstr.FromInt32(2)), map[string]string{"app": "web"})
	d.Annotations = map[string]string{"team": "a", RevisionAnnotation: "4", ChangeCauseAnnotation: "bump"}
	d.Spec.MinReadySeconds = 5
	old := withRevision(rs("web-old", 10, map[string]string{"app": "web"}, oldTimestamp), "4")

	got, err := NewReplicaSet(d, []*appsv1.ReplicaSet{old})
	if err != nil {
		t.Fatal(err)
	}
	hash := ComputeHash(&d.Spec.Template, nil)
	if got.Name != "web-"+hash || got.Namespace != "default" {
		t.Errorf("name %s/%s", got.Namespace, got.Name)
	}
	for what, labels := range map[string]map[string]string{
		"labels":          got.Labels,
		"template labels": got.Spec.Template.Labels,
		"selector":        got.Spec.Selector.MatchLabels,
	} {
		if labels[PodTemplateHashLabel] != hash || labels["app"] != "web" {
			t.Errorf("%s = %v", what, labels)
		}
	}
	if _, ok := d.Spec.Template.Labels[PodTemplateHashLabel]; ok {
		t.Errorf("deployment template was modified")
	}
	if ref := metav1.GetControllerOf(got); ref == nil || ref.UID != d.UID || ref.Kind != "Deployment" {
		t.Errorf("controller ref %v", ref)
	}
	// 10 old + 0 new < 10 + 3: grows by 3
	if *got.Spec.Replicas != 3 || got.Spec.MinReadySeconds != 5 {
		t.Errorf("replicas %d minReadySeconds %d", *got.Spec.Replicas, got.Spec.MinReadySeconds)
	}
	want := map[string]string{
		"team": "a", ChangeCauseAnnotation: "bump",
		RevisionAnnotation: "5", DesiredReplicasAnnotation: "10", MaxReplicasAnnotation: "13",
	}
	if len(got.Annotations) != len(want) {
		t.Errorf("annotations %v, want %v", got.Annotations, want)
	}
	for k, v := range want {
		if got.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, got.Annotations[k], v)
		}
	}
	// the new ReplicaSet is found as d's new one
	if FindNewReplicaSet(d, []*appsv1.ReplicaSet{old, got}) != got {
		t.Errorf("not recognised as the new ReplicaSet")
	}
	// a collision count moves the hash and name
	d.Status.CollisionCount = new(int32(1))
	again, _ := NewReplicaSet(d, []*appsv1.ReplicaSet{old})
	if again.Name == got.Name {
		t.Errorf("collisionCount did not change the name")
	}
}

func TestSyncExistingNewReplicaSet(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := newDeployment("web", 3, nil, nil, nil, map[string]string{"app": "web"})
	d.Spec.ProgressDeadlineSeconds = new(int32(600))
	d.Annotations[ChangeCauseAnnotation] = "first"
	old := withRevision(rs("web-1", 0, nil, oldTimestamp), "1")
	cur := withRevision(rs("web-2", 3, nil, newTimestamp), "2")

	// annotations differ: the ReplicaSet is written first, d untouched
	got, rsChanged, dChanged := SyncExistingNewReplicaSet(d, cur, []*appsv1.ReplicaSet{old}, now)
	if !rsChanged || dChanged || got.Annotations[ChangeCauseAnnotation] != "first" || got == cur {
		t.Fatalf("first pass: rsChanged %v dChanged %v annotations %v", rsChanged, dChanged, got.Annotations)
	}
	// next sync: the ReplicaSet is current, d gets its revision and FoundNewReplicaSet
	got, rsChanged, dChanged = SyncExistingNewReplicaSet(d, got, []*appsv1.ReplicaSet{old}, now)
	if rsChanged || !dChanged || d.Annotations[RevisionAnnotation] != "2" {
		t.Fatalf("second pass: rsChanged %v dChanged %v revision %q", rsChanged, dChanged, d.Annotations[RevisionAnnotation])
	}
	c := GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	if c == nil || c.Reason != FoundNewRSReason || c.Message != `Found new replica set "web-2"` {
		t.Errorf("condition %+v", c)
	}
	// steady state
	if _, rsChanged, dChanged = SyncExistingNewReplicaSet(d, got, []*appsv1.ReplicaSet{old}, now); rsChanged || dChanged {
		t.Errorf("third pass changed something")
	}
}

func TestHashCollisionAndRecord(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := newDeployment("web", 3, nil, nil, nil, map[string]string{"app": "web"})
	d.Spec.ProgressDeadlineSeconds = new(int32(600))
	mine, _ := NewReplicaSet(d, nil)
	if HashCollision(d, mine) {
		t.Errorf("own ReplicaSet seen as a collision")
	}
	other := mine.DeepCopy()
	other.OwnerReferences = nil
	if !HashCollision(d, other) {
		t.Errorf("orphan not seen as a collision")
	}
	changed := mine.DeepCopy()
	changed.Spec.Template.Spec.Containers[0].Image = "other"
	if !HashCollision(d, changed) {
		t.Errorf("different template not seen as a collision")
	}
	if !RecordNewReplicaSet(d, nil, mine, false, now) || d.Annotations[RevisionAnnotation] != "1" {
		t.Fatalf("revision %q", d.Annotations[RevisionAnnotation])
	}
	c := GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	if c == nil || c.Reason != NewReplicaSetReason || c.Message != `Created new replica set "`+mine.Name+`"` {
		t.Errorf("condition %+v", c)
	}
	if RecordNewReplicaSet(d, nil, mine, true, now) {
		t.Errorf("already existing ReplicaSet changed d again")
	}
}

func TestSetFromReplicaSetTemplate(t *testing.T) {
	d := generateDeployment("nginx")
	r := generateRS(d, "r")
	r.Spec.Template.Labels = map[string]string{"name": "nginx", PodTemplateHashLabel: "abc"}
	r.Spec.Template.Spec.Containers[0].Image = "nginx:old"
	SetFromReplicaSetTemplate(d, r.Spec.Template)
	if _, ok := d.Spec.Template.Labels[PodTemplateHashLabel]; ok || d.Spec.Template.Spec.Containers[0].Image != "nginx:old" {
		t.Errorf("template %+v", d.Spec.Template)
	}
	if r.Spec.Template.Labels[PodTemplateHashLabel] != "abc" {
		t.Errorf("ReplicaSet template modified")
	}
}
