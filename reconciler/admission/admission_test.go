package admission_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/admission"
	"github.com/berth-io/berth/reconciler/store"
)

func secs(s int64) *int64 { return &s }

var (
	notReady300    = corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs(300)}
	unreachable300 = corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs(300)}
)

func TestAdmit(t *testing.T) {
	own := corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs(10)}
	other := corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "infra", Effect: corev1.TaintEffectNoSchedule}
	tests := []struct {
		name string
		in   []corev1.Toleration
		want []corev1.Toleration
	}{
		{"none", nil, []corev1.Toleration{notReady300, unreachable300}},
		{"others kept", []corev1.Toleration{other}, []corev1.Toleration{other, notReady300, unreachable300}},
		{"own unreachable kept", []corev1.Toleration{own}, []corev1.Toleration{own, notReady300}},
		{"NoSchedule of the key does not count",
			[]corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			[]corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}, notReady300, unreachable300}},
		{"empty effect counts",
			[]corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists}},
			[]corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists}, unreachable300}},
		{"empty key tolerates everything",
			[]corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			[]corev1.Toleration{{Operator: corev1.TolerationOpExists}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Tolerations: tt.in}}
			before := in.DeepCopy()
			out := admission.Admit(in).(*corev1.Pod)
			if diff := cmp.Diff(tt.want, out.Spec.Tolerations); diff != "" {
				t.Errorf("tolerations (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, in); diff != "" {
				t.Errorf("caller's pod changed:\n%s", diff)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	ctx := context.Background()
	st := admission.Wrap(store.NewMemory(clocktesting.NewFakeClock(metav1.Now().Time)))
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
	}
	if _, err := st.Create(ctx, pod("direct")); err != nil {
		t.Fatal(err)
	}
	err := st.Txn(ctx, func(tx store.Txn) error {
		_, err := tx.Create(pod("txn"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "default"}, Data: map[string]string{"a": "b"}}
	if _, err := st.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"direct", "txn"} {
		obj, err := st.Get(ctx, "Pod", "default", name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]corev1.Toleration{notReady300, unreachable300}, obj.(*corev1.Pod).Spec.Tolerations); diff != "" {
			t.Errorf("%s: tolerations (-want +got):\n%s", name, diff)
		}
	}
	// Updates pass through: a pod's tolerations removed by an update stay removed.
	obj, _ := st.Get(ctx, "Pod", "default", "direct")
	p := obj.(*corev1.Pod)
	p.Spec.Tolerations = nil
	out, err := st.Update(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(*corev1.Pod).Spec.Tolerations; got != nil {
		t.Errorf("update: tolerations %v, want none", got)
	}
}
