package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// dyingStore is a store whose process dies at its limit-th write: that
// write lands or not (at random, as a crash can come before or after the
// commit), nothing after it does, and the run's context is cancelled so
// the controllers stop where they are.
type dyingStore struct {
	store.Store
	writes, limit int
	landLast      bool
	die           context.CancelFunc
}

var errDied = errors.New("process died")

// write runs w unless the process has died.
func (s *dyingStore) write(w func() error) error {
	s.writes++
	switch {
	case s.writes < s.limit:
		return w()
	case s.writes == s.limit:
		s.die()
		if s.landLast {
			w()
		}
	}
	return errDied
}

func (s *dyingStore) Create(ctx context.Context, obj store.Object) (out store.Object, err error) {
	err = s.write(func() error { out, err = s.Store.Create(ctx, obj); return err })
	return out, err
}

func (s *dyingStore) Update(ctx context.Context, obj store.Object) (out store.Object, err error) {
	err = s.write(func() error { out, err = s.Store.Update(ctx, obj); return err })
	return out, err
}

func (s *dyingStore) Delete(ctx context.Context, kind, ns, name string, opts store.DeleteOptions) error {
	return s.write(func() error { return s.Store.Delete(ctx, kind, ns, name, opts) })
}

func (s *dyingStore) Txn(ctx context.Context, fn func(store.Txn) error) error {
	return s.write(func() error { return s.Store.Txn(ctx, fn) })
}

// TestCrashRecovery kills the whole control plane at random writes of a
// series of rollouts, 25 times, reopening the bolt store file and
// rebuilding every controller and node agent each time (the machines and
// their containers keep running). The cluster must converge with exactly
// the pods asked for, one ReplicaSet per template, and intact revisions.
func TestCrashRecovery(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { crashRecovery(t, seed) })
	}
}

func crashRecovery(t *testing.T, seed uint64) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "berth.db")
	clk := clocktesting.NewFakeClock(Epoch)
	r := rand.New(rand.NewPCG(seed, 7))
	behavior := func(pod *corev1.Pod) fake.Behavior {
		return fake.Behavior{ReadyAfter: time.Duration(len(pod.Name)%7) * time.Second}
	}

	var runtimes []*fake.Runtime
	open := func(limit int) (*Cluster, context.Context, context.CancelFunc) {
		st, err := store.OpenBolt(path, clk)
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		dying := &dyingStore{Store: st, limit: limit, landLast: r.IntN(2) == 0, die: cancel}
		cl, err := New(Options{Nodes: 3, Store: dying, Clock: clk, Behavior: behavior, Runtimes: runtimes})
		if err != nil {
			t.Fatal(err)
		}
		runtimes = cl.Runtimes
		return cl, runCtx, cancel
	}

	images := []string{"app:v1", "app:v2", "app:v3", "app:v4"}
	applied := 0
	for crash := 0; crash < 25; crash++ {
		cl, runCtx, cancel := open(1 + r.IntN(60))
		// Between crashes, Git moves on now and then.
		if applied < len(images) && (crash == 0 || r.IntN(4) == 0) {
			if _, err := cl.ApplyDeployment(runCtx, crashDeployment(images[applied])); err == nil {
				applied++
			}
		}
		err := cl.RunChecked(runCtx, time.Hour, func() {})
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("crash %d: %v", crash, err)
		}
		cl.Store.(*dyingStore).Store.Close()
	}
	for ; applied < len(images); applied++ {
		cl, runCtx, cancel := open(1 << 30)
		if _, err := cl.ApplyDeployment(runCtx, crashDeployment(images[applied])); err != nil {
			t.Fatal(err)
		}
		cl.Store.Close()
		cancel()
	}

	// The last start: no crash; it must converge.
	cl, runCtx, cancel := open(1 << 30)
	defer cancel()
	defer cl.Store.Close()
	if err := cl.RunChecked(runCtx, time.Hour, func() {}); err != nil {
		t.Fatal(err)
	}
	checkConverged(t, ctx, cl, images)
}

func crashDeployment(image string) *appsv1.Deployment {
	replicas := int32(10)
	surge, unavailable := intstr.FromInt32(3), intstr.FromInt32(2)
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
}

// checkConverged checks the end state after the crashes: the last
// template runs on exactly 10 pods, each template has one ReplicaSet with
// its own revision, and the machines run exactly those pods.
func checkConverged(t *testing.T, ctx context.Context, cl *Cluster, images []string) {
	t.Helper()
	obj, err := cl.Store.Get(ctx, "Deployment", "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	d := obj.(*appsv1.Deployment)
	if !rollouts.DeploymentComplete(d, &d.Status) {
		t.Errorf("deployment not complete: %+v", d.Status)
	}
	if got, want := d.Annotations[rollouts.RevisionAnnotation], fmt.Sprint(len(images)); got != want {
		t.Errorf("deployment revision %s, want %s", got, want)
	}
	sets, _, _ := cl.Store.List(ctx, "ReplicaSet", store.ListOptions{Namespace: "default"})
	byImage, revisions := map[string]int{}, map[string]bool{}
	for _, o := range sets {
		rs := o.(*appsv1.ReplicaSet)
		image := rs.Spec.Template.Spec.Containers[0].Image
		byImage[image]++
		rev := rs.Annotations[rollouts.RevisionAnnotation]
		if revisions[rev] {
			t.Errorf("revision %s given to two ReplicaSets", rev)
		}
		revisions[rev] = true
		if image != images[len(images)-1] && rollouts.ReplicaSetReplicas(rs) != 0 {
			t.Errorf("old ReplicaSet %s still has %d replicas", rs.Name, rollouts.ReplicaSetReplicas(rs))
		}
	}
	for _, image := range images {
		if byImage[image] != 1 {
			t.Errorf("%d ReplicaSets for %s, want 1 (all: %v)", byImage[image], image, byImage)
		}
	}
	pods, _, _ := cl.Store.List(ctx, "Pod", store.ListOptions{Namespace: "default"})
	if len(pods) != 10 {
		t.Errorf("%d pods in the store, want 10", len(pods))
	}
	for _, o := range pods {
		if img := o.(*corev1.Pod).Spec.Containers[0].Image; img != images[len(images)-1] {
			t.Errorf("pod %s runs %s", o.(*corev1.Pod).Name, img)
		}
	}
	running := 0
	for _, rt := range cl.Runtimes {
		sbs, err := rt.ListPodSandboxes(ctx, nodes.SandboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, sb := range sbs {
			if sb.State == nodes.SandboxReady {
				running++
			}
		}
	}
	if running != 10 {
		t.Errorf("%d pod sandboxes running on the machines, want 10", running)
	}
}
