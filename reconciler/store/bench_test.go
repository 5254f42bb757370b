package store_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-io/berth/reconciler/store"
)

// BenchmarkStore measures both implementations on pods, with 1,000 pods
// in 10 namespaces already stored.
func BenchmarkStore(b *testing.B) {
	impls := []struct {
		name string
		open opener
	}{
		{"memory", openMemory},
		{"bolt", openBolt},
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			benchStore(b, impl.open)
		})
	}
}

func seeded(b *testing.B, open opener) store.Store {
	s := open(b, newClock(), store.Options{})
	err := s.Txn(context.Background(), func(tx store.Txn) error {
		for i := range 1000 {
			p := pod(fmt.Sprint("ns-", i%10), fmt.Sprint("pod-", i), map[string]string{"app": fmt.Sprint("app-", i%50)})
			if _, err := tx.Create(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func benchStore(b *testing.B, open opener) {
	ctx := context.Background()
	b.Run("Create", func(b *testing.B) {
		s := seeded(b, open)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.Create(ctx, pod("bench", fmt.Sprint("p-", i), nil)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Update", func(b *testing.B) {
		s := seeded(b, open)
		p := mustGet[*corev1.Pod](b, s, "Pod", "ns-3", "pod-3")
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p.Status.Message = fmt.Sprint("step ", i)
			i++
			out, err := s.Update(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			p = out.(*corev1.Pod)
		}
	})
	b.Run("UpdateWith5Watchers", func(b *testing.B) {
		s := seeded(b, open)
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for range 5 {
			ch, _ := s.Watch(wctx, "Pod", 0)
			go func() {
				for range ch {
				}
			}()
		}
		p := mustGet[*corev1.Pod](b, s, "Pod", "ns-3", "pod-3")
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p.Status.Message = fmt.Sprint("step ", i)
			i++
			out, err := s.Update(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			p = out.(*corev1.Pod)
		}
	})
	b.Run("Get", func(b *testing.B) {
		s := seeded(b, open)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Get(ctx, "Pod", "ns-7", "pod-517"); err != nil {
				b.Fatal(err)
			}
		}
	})
	lists := []struct {
		name string
		opts store.ListOptions
		want int
	}{
		{"ListAll", store.ListOptions{}, 1000},
		{"ListNamespace", store.ListOptions{Namespace: "ns-4"}, 100},
		{"ListSelector", store.ListOptions{Selector: labels.SelectorFromSet(labels.Set{"app": "app-7"})}, 20},
	}
	for _, l := range lists {
		b.Run(l.name, func(b *testing.B) {
			s := seeded(b, open)
			b.ReportAllocs()
			for b.Loop() {
				got, _, err := s.List(ctx, "Pod", l.opts)
				if err != nil || len(got) != l.want {
					b.Fatalf("%d pods, %v", len(got), err)
				}
			}
		})
	}
}
