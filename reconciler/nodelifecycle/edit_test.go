package nodelifecycle

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParseLabelArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    LabelEdit
		wantErr string
	}{
		{args: []string{"env=prod", "tier-"}, want: LabelEdit{Set: map[string]string{"env": "prod"}, Remove: []string{"tier"}}},
		{args: []string{"example.com/zone=a", "empty="}, want: LabelEdit{Set: map[string]string{"example.com/zone": "a", "empty": ""}}},
		{args: []string{"a=b=c"}, wantErr: "invalid label spec: a=b=c"},
		{args: []string{"env"}, wantErr: "unknown label spec: env"},
		{args: []string{"bad key=v"}, wantErr: `invalid label key: "bad key=v": name part must consist of alphanumeric characters`},
		{args: []string{"k=-bad"}, wantErr: `invalid label value: "k=-bad": a valid label must be an empty string or consist of alphanumeric characters`},
		{args: []string{"k=" + strings.Repeat("x", 64)}, wantErr: "must be no more than 63 bytes"},
		{args: []string{"/x-"}, wantErr: `invalid label key: "/x-"`},
		{args: []string{"k=v", "k-"}, wantErr: "can not both modify and remove a label in the same command"},
		{args: nil, wantErr: "at least one label update is required"},
	}
	for _, tt := range tests {
		got, err := ParseLabelArgs(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestLabelEditApply(t *testing.T) {
	in := map[string]string{"env": "dev", "tier": "web"}
	tests := []struct {
		name      string
		edit      LabelEdit
		overwrite bool
		want      map[string]string
		changed   bool
		notFound  []string
		wantErr   string
	}{
		{"add", LabelEdit{Set: map[string]string{"zone": "a"}}, false, map[string]string{"env": "dev", "tier": "web", "zone": "a"}, true, nil, ""},
		{"same value", LabelEdit{Set: map[string]string{"env": "dev"}}, false, in, false, nil, ""},
		{"change refused", LabelEdit{Set: map[string]string{"env": "prod"}}, false, nil, false, nil, "'env' already has a value (dev), and --overwrite is false"},
		{"change with overwrite", LabelEdit{Set: map[string]string{"env": "prod"}}, true, map[string]string{"env": "prod", "tier": "web"}, true, nil, ""},
		{"remove", LabelEdit{Remove: []string{"tier", "nope"}}, false, map[string]string{"env": "dev"}, true, []string{"nope"}, ""},
	}
	for _, tt := range tests {
		got, changed, notFound, err := tt.edit.Apply(in, tt.overwrite)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || changed != tt.changed || !cmp.Equal(got, tt.want) || !cmp.Equal(notFound, tt.notFound) {
			t.Errorf("%s: got %v %v %v %v", tt.name, got, changed, notFound, err)
		}
	}
	if in["env"] != "dev" || len(in) != 2 {
		t.Errorf("input changed: %v", in)
	}
}

func TestParseTaintArgs(t *testing.T) {
	ns := corev1.TaintEffectNoSchedule
	tests := []struct {
		args    []string
		want    TaintEdit
		wantErr string
	}{
		{args: []string{"dedicated=infra:NoSchedule", "gpu:NoExecute", "old:PreferNoSchedule-", "all-"},
			want: TaintEdit{
				Add:    []corev1.Taint{{Key: "dedicated", Value: "infra", Effect: ns}, {Key: "gpu", Effect: corev1.TaintEffectNoExecute}},
				Remove: []corev1.Taint{{Key: "old", Effect: corev1.TaintEffectPreferNoSchedule}, {Key: "all"}},
			}},
		{args: []string{"k"}, wantErr: "unknown taint spec: k"},
		{args: []string{"k=v"}, wantErr: "invalid taint spec: k=v, name part must consist"},
		{args: []string{"k=v:Sometimes"}, wantErr: "invalid taint effect: Sometimes, unsupported taint effect"},
		{args: []string{"k=v=w:NoSchedule"}, wantErr: "invalid taint spec: k=v=w:NoSchedule"},
		{args: []string{"a:b:NoSchedule"}, wantErr: "invalid taint spec: a:b:NoSchedule"},
		{args: []string{"bad key:NoSchedule"}, wantErr: "invalid taint spec: bad key:NoSchedule, name part must consist"},
		{args: []string{"k=-v:NoSchedule"}, wantErr: "invalid taint spec: k=-v:NoSchedule, a valid label must be"},
		{args: []string{"k=a:NoSchedule", "k=b:NoSchedule"}, wantErr: "duplicated taints with the same key and effect: k=b:NoSchedule"},
		{args: []string{"k:NoSchedule", "k-"}, wantErr: "can not both modify and remove the following taint(s) in the same command: k"},
		{args: nil, wantErr: "at least one taint update is required"},
	}
	for _, tt := range tests {
		got, err := ParseTaintArgs(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestTaintEditApply(t *testing.T) {
	a := corev1.Taint{Key: "a", Value: "1", Effect: corev1.TaintEffectNoSchedule}
	aExec := corev1.Taint{Key: "a", Effect: corev1.TaintEffectNoExecute}
	b := corev1.Taint{Key: "b", Effect: corev1.TaintEffectPreferNoSchedule}
	a2 := corev1.Taint{Key: "a", Value: "2", Effect: corev1.TaintEffectNoSchedule}
	tests := []struct {
		name      string
		edit      TaintEdit
		overwrite bool
		want      []corev1.Taint
		op        string
		wantErr   string
	}{
		{"add", TaintEdit{Add: []corev1.Taint{b}}, false, []corev1.Taint{b, a, aExec}, Tainted, ""},
		{"duplicate refused", TaintEdit{Add: []corev1.Taint{a2}}, false, nil, "", "node n1 already has a taint(s) with same effect(s) and --overwrite is false"},
		{"overwrite", TaintEdit{Add: []corev1.Taint{a2}}, true, []corev1.Taint{a2, aExec}, Modified, ""},
		{"remove one effect", TaintEdit{Remove: []corev1.Taint{{Key: "a", Effect: corev1.TaintEffectNoExecute}}}, false, []corev1.Taint{a}, Untainted, ""},
		{"remove every effect", TaintEdit{Remove: []corev1.Taint{{Key: "a"}}}, false, []corev1.Taint{}, Untainted, ""},
		{"add and remove", TaintEdit{Add: []corev1.Taint{b}, Remove: []corev1.Taint{{Key: "a"}}}, false, []corev1.Taint{b}, Modified, ""},
		{"remove missing", TaintEdit{Remove: []corev1.Taint{{Key: "z", Effect: corev1.TaintEffectNoSchedule}}}, false, []corev1.Taint{a, aExec}, Untainted, `taint "z:NoSchedule" not found`},
	}
	for _, tt := range tests {
		got, op, err := tt.edit.Apply("n1", []corev1.Taint{a, aExec}, tt.overwrite)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			if got == nil {
				continue
			}
		} else if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if op != tt.op {
			t.Errorf("%s: op %q, want %q", tt.name, op, tt.op)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestPlanDrain(t *testing.T) {
	owned := func(name, kind string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
		if kind != "" {
			yes := true
			p.OwnerReferences = []metav1.OwnerReference{{Kind: kind, Name: "owner", Controller: &yes}}
		}
		return p
	}
	web := owned("web-x", "ReplicaSet")
	ds := owned("ds-x", "DaemonSet")
	bare := owned("bare", "")
	done := owned("done", "")
	done.Status.Phase = corev1.PodSucceeded
	scratch := owned("scratch", "ReplicaSet")
	scratch.Spec.Volumes = []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	mirror := owned("mirror", "")
	mirror.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
	all := []*corev1.Pod{web, ds, bare, done, scratch, mirror}
	names := func(ps []*corev1.Pod) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	tests := []struct {
		name     string
		pods     []*corev1.Pod
		opts     DrainOptions
		evict    []string
		warnings []string
		errs     []string
	}{
		{"controller pods", []*corev1.Pod{web, done, mirror}, DrainOptions{}, []string{"web-x", "done"}, nil, nil},
		{"everything refused", all, DrainOptions{}, nil, nil, []string{
			"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/ds-x",
			"cannot delete Pods that declare no controller (use --force to override): default/bare",
			"cannot delete Pods with local storage (use --delete-emptydir-data to override): default/scratch",
		}},
		{"everything allowed", all, DrainOptions{Force: true, IgnoreDaemonSets: true, DeleteEmptyDirData: true},
			[]string{"web-x", "bare", "done", "scratch"},
			[]string{
				"ignoring DaemonSet-managed Pods: default/ds-x",
				"deleting Pods that declare no controller: default/bare",
				"deleting Pods with local storage: default/scratch",
			}, nil},
	}
	for _, tt := range tests {
		plan := PlanDrain(tt.pods, tt.opts)
		if diff := cmp.Diff(tt.evict, names(plan.Evict)); diff != "" {
			t.Errorf("%s: evict (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(tt.warnings, plan.Warnings); diff != "" {
			t.Errorf("%s: warnings (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(tt.errs, plan.Errors); diff != "" {
			t.Errorf("%s: errors (-want +got):\n%s", tt.name, diff)
		}
	}
}
