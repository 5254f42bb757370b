package join

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/store"
)

func TestRegister(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	node := func(owner string, heartbeat, claimed time.Duration) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"by-hand": "x"}}}
		if owner != "" {
			n.Annotations = map[string]string{AnnotationAgentID: owner}
			if claimed >= 0 {
				n.Annotations[AnnotationClaimedAt] = now.Add(-claimed).Format(time.RFC3339)
			}
		}
		if heartbeat >= 0 {
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
				LastHeartbeatTime: metav1.NewTime(now.Add(-heartbeat))}}
		}
		return n
	}
	tests := []struct {
		name     string
		existing *corev1.Node
		wantErr  string
	}{
		{"new", nil, ""},
		{"ours, restarted", node("me", time.Second, time.Hour), ""},
		{"another live agent's", node("other", 3*time.Second, time.Hour), "node n1 is already registered by another agent (last heartbeat 3s ago); give this agent another --name"},
		{"another agent's, just claimed, no heartbeat yet", node("other", -1, time.Second), "last heartbeat 1s ago"},
		{"another agent's, gone", node("other", 10*time.Minute, time.Hour), ""},
		{"made by hand", node("", -1, -1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := store.NewMemory(clocktesting.NewFakeClock(now))
			defer st.Close()
			if tt.existing != nil {
				if _, err := st.Create(ctx, tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			got, err := register(ctx, st, registration{
				name: "n1", id: "me", labels: map[string]string{"tier": "edge"},
				taints:     []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}},
				liveWindow: DefaultLiveWindow, serverNow: func() time.Time { return now },
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !permanent(err) {
					t.Fatalf("err = %v, want a permanent %q", err, tt.wantErr)
				}
				obj, _ := st.Get(ctx, "Node", "", "n1")
				if owner := obj.(*corev1.Node).Annotations[AnnotationAgentID]; owner != "other" {
					t.Errorf("the refused agent changed the owner to %q", owner)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Annotations[AnnotationAgentID] != "me" || got.Annotations[AnnotationClaimedAt] != now.Format(time.RFC3339) {
				t.Errorf("annotations = %v", got.Annotations)
			}
			if tt.existing == nil {
				if got.Labels["tier"] != "edge" || got.Labels[corev1.LabelHostname] != "n1" || len(got.Spec.Taints) != 1 {
					t.Errorf("new node: labels %v taints %v", got.Labels, got.Spec.Taints)
				}
			} else if got.Labels["by-hand"] != "x" {
				t.Errorf("labels set by hand were lost: %v", got.Labels)
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{errors.New("read tcp: connection reset by peer"), false},
		{errors.New("fetching the server's CA from x: the server at x does not present the CA the node token pins"), true},
		{errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), true},
		{store.ErrInvalid, true},
		{store.ErrConflict, false},
	}
	for _, tt := range tests {
		if got := permanent(tt.err); got != tt.want {
			t.Errorf("permanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
