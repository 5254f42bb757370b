package store_test

import (
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

func TestKinds(t *testing.T) {
	tests := []struct {
		obj        store.Object
		kind       string
		apiVersion string
		namespaced bool
	}{
		{&corev1.Namespace{}, "Namespace", "v1", false},
		{&corev1.Node{}, "Node", "v1", false},
		{&corev1.Pod{}, "Pod", "v1", true},
		{&corev1.Event{}, "Event", "v1", true},
		{&appsv1.ControllerRevision{}, "ControllerRevision", "apps/v1", true},
		{&appsv1.Deployment{}, "Deployment", "apps/v1", true},
		{&batchv1.CronJob{}, "CronJob", "batch/v1", true},
		{&sources.Resource{}, "Source", "berth.io/v1", false},
	}
	scheme := store.NewScheme()
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			kind, err := store.KindOf(tt.obj)
			if err != nil || kind != tt.kind {
				t.Fatalf("KindOf: %q, %v", kind, err)
			}
			if store.Namespaced(tt.kind) != tt.namespaced {
				t.Fatalf("Namespaced(%s) = %v", tt.kind, !tt.namespaced)
			}
			obj, err := store.New(tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			gvk := obj.GetObjectKind().GroupVersionKind()
			if gvk.Kind != tt.kind || gvk.GroupVersion().String() != tt.apiVersion {
				t.Fatalf("New set %v", gvk)
			}
			gvks, _, err := scheme.ObjectKinds(tt.obj)
			if err != nil || len(gvks) != 1 || gvks[0] != gvk {
				t.Fatalf("scheme: %v %v", gvks, err)
			}
		})
	}
	if len(store.Kinds()) != 15 {
		t.Fatalf("%d kinds", len(store.Kinds()))
	}
	if _, err := store.KindOf(&corev1.PersistentVolume{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("KindOf(PersistentVolume): %v", err)
	}
	if _, err := store.New("Widget"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("New(Widget): %v", err)
	}
	if !store.Namespaced("Widget") {
		t.Fatal("unknown kinds count as namespaced")
	}
}
