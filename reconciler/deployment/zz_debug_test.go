package deployment_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/sim"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
	"hash/fnv"
)

func TestZZDebugSeed6(t *testing.T) {
	ctx := context.Background()
	replicas := int32(44)
	surge, unav := intstr.FromString("6%"), intstr.FromString("90%")
	readyDelay := 11 * time.Second
	starts := map[string]int{}
	beh := func(pod *corev1.Pod) fake.Behavior {
		n := starts[pod.Name]
		starts[pod.Name]++
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%s/%d", 6, pod.Name, n)
		v := h.Sum64()
		b := fake.Behavior{}
		b.ReadyAfter = time.Duration(v%uint64(readyDelay/time.Millisecond)) * time.Millisecond
		if n < 2 && int((v>>32)%100) < 30 {
			b.Fail, b.FailAfter = true, time.Duration(1+v%5)*time.Second
		}
		return b
	}
	rec := controller.NewFakeRecorder()
	cl, err := sim.New(sim.Options{Nodes: 3, Behavior: beh})
	_ = rec
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := sim.NewChecker(ctx, cl.Store, "default", "web")
	w, _ := cl.Store.Watch(ctx, "", 0)
	mk := func(image string) *appsv1.Deployment {
		labels := map[string]string{"app": "web"}
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unav}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}}},
		}
	}
	ready := map[string]bool{}
	avail := 0
	lastViol := 0
	drain := func() {
		for {
			select {
			case ev := <-w:
				switch o := ev.Object.(type) {
				case *corev1.Pod:
					was := ready[o.Name]
					now := ev.Type != store.Deleted && o.DeletionTimestamp == nil && rollouts.IsPodReady(o)
					if was != now {
						fmt.Printf("rv %d pod %s ready %v -> %v (type %s, deleting %v)\n", ev.ResourceVersion, o.Name, was, now, ev.Type, o.DeletionTimestamp != nil)
						if now {
							avail++
						} else {
							avail--
						}
					}
					ready[o.Name] = now
				case *appsv1.ReplicaSet:
					fmt.Printf("rv %d rs %s spec %d status r%d ready%d avail%d gen%d/%d\n", ev.ResourceVersion, o.Name, *o.Spec.Replicas, o.Status.Replicas, o.Status.ReadyReplicas, o.Status.AvailableReplicas, o.Generation, o.Status.ObservedGeneration)
				}
			default:
				return
			}
		}
	}
	for _, image := range []string{"app:v1", "app:v2"} {
		cl.ApplyDeployment(ctx, mk(image))
		if image == "app:v2" {
			fmt.Println("=== v2")
		}
		cl.RunChecked(ctx, time.Hour, func() {
			if image == "app:v2" {
				drain()
			} else {
				for len(w) > 0 {
					<-w
				}
			}
			ch.Check()
			if len(ch.Violations) > lastViol {
				fmt.Println("VIOLATION", ch.Violations[lastViol:])
				lastViol = len(ch.Violations)
			}
		})
		if image == "app:v1" {
			for k := range ready {
				delete(ready, k)
			}
			pods, _, _ := cl.Store.List(ctx, "Pod", store.ListOptions{})
			for _, o := range pods {
				p := o.(*corev1.Pod)
				ready[p.Name] = p.DeletionTimestamp == nil && rollouts.IsPodReady(p)
			}
		}
	}
	_ = avail
}
