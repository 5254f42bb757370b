package controller

import (
	"context"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/store"
)

// TestWriteTrackerRemembersTxnWrites: after a transaction, AwaitCache
// waits for its last write, as after a plain Create or Update.
func TestWriteTrackerRemembersTxnWrites(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	w := NewWriteTracker(st)
	var last store.Object
	err := w.Txn(ctx, func(tx store.Txn) error {
		for _, name := range []string{"a", "b"} {
			out, err := tx.Create(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}})
			if err != nil {
				return err
			}
			last = out
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := strconv.ParseInt(last.(*corev1.ConfigMap).ResourceVersion, 10, 64)
	var waited int64
	if err := w.AwaitCache(ctx, func(_ context.Context, rv int64) error { waited = rv; return nil }); err != nil {
		t.Fatal(err)
	}
	if waited != want {
		t.Errorf("AwaitCache waited for %d, want the transaction's last write %d", waited, want)
	}
}
