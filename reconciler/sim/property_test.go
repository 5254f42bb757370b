package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/rollouts"
)

// rolloutCase is one random rollout: a Deployment's size and strategy,
// and how its pods behave.
type rolloutCase struct {
	seed           uint64
	replicas       int32
	maxSurge       intstr.IntOrString
	maxUnavailable intstr.IntOrString
	// maxReadyDelay bounds each pod's readiness delay; failRate is the
	// chance (in %) that a container crashes on start, up to twice per pod,
	// before it runs.
	maxReadyDelay time.Duration
	failRate      int
}

func (c rolloutCase) String() string {
	return fmt.Sprintf("seed=%d replicas=%d maxSurge=%s maxUnavailable=%s readyDelay<=%s fail=%d%%",
		c.seed, c.replicas, c.maxSurge.String(), c.maxUnavailable.String(), c.maxReadyDelay, c.failRate)
}

func randomIntOrPercent(r *rand.Rand) intstr.IntOrString {
	if r.IntN(2) == 0 {
		return intstr.FromInt32(int32(r.IntN(6)))
	}
	return intstr.FromString(fmt.Sprintf("%d%%", r.IntN(101)))
}

func randomCase(seed uint64) rolloutCase {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	c := rolloutCase{
		seed:          seed,
		replicas:      int32(r.IntN(51)),
		maxReadyDelay: time.Duration(r.IntN(30)) * time.Second,
		failRate:      []int{0, 0, 10, 30}[r.IntN(4)],
	}
	for {
		c.maxSurge, c.maxUnavailable = randomIntOrPercent(r), randomIntOrPercent(r)
		// Validation refuses both written as zero; percentages that round
		// to zero are legal (then maxUnavailable counts as 1).
		if c.maxSurge.String() != "0" || c.maxUnavailable.String() != "0" {
			return c
		}
	}
}

// behavior gives each pod a readiness delay and a few crashes, decided by
// the pod's name and how many containers it has started, so that a run is
// reproducible.
func (c rolloutCase) behavior() fake.BehaviorFunc {
	starts := map[string]int{}
	return func(pod *corev1.Pod) fake.Behavior {
		n := starts[pod.Name]
		starts[pod.Name]++
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%s/%d", c.seed, pod.Name, n)
		v := h.Sum64()
		b := fake.Behavior{}
		if c.maxReadyDelay > 0 {
			b.ReadyAfter = time.Duration(v%uint64(c.maxReadyDelay/time.Millisecond)) * time.Millisecond
		}
		if n < 2 && int((v>>32)%100) < c.failRate {
			b.Fail, b.FailAfter = true, time.Duration(1+v%5)*time.Second
		}
		return b
	}
}

func testDeployment(c rolloutCase, image string) *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &c.replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &c.maxSurge, MaxUnavailable: &c.maxUnavailable},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
}

// runRollout deploys v1, waits for it, rolls to v2, and checks every state
// on the way; it returns the final Deployment.
func runRollout(t testing.TB, c rolloutCase) *appsv1.Deployment {
	ctx := context.Background()
	cl, err := New(Options{Nodes: 3, Behavior: c.behavior()})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := NewChecker(ctx, cl.Store, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	for _, image := range []string{"app:v1", "app:v2"} {
		if _, err := cl.ApplyDeployment(ctx, testDeployment(c, image)); err != nil {
			t.Fatalf("%v: apply %s: %v", c, image, err)
		}
		if err := cl.RunChecked(ctx, time.Hour, ch.Check); err != nil {
			t.Fatalf("%v: %s: %v", c, image, err)
		}
	}
	if ch.Violations != nil {
		t.Fatalf("%v:\n%v", c, ch.Violations)
	}
	obj, err := cl.Store.Get(ctx, "Deployment", "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	d := obj.(*appsv1.Deployment)
	if !rollouts.DeploymentComplete(d, &d.Status) || d.Status.Replicas != c.replicas {
		t.Fatalf("%v: rollout did not complete: %+v", c, d.Status)
	}
	if got := d.Annotations[rollouts.RevisionAnnotation]; got != "2" {
		t.Fatalf("%v: revision %q, want 2", c, got)
	}
	return d
}

// TestRolloutProperties runs random rollouts and checks, at every state
// the store passes through, that the rollout stays within maxSurge and
// maxUnavailable, and that it completes.
func TestRolloutProperties(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	// Each case is its own cluster on its own fake clock: run them on
	// every core, a shard per subtest.
	shards := runtime.GOMAXPROCS(0)
	for shard := range shards {
		t.Run(fmt.Sprint("shard=", shard), func(t *testing.T) {
			t.Parallel()
			for seed := uint64(shard); seed < uint64(n); seed += uint64(shards) {
				runRollout(t, randomCase(seed))
			}
		})
	}
}
