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
	const live = 400 * time.Millisecond
	node := func(owner string, ready corev1.ConditionStatus, beat time.Time) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"by-hand": "x", "tier": "core"}}}
		if owner != "" {
			n.Annotations = map[string]string{AnnotationAgentID: owner, AnnotationClaimedAt: now.Format(time.RFC3339)}
		}
		if ready != "" {
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready,
				LastHeartbeatTime: metav1.NewTime(beat)}}
		}
		return n
	}
	// alive moves what the other agent moves while it lives.
	heartbeats := func(ctx context.Context, st store.Store) {
		for i := 1; ctx.Err() == nil; i++ {
			if obj, err := st.Get(ctx, "Node", "", "n1"); err == nil {
				n := obj.(*corev1.Node)
				n.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(now.Add(time.Duration(i) * time.Second))
				st.Update(ctx, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	claims := func(ctx context.Context, st store.Store) {
		for i := 1; ctx.Err() == nil; i++ {
			if obj, err := st.Get(ctx, "Node", "", "n1"); err == nil {
				n := obj.(*corev1.Node)
				n.Annotations[AnnotationClaimedAt] = now.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
				st.Update(ctx, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	tests := []struct {
		name      string
		existing  *corev1.Node
		alive     func(context.Context, store.Store)
		wantErr   string
		taken     bool          // this agent's labels and taints set
		maxWait   time.Duration // register returns within
		wantWaits bool          // register watched the node for the window
	}{
		{"new", nil, nil, "", true, live / 2, false},
		{"ours, restarted", node("me", corev1.ConditionTrue, now), nil, "", false, live / 2, false},
		{"another agent's, heartbeating", node("other", corev1.ConditionTrue, now), heartbeats,
			"node n1 is already registered by another agent (its heartbeat moved within", false, 5 * live, false},
		{"another agent's, just claimed, no heartbeat yet", node("other", "", time.Time{}), claims,
			"node n1 is already registered by another agent", false, 5 * live, false},
		{"another agent's, marked unknown by the server", node("other", corev1.ConditionUnknown, now), nil, "", true, live / 2, false},
		{"another agent's, silent", node("other", corev1.ConditionTrue, now), nil, "", true, 5 * live, true},
		// Its clock is an hour ahead of the server's: its last heartbeat
		// looks fresh by the clock, yet it does not move.
		{"another agent's, silent, skewed clock", node("other", corev1.ConditionTrue, now.Add(time.Hour)), nil, "", true, 5 * live, true},
		{"made by hand", node("", "", time.Time{}), nil, "", true, live / 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			st := store.NewMemory(clocktesting.NewFakeClock(now))
			defer st.Close()
			if tt.existing != nil {
				if _, err := st.Create(ctx, tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			if tt.alive != nil {
				go tt.alive(ctx, st)
			}
			start := time.Now()
			got, err := register(ctx, st, registration{
				name: "n1", id: "me", labels: map[string]string{"tier": "edge"},
				taints:     []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}},
				liveWindow: live, serverNow: func() time.Time { return now }, poll: 20 * time.Millisecond,
			})
			took := time.Since(start)
			cancel()
			if took > tt.maxWait {
				t.Errorf("register took %v, want under %v", took, tt.maxWait)
			}
			if tt.wantWaits && took < live {
				t.Errorf("register took %v: it did not watch the node for %v", took, live)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !permanent(err) {
					t.Fatalf("err = %v, want a permanent %q", err, tt.wantErr)
				}
				obj, _ := st.Get(context.Background(), "Node", "", "n1")
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
			if tt.existing == nil && got.Labels[corev1.LabelHostname] != "n1" {
				t.Errorf("new node: labels %v", got.Labels)
			}
			if tt.taken {
				if got.Labels["tier"] != "edge" || len(got.Spec.Taints) != 1 {
					t.Errorf("taken node: labels %v taints %v, want this agent's", got.Labels, got.Spec.Taints)
				}
			} else if got.Labels["tier"] != "core" {
				t.Errorf("the restarted owner set its --labels again over a change by hand: %v", got.Labels)
			}
			if tt.existing != nil && got.Labels["by-hand"] != "x" {
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
