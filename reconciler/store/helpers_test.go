package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/berth-io/berth/reconciler/store"
)

// opener makes a fresh, empty store for one test.
type opener func(t testing.TB, clk clock.PassiveClock, opts store.Options) store.Store

func openMemory(t testing.TB, clk clock.PassiveClock, opts store.Options) store.Store {
	s := store.NewMemoryWithOptions(clk, opts)
	t.Cleanup(func() { s.Close() })
	return s
}

func openBolt(t testing.TB, clk clock.PassiveClock, opts store.Options) store.Store {
	s, err := store.OpenBoltWithOptions(filepath.Join(t.TempDir(), "berth.db"), clk, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC)

func newClock() *clocktesting.FakeClock { return clocktesting.NewFakeClock(epoch) }

func deployment(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
			},
		},
	}
}

func pod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
	}
}

func configMap(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{}}
}

func rvOf(t testing.TB, obj store.Object) int64 {
	t.Helper()
	rv, err := strconv.ParseInt(obj.(metav1.Object).GetResourceVersion(), 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion: %v", err)
	}
	return rv
}

func metaOf(obj store.Object) metav1.Object { return obj.(metav1.Object) }

func mustCreate[T store.Object](t testing.TB, s store.Store, obj T) T {
	t.Helper()
	out, err := s.Create(context.Background(), obj)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return out.(T)
}

func mustGet[T store.Object](t testing.TB, s store.Store, kind, ns, name string) T {
	t.Helper()
	out, err := s.Get(context.Background(), kind, ns, name)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	return out.(T)
}

func mustUpdate[T store.Object](t testing.TB, s store.Store, obj T) T {
	t.Helper()
	out, err := s.Update(context.Background(), obj)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	return out.(T)
}

// wantErr checks that err wraps target and its message contains text.
func wantErr(t testing.TB, err, target error, text string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want one wrapping %q", err, target)
	}
	if text != "" && !strings.Contains(err.Error(), text) {
		t.Fatalf("error %q does not contain %q", err, text)
	}
}

// receive takes the events already in ch, without waiting: the store puts
// a write's events in every watcher's channel before the write returns.
func receive(ch <-chan store.Event) []store.Event {
	var out []store.Event
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}
