package sim

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/workloads"
)

// Helpers of the Job scenarios (job_scenarios_test.go), after upstream's
// test/e2e/framework/job.

// newJob is upstream's e2e NewTestJob: one container "c", restartPolicy
// Never, the given parallelism and completions, backoffLimit 6, unless
// mutate says otherwise.
func newJob(name string, parallelism, completions int32, mutate ...func(*batchv1.Job)) *batchv1.Job {
	j := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: scNS},
		Spec: batchv1.JobSpec{
			Parallelism: &parallelism,
			Completions: &completions,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "c", Image: "busybox"}},
				},
			},
		},
	}
	for _, m := range mutate {
		m(j)
	}
	return j
}

// createJob stores j as kubectl create does (defaults applied).
func createJob(t *testing.T, cl *Cluster, j *batchv1.Job) *batchv1.Job {
	t.Helper()
	j = j.DeepCopy()
	workloads.Default(j)
	obj, err := cl.Store.Create(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*batchv1.Job)
}

func getJob(t *testing.T, cl *Cluster, name string) *batchv1.Job {
	t.Helper()
	obj, err := cl.Store.Get(context.Background(), "Job", scNS, name)
	if err != nil {
		t.Fatalf("Job %s: %v", name, err)
	}
	return obj.(*batchv1.Job)
}

// updateJob applies mutate to the stored Job, retrying on conflicts.
func updateJob(t *testing.T, cl *Cluster, name string, mutate func(*batchv1.Job)) {
	t.Helper()
	for range 10 {
		j := getJob(t, cl, name)
		mutate(j)
		_, err := cl.Store.Update(context.Background(), j)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("Job %s: too many conflicts", name)
}

// jobCondition returns the Job's condition of type ct, or nil.
func jobCondition(j *batchv1.Job, ct batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == ct {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

func hasJobCondition(j *batchv1.Job, ct batchv1.JobConditionType) bool {
	c := jobCondition(j, ct)
	return c != nil && c.Status == corev1.ConditionTrue
}

// jobFinished is upstream's WaitForJobFinish condition.
func jobFinished(name string) func(*Cluster) bool {
	return func(cl *Cluster) bool {
		obj, err := cl.Store.Get(context.Background(), "Job", scNS, name)
		if err != nil {
			return false
		}
		j := obj.(*batchv1.Job)
		return hasJobCondition(j, batchv1.JobComplete) || hasJobCondition(j, batchv1.JobFailed)
	}
}

// checkJobCondition asserts the Job has condition ct True with reason and
// message.
func checkJobCondition(t *testing.T, j *batchv1.Job, ct batchv1.JobConditionType, reason, message string) {
	t.Helper()
	c := jobCondition(j, ct)
	if c == nil || c.Status != corev1.ConditionTrue || c.Reason != reason || c.Message != message {
		t.Errorf("condition %s = %+v, want True %s %q", ct, c, reason, message)
	}
}

// podsByPhase counts the pods per phase ("Terminating" for those being
// deleted).
func podsByPhase(pods []*corev1.Pod) map[string]int {
	out := map[string]int{}
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			out["Terminating"]++
			continue
		}
		out[string(p.Status.Phase)]++
	}
	return out
}

// activeJobPods counts the pods of uid that are neither finished nor
// being deleted.
func activeJobPods(t *testing.T, cl *Cluster, uid types.UID) int {
	t.Helper()
	n := 0
	for _, p := range podsOf(t, cl, uid) {
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			n++
		}
	}
	return n
}

// maxActive returns a check that fails the test when the Job with uid has
// more than limit active pods, and a func reporting the most seen.
func maxActive(t *testing.T, cl *Cluster, uid types.UID, limit int) (check func(), most func() int) {
	seen := 0
	return func() {
			n := activeJobPods(t, cl, uid)
			seen = max(seen, n)
			if n > limit {
				t.Fatalf("%d active pods at %s, want at most %d", n, cl.Now().Sub(Epoch), limit)
			}
		}, func() int {
			return seen
		}
}

// script gives each pod a list of behaviours, one per container start, in
// order (the last repeats): "fails once then succeeds".
type script struct {
	mu     sync.Mutex
	starts map[string]int
	steps  []fake.Behavior
}

func newScript(steps ...fake.Behavior) *script {
	return &script{starts: map[string]int{}, steps: steps}
}

// byJob gives each pod the script of its Job (batch.kubernetes.io/job-name
// label), healthy-forever for pods of no listed Job.
func byJob(scripts map[string]*script) fake.BehaviorFunc {
	return func(p *corev1.Pod) fake.Behavior {
		s := scripts[p.Labels[batchv1.JobNameLabel]]
		if s == nil {
			return fake.Behavior{}
		}
		return s.next(p)
	}
}

// next is the behaviour of pod's next container start.
func (s *script) next(p *corev1.Pod) fake.Behavior {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.starts[p.Name]
	s.starts[p.Name]++
	return s.steps[min(n, len(s.steps)-1)]
}

// perPod gives each new pod of a Job the next behaviour (the last
// repeats): "the first pod fails, the next succeed".
type perPod struct {
	mu    sync.Mutex
	seen  map[string]fake.Behavior
	steps []fake.Behavior
}

func (pp *perPod) behavior(p *corev1.Pod) fake.Behavior {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if b, ok := pp.seen[p.Name]; ok {
		return b
	}
	b := pp.steps[min(len(pp.seen), len(pp.steps)-1)]
	pp.seen[p.Name] = b
	return b
}

func podNames(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

// finishedAt is when the pod's first container exited.
func finishedAt(p *corev1.Pod) time.Time {
	for _, s := range p.Status.ContainerStatuses {
		if t := s.State.Terminated; t != nil {
			return t.FinishedAt.Time
		}
	}
	return time.Time{}
}

// lastFinish is the latest finishedAt of pods.
func lastFinish(pods []*corev1.Pod) time.Time {
	var last time.Time
	for _, p := range pods {
		if f := finishedAt(p); f.After(last) {
			last = f
		}
	}
	return last
}

// backoffGaps returns, for pods that ran one after another, the time from
// each pod's finish to the creation of the next.
func backoffGaps(pods []*corev1.Pod) []string {
	pods = slices.Clone(pods)
	slices.SortFunc(pods, func(a, b *corev1.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	var out []string
	for i := 1; i < len(pods); i++ {
		out = append(out, pods[i].CreationTimestamp.Sub(finishedAt(pods[i-1])).String())
	}
	return out
}
