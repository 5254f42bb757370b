package nodelifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func secs(s int64) *int64 { return &s }

func TestTolerates(t *testing.T) {
	taint := &corev1.Taint{Key: "k", Value: "v", Effect: corev1.TaintEffectNoExecute}
	tests := []struct {
		name string
		tol  corev1.Toleration
		want bool
	}{
		{"equal", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpEqual, Value: "v", Effect: corev1.TaintEffectNoExecute}, true},
		{"default operator is Equal", corev1.Toleration{Key: "k", Value: "v"}, true},
		{"other value", corev1.Toleration{Key: "k", Value: "w"}, false},
		{"exists", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists}, true},
		{"other key", corev1.Toleration{Key: "x", Operator: corev1.TolerationOpExists}, false},
		{"empty key with Exists tolerates all", corev1.Toleration{Operator: corev1.TolerationOpExists}, true},
		{"empty effect matches all effects", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists}, true},
		{"other effect", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}, false},
		{"unknown operator", corev1.Toleration{Key: "k", Operator: "Gt", Value: "v"}, false},
	}
	for _, tt := range tests {
		if got := Tolerates(&tt.tol, taint); got != tt.want {
			t.Errorf("%s: Tolerates = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestEvictionDelay(t *testing.T) {
	ne := func(k string) corev1.Taint { return corev1.Taint{Key: k, Effect: corev1.TaintEffectNoExecute} }
	tol := func(k string, s *int64) corev1.Toleration {
		return corev1.Toleration{Key: k, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: s}
	}
	tests := []struct {
		name   string
		taints []corev1.Taint
		tols   []corev1.Toleration
		delay  time.Duration
		evict  bool
	}{
		{"no taints", nil, nil, 0, false},
		{"NoSchedule ignored", []corev1.Taint{{Key: "a", Effect: corev1.TaintEffectNoSchedule}}, nil, 0, false},
		{"untolerated", []corev1.Taint{ne("a")}, nil, 0, true},
		{"tolerated forever", []corev1.Taint{ne("a")}, []corev1.Toleration{tol("a", nil)}, 0, false},
		{"tolerated for a while", []corev1.Taint{ne("a")}, []corev1.Toleration{tol("a", secs(300))}, 300 * time.Second, true},
		{"smallest of the matching", []corev1.Taint{ne("a"), ne("b")}, []corev1.Toleration{tol("a", secs(300)), tol("b", secs(60)), tol("c", secs(1))}, 60 * time.Second, true},
		{"forever and a while: the while", []corev1.Taint{ne("a")}, []corev1.Toleration{tol("a", nil), tol("", secs(30))}, 30 * time.Second, true},
		{"one untolerated evicts at once", []corev1.Taint{ne("a"), ne("b")}, []corev1.Toleration{tol("a", nil)}, 0, true},
		{"negative is at once", []corev1.Taint{ne("a")}, []corev1.Toleration{tol("a", secs(-5))}, 0, true},
	}
	for _, tt := range tests {
		delay, evict := evictionDelay(tt.taints, tt.tols)
		if delay != tt.delay || evict != tt.evict {
			t.Errorf("%s: evictionDelay = %v, %v; want %v, %v", tt.name, delay, evict, tt.delay, tt.evict)
		}
	}
}

func TestSetReadinessTaints(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	added := metav1.NewTime(now)
	other := corev1.Taint{Key: "dedicated", Value: "infra", Effect: corev1.TaintEffectNoExecute}
	unreachable := []corev1.Taint{
		{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &added},
	}
	notReady := []corev1.Taint{
		{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute, TimeAdded: &added},
	}
	tests := []struct {
		name    string
		ready   corev1.ConditionStatus // "" for no condition
		taints  []corev1.Taint
		want    []corev1.Taint
		changed bool
	}{
		{"ready, nothing", corev1.ConditionTrue, []corev1.Taint{other}, []corev1.Taint{other}, false},
		{"unknown taints unreachable", corev1.ConditionUnknown, []corev1.Taint{other}, append([]corev1.Taint{other}, unreachable...), true},
		{"false taints not-ready", corev1.ConditionFalse, nil, notReady, true},
		{"unknown to false swaps", corev1.ConditionFalse, unreachable, notReady, true},
		{"back to ready removes", corev1.ConditionTrue, append([]corev1.Taint{other}, unreachable...), []corev1.Taint{other}, true},
		{"already tainted", corev1.ConditionUnknown, unreachable, unreachable, false},
		{"no condition left alone", "", unreachable, unreachable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &corev1.Node{Spec: corev1.NodeSpec{Taints: append([]corev1.Taint(nil), tt.taints...)}}
			if tt.ready != "" {
				n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: tt.ready}}
			}
			if got := setReadinessTaints(n, now); got != tt.changed {
				t.Errorf("changed = %v, want %v", got, tt.changed)
			}
			if diff := cmp.Diff(tt.want, n.Spec.Taints); diff != "" {
				t.Errorf("taints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarkUnknown(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)
	beat := metav1.NewTime(now.Add(-time.Minute))
	st := corev1.NodeStatus{Conditions: []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, LastHeartbeatTime: beat},
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: beat},
	}}
	if !markUnknown(&st, now) {
		t.Fatal("markUnknown reported no change")
	}
	for _, c := range st.Conditions {
		if c.Status != corev1.ConditionUnknown || c.Reason != "NodeStatusUnknown" || c.Message != "Kubelet stopped posting node status." {
			t.Errorf("%s: %s %s %q", c.Type, c.Status, c.Reason, c.Message)
		}
		if !c.LastHeartbeatTime.Equal(&beat) || !c.LastTransitionTime.Time.Equal(now) {
			t.Errorf("%s: heartbeat %v transition %v", c.Type, c.LastHeartbeatTime, c.LastTransitionTime)
		}
	}
	if markUnknown(&st, now) {
		t.Error("second markUnknown reported a change")
	}
	var empty corev1.NodeStatus
	markUnknown(&empty, now)
	if c := readyCondition(&empty); c == nil || c.Reason != "NodeStatusNeverUpdated" {
		t.Errorf("no condition: got %+v", c)
	}
}
