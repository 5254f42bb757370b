package gitops

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

// revision1000 is a revision of 1,000 objects in 10 files: 500 ConfigMaps
// and 500 Deployments; change alters one ConfigMap.
func revision1000(change string) []sources.File {
	var files []sources.File
	for f := range 10 {
		var b strings.Builder
		for i := range 100 {
			n := f*100 + i
			if i > 0 {
				b.WriteString("---\n")
			}
			if n%2 == 0 {
				v := "v1"
				if n == 0 {
					v = change
				}
				fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: bench\ndata:\n  key: %s\n  other: some configuration text\n", n, v)
			} else {
				b.WriteString(strings.NewReplacer("name: web\n", fmt.Sprintf("name: web-%d\n", n), "namespace: shop", "namespace: bench", "app: web", fmt.Sprintf("app: web-%d", n)).
					Replace(deployWeb("registry.example.com/web:1.2.3", "        ports:\n        - containerPort: 8080\n        env:\n        - name: MODE\n          value: prod\n")))
			}
		}
		files = append(files, sources.File{Path: fmt.Sprintf("apps/part-%02d.yaml", f), Data: []byte(b.String())})
	}
	return files
}

// BenchmarkApply1000 measures applying a 1,000-object revision to the
// memory store: decode, validate, merge, one transaction, status.
// "first" creates everything ("first-bolt" into a bbolt file, as the
// server's store); "one-change" re-applies a revision that
// changes one ConfigMap (the other 999 are merged and found unchanged).
func BenchmarkApply1000(b *testing.B) {
	src := newFakeSource("bench")
	ctx := context.Background()
	bolt := false
	setup := func() (*Controller, *sources.Resource) {
		clk := clocktesting.NewFakeClock(epoch)
		st := store.NewMemory(clk)
		if bolt {
			var err error
			if st, err = store.OpenBolt(filepath.Join(b.TempDir(), "state.db"), clk); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
		}
		c, err := New(Options{Store: st, Clock: clk, Sources: []sources.Source{src}})
		if err != nil {
			b.Fatal(err)
		}
		res, err := c.ensureResource(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		return c, res
	}
	apply := func(c *Controller, rev string, files []sources.File) {
		res, err := c.ensureResource(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		snap := &sources.Snapshot{Source: "bench", Revision: rev, Files: files}
		r, err := c.applySnapshot(ctx, res, snap, snap, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.decisions) != 1000 {
			b.Fatalf("%d objects", len(r.decisions))
		}
	}
	first, second := revision1000("v1"), revision1000("v2")
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			c, _ := setup()
			b.StartTimer()
			apply(c, "r1", first)
		}
	})
	// The server's store: bbolt, one fsync per transaction.
	b.Run("first-bolt", func(b *testing.B) {
		bolt = true
		defer func() { bolt = false }()
		for b.Loop() {
			b.StopTimer()
			c, _ := setup()
			b.StartTimer()
			apply(c, "r1", first)
		}
	})
	b.Run("one-change", func(b *testing.B) {
		c, _ := setup()
		apply(c, "r1", first)
		rev := 0
		for b.Loop() {
			files := first
			if rev%2 == 0 {
				files = second
			}
			rev++
			apply(c, fmt.Sprint("r", rev+1), files)
		}
	})
}

// BenchmarkRefreshStatus1000 measures refreshing the resources[] of a
// 1,000-object source after one Deployment's status changed (what a
// rollout does, up to once a second): only that entry is recomputed,
// and the Source is written because its health moved.
func BenchmarkRefreshStatus1000(b *testing.B) {
	src := newFakeSource("bench")
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(epoch)
	st := store.NewMemory(clk)
	c, err := New(Options{Store: st, Clock: clk, Sources: []sources.Source{src}})
	if err != nil {
		b.Fatal(err)
	}
	res, err := c.ensureResource(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	snap := &sources.Snapshot{Source: "bench", Revision: "r1", Files: revision1000("v1")}
	if _, err := c.applySnapshot(ctx, res, snap, snap, nil); err != nil {
		b.Fatal(err)
	}
	k := objectKey{Kind: "Deployment", Namespace: "bench", Name: "web-1"}
	n := int32(0)
	for b.Loop() {
		b.StopTimer()
		obj, err := st.Get(ctx, k.Kind, k.Namespace, k.Name)
		if err != nil {
			b.Fatal(err)
		}
		d := obj.(*appsv1.Deployment)
		n = 3 - n // available and not, in turn
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: n, AvailableReplicas: n}
		if _, err := st.Update(ctx, d); err != nil {
			b.Fatal(err)
		}
		c.mu.Lock()
		c.state["bench"].dirty = map[objectKey]bool{k: false}
		c.mu.Unlock()
		b.StartTimer()
		if err := c.refreshStatus(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
