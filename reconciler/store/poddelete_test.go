package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/berth-io/berth/reconciler/store"
)

// testPodGracefulDelete: deleting a pod works as the API server's pod
// registry does — a pod running on a node is marked (deletionTimestamp =
// now + grace) and stays until a delete with grace 0; anything else goes at
// once.
func testPodGracefulDelete(t *testing.T, open opener) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		node      string // the pod's spec.nodeName
		phase     corev1.PodPhase
		podGrace  *int64
		optGrace  *int64
		wantGrace int64 // 0: removed at once
	}{
		{name: "unscheduled pod goes at once"},
		{name: "running pod is marked with its grace period", node: "n1", phase: corev1.PodRunning, podGrace: ptr.To[int64](45), wantGrace: 45},
		{name: "default grace is 30s", node: "n1", phase: corev1.PodRunning, wantGrace: 30},
		{name: "grace from the options wins", node: "n1", phase: corev1.PodRunning, podGrace: ptr.To[int64](45), optGrace: ptr.To[int64](5), wantGrace: 5},
		{name: "grace 0 is a force delete", node: "n1", phase: corev1.PodRunning, optGrace: ptr.To[int64](0)},
		{name: "finished pod goes at once", node: "n1", phase: corev1.PodSucceeded},
		{name: "pod on a node that is gone goes at once", node: "gone", phase: corev1.PodRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := clocktesting.NewFakeClock(start)
			st := open(t, clk, store.Options{})
			if _, err := st.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}); err != nil {
				t.Fatal(err)
			}
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
				Spec:       corev1.PodSpec{NodeName: tt.node, TerminationGracePeriodSeconds: tt.podGrace, Containers: []corev1.Container{{Name: "c", Image: "i"}}},
				Status:     corev1.PodStatus{Phase: tt.phase},
			}
			if _, err := st.Create(ctx, pod); err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(ctx, "Pod", "default", "p", store.DeleteOptions{GracePeriodSeconds: tt.optGrace}); err != nil {
				t.Fatal(err)
			}
			obj, err := st.Get(ctx, "Pod", "default", "p")
			if tt.wantGrace == 0 {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("pod still there (%v), want removed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := obj.(*corev1.Pod)
			want := start.Add(time.Duration(tt.wantGrace) * time.Second)
			if got.DeletionTimestamp == nil || !got.DeletionTimestamp.Time.Equal(want) || *got.DeletionGracePeriodSeconds != tt.wantGrace {
				t.Fatalf("deletionTimestamp %v grace %v, want %v and %d", got.DeletionTimestamp, got.DeletionGracePeriodSeconds, want, tt.wantGrace)
			}
			// A second delete changes nothing; the node's delete with
			// grace 0 removes it.
			clk.Step(time.Second)
			if err := st.Delete(ctx, "Pod", "default", "p", store.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			again, _ := st.Get(ctx, "Pod", "default", "p")
			if again.(*corev1.Pod).DeletionTimestamp.Time != got.DeletionTimestamp.Time {
				t.Errorf("second delete moved deletionTimestamp")
			}
			if err := st.Delete(ctx, "Pod", "default", "p", store.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Get(ctx, "Pod", "default", "p"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("pod still there after grace-0 delete: %v", err)
			}
		})
	}
}
