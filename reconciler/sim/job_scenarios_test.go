package sim

// Scenario tests of the Job controller: the upstream e2e Job tests
// (kubernetes/kubernetes test/e2e/apps/job.go, ttl_after_finished.go) that
// make sense without a real cluster, on the simulated cluster, asserting
// what upstream asserts with exact values.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/store"
)

// Upstream's e2e Job defaults: parallelism 2, completions 4.
const (
	jobParallelism = 2
	jobCompletions = 4
)

var (
	succeedAfter5s = fake.Behavior{CompleteAfter: 5 * time.Second}
	failAfter2s    = fake.Behavior{Fail: true, FailAfter: 2 * time.Second}
)

// "should run a job to completion when tasks succeed": SuccessCriteriaMet
// then Complete, exactly completions Succeeded pods, never more than
// parallelism running.
func TestJobRunsToCompletion(t *testing.T) {
	cl := newCluster(t, Options{Behavior: func(*corev1.Pod) fake.Behavior { return succeedAfter5s }})
	j := createJob(t, cl, newJob("all-succeed", jobParallelism, jobCompletions))
	check, most := maxActive(t, cl, j.UID, jobParallelism)
	runUntil(t, cl, "job finished", jobFinished(j.Name), check)

	j = getJob(t, cl, j.Name)
	checkJobCondition(t, j, batchv1.JobSuccessCriteriaMet, "CompletionsReached", "Reached expected number of succeeded pods")
	checkJobCondition(t, j, batchv1.JobComplete, "CompletionsReached", "Reached expected number of succeeded pods")
	if hasJobCondition(j, batchv1.JobFailed) {
		t.Error("a completed Job has a Failed condition")
	}
	st := j.Status
	if st.Succeeded != jobCompletions || st.Failed != 0 || st.Active != 0 || *st.Ready != 0 || *st.Terminating != 0 {
		t.Errorf("status succeeded/failed/active/ready/terminating = %d/%d/%d/%d/%d, want 4/0/0/0/0",
			st.Succeeded, st.Failed, st.Active, *st.Ready, *st.Terminating)
	}
	// Complete when the last pod finished.
	if st.StartTime == nil || !st.StartTime.Time.Equal(Epoch) || st.CompletionTime == nil || !st.CompletionTime.Time.Equal(lastFinish(podsOf(t, cl, j.UID))) {
		t.Errorf("startTime %v completionTime %v, want epoch and the last pod's finish", st.StartTime, st.CompletionTime)
	}
	if got := podsByPhase(podsOf(t, cl, j.UID)); got["Succeeded"] != jobCompletions || len(got) != 1 {
		t.Errorf("pods by phase %v, want exactly 4 Succeeded", got)
	}
	if most() != jobParallelism {
		t.Errorf("at most %d pods ran at once, want %d", most(), jobParallelism)
	}
	for _, p := range podsOf(t, cl, j.UID) {
		if slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer) {
			t.Errorf("pod %s still has the tracking finalizer: not counted", p.Name)
		}
		if p.Labels[batchv1.JobNameLabel] != j.Name || p.Labels[batchv1.ControllerUidLabel] != string(j.UID) {
			t.Errorf("pod %s labels %v, want job-name and controller-uid", p.Name, p.Labels)
		}
	}
	evs := eventsOf(t, cl, j.UID)
	if n := countPrefix(evs, "Normal SuccessfulCreate Created pod: all-succeed-"); n != jobCompletions {
		t.Errorf("%d SuccessfulCreate events, want 4: %q", n, evs)
	}
	if !slices.Contains(evs, "Normal Completed Job completed") {
		t.Errorf("events %q, want Completed", evs)
	}
}

func countPrefix(ss []string, prefix string) int {
	n := 0
	for _, s := range ss {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// Bad input, valid in Kubernetes: completions < parallelism runs only as
// many pods as completions are missing; status.active says so.
func TestJobCompletionsBelowParallelism(t *testing.T) {
	cl := newCluster(t, Options{Behavior: func(*corev1.Pod) fake.Behavior { return succeedAfter5s }})
	j := createJob(t, cl, newJob("few", 5, 2))
	check, most := maxActive(t, cl, j.UID, 2)
	runUntil(t, cl, "two pods running", func(cl *Cluster) bool { return getJob(t, cl, "few").Status.Active == 2 }, check)
	runUntil(t, cl, "job finished", jobFinished(j.Name), check)
	j = getJob(t, cl, j.Name)
	if !hasJobCondition(j, batchv1.JobComplete) || j.Status.Succeeded != 2 || most() != 2 {
		t.Errorf("complete %v succeeded %d most active %d, want true 2 2", hasJobCondition(j, batchv1.JobComplete), j.Status.Succeeded, most())
	}
	if n := len(podsOf(t, cl, j.UID)); n != 2 {
		t.Errorf("%d pods, want 2", n)
	}
	if evs := eventsOf(t, cl, j.UID, corev1.EventTypeWarning); len(evs) != 0 {
		t.Errorf("warnings %q", evs)
	}
}

// A Job with parallelism but no completions finishes when one pod
// succeeded and the others stopped (the work-queue pattern).
func TestJobWorkQueue(t *testing.T) {
	cl := newCluster(t, Options{Behavior: func(p *corev1.Pod) fake.Behavior {
		return fake.Behavior{CompleteAfter: time.Duration(len(p.Name)%3+1) * time.Second}
	}})
	j := newJob("queue", 3, 0)
	j.Spec.Completions = nil
	j = createJob(t, cl, j)
	runUntil(t, cl, "job finished", jobFinished(j.Name))
	j = getJob(t, cl, j.Name)
	if !hasJobCondition(j, batchv1.JobComplete) || j.Status.Succeeded != 3 || j.Status.Active != 0 {
		t.Errorf("status %+v, want Complete with 3 succeeded", j.Status)
	}
	if n := len(podsOf(t, cl, j.UID)); n != 3 {
		t.Errorf("%d pods, want 3: none started after the first success", n)
	}
}

// "should create pods for an Indexed job with completion indexes and
// specified hostname": every index succeeds exactly once.
func TestJobIndexed(t *testing.T) {
	cl := newCluster(t, Options{Behavior: func(*corev1.Pod) fake.Behavior { return succeedAfter5s }})
	j := createJob(t, cl, newJob("indexed", jobParallelism, jobCompletions, func(j *batchv1.Job) {
		j.Spec.CompletionMode = new(batchv1.IndexedCompletion)
	}))
	check, _ := maxActive(t, cl, j.UID, jobParallelism)
	runUntil(t, cl, "job finished", jobFinished(j.Name), check)
	j = getJob(t, cl, j.Name)
	if !hasJobCondition(j, batchv1.JobComplete) || j.Status.CompletedIndexes != "0-3" || j.Status.Succeeded != 4 {
		t.Errorf("complete %v completedIndexes %q succeeded %d, want true 0-3 4",
			hasJobCondition(j, batchv1.JobComplete), j.Status.CompletedIndexes, j.Status.Succeeded)
	}
	byIndex := map[string]int{}
	for _, p := range podsOf(t, cl, j.UID) {
		ix := p.Annotations[batchv1.JobCompletionIndexAnnotation]
		byIndex[ix]++
		if p.Labels[batchv1.JobCompletionIndexAnnotation] != ix {
			t.Errorf("pod %s: index label %q, annotation %q", p.Name, p.Labels[batchv1.JobCompletionIndexAnnotation], ix)
		}
		if want := "indexed-" + ix; p.Spec.Hostname != want || !strings.HasPrefix(p.Name, want+"-") {
			t.Errorf("pod %s hostname %q, want %q and name prefix %s-", p.Name, p.Spec.Hostname, want, want)
		}
		env := p.Spec.Containers[0].Env
		if len(env) != 1 || env[0].Name != "JOB_COMPLETION_INDEX" || env[0].ValueFrom == nil ||
			env[0].ValueFrom.FieldRef.FieldPath != "metadata.labels['batch.kubernetes.io/job-completion-index']" {
			t.Errorf("pod %s env %+v", p.Name, env)
		}
		if p.Status.Phase != corev1.PodSucceeded {
			t.Errorf("pod %s %s", p.Name, p.Status.Phase)
		}
	}
	if want := map[string]int{"0": 1, "1": 1, "2": 1, "3": 1}; fmt.Sprint(byIndex) != fmt.Sprint(want) {
		t.Errorf("pods per index %v, want %v", byIndex, want)
	}
}

// Indexed, with failures: a failed index is retried (lowest first) until
// it succeeds; each index succeeds once.
func TestJobIndexedRetriesFailedIndexes(t *testing.T) {
	pp := &perPod{seen: map[string]fake.Behavior{}, steps: []fake.Behavior{failAfter2s, succeedAfter5s, failAfter2s, succeedAfter5s}}
	cl := newCluster(t, Options{Behavior: pp.behavior})
	j := createJob(t, cl, newJob("retry", jobParallelism, jobCompletions, func(j *batchv1.Job) {
		j.Spec.CompletionMode = new(batchv1.IndexedCompletion)
	}))
	runUntil(t, cl, "job finished", jobFinished(j.Name))
	j = getJob(t, cl, j.Name)
	if !hasJobCondition(j, batchv1.JobComplete) || j.Status.CompletedIndexes != "0-3" || j.Status.Succeeded != 4 || j.Status.Failed != 2 {
		t.Errorf("status %+v, want Complete, 0-3, 4 succeeded, 2 failed", j.Status)
	}
	succeeded := map[string]int{}
	for _, p := range podsOf(t, cl, j.UID) {
		if p.Status.Phase == corev1.PodSucceeded {
			succeeded[p.Annotations[batchv1.JobCompletionIndexAnnotation]]++
		}
	}
	if want := map[string]int{"0": 1, "1": 1, "2": 1, "3": 1}; fmt.Sprint(succeeded) != fmt.Sprint(want) {
		t.Errorf("succeeded pods per index %v, want %v", succeeded, want)
	}
}

// "should fail to exceed backoffLimit": backoffLimit 1, pods always fail:
// BackoffLimitExceeded with exactly two pods, both Failed; the second
// created 10s (the first backoff) after the first failed.
func TestJobBackoffLimitExceeded(t *testing.T) {
	cl := newCluster(t, Options{Behavior: func(*corev1.Pod) fake.Behavior { return failAfter2s }})
	j := createJob(t, cl, newJob("backoff", 1, 1, func(j *batchv1.Job) { j.Spec.BackoffLimit = new(int32(1)) }))
	runUntil(t, cl, "job finished", jobFinished(j.Name))
	runIdle(t, cl)

	j = getJob(t, cl, j.Name)
	checkJobCondition(t, j, batchv1.JobFailureTarget, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	checkJobCondition(t, j, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	if hasJobCondition(j, batchv1.JobComplete) || j.Status.CompletionTime != nil {
		t.Error("a failed Job is complete")
	}
	if j.Status.Failed != 2 || j.Status.Succeeded != 0 || j.Status.Active != 0 {
		t.Errorf("failed/succeeded/active %d/%d/%d, want 2/0/0", j.Status.Failed, j.Status.Succeeded, j.Status.Active)
	}
	pods := podsOf(t, cl, j.UID)
	if got := podsByPhase(pods); len(pods) != 2 || got["Failed"] != 2 {
		t.Fatalf("pods %v by phase %v, want exactly 2, both Failed", podNames(pods), got)
	}
	if gaps := backoffGaps(pods); !slices.Equal(gaps, []string{"10s"}) {
		t.Errorf("second pod created %v after the first failed, want 10s", gaps)
	}
	evs := eventsOf(t, cl, j.UID, "BackoffLimitExceeded")
	if want := []string{"Warning BackoffLimitExceeded Job has reached the specified backoff limit"}; !slices.Equal(evs, want) {
		t.Errorf("events %q, want %q", evs, want)
	}
}

// Pod failure backoff doubles: with pods that always fail, the gap between
// one pod's failure and the next pod is 10s, 20s, 40s, 80s.
func TestJobPodFailureBackoffDoubles(t *testing.T) {
	cl := newCluster(t, Options{Behavior: func(*corev1.Pod) fake.Behavior { return failAfter2s }})
	j := createJob(t, cl, newJob("doubling", 1, 1, func(j *batchv1.Job) { j.Spec.BackoffLimit = new(int32(4)) }))
	runUntil(t, cl, "job finished", jobFinished(j.Name))
	if gaps, want := backoffGaps(podsOf(t, cl, j.UID)), []string{"10s", "20s", "40s", "1m20s"}; !slices.Equal(gaps, want) {
		t.Errorf("from one pod's failure to the next pod: %v, want %v", gaps, want)
	}
	if j = getJob(t, cl, j.Name); j.Status.Failed != 5 || !hasJobCondition(j, batchv1.JobFailed) {
		t.Errorf("failed %d, want 5 and Failed", j.Status.Failed)
	}
}

// "should run a job to completion when tasks sometimes fail and are not
// locally restarted": restartPolicy Never, the first pod fails: a new pod
// replaces it and the Job completes.
func TestJobNeverReplacesFailedPod(t *testing.T) {
	pp := &perPod{seen: map[string]fake.Behavior{}, steps: []fake.Behavior{failAfter2s, succeedAfter5s}}
	cl := newCluster(t, Options{Behavior: pp.behavior})
	j := createJob(t, cl, newJob("never", 1, 1))
	runUntil(t, cl, "job finished", jobFinished(j.Name))
	j = getJob(t, cl, j.Name)
	if !hasJobCondition(j, batchv1.JobComplete) || j.Status.Failed != 1 || j.Status.Succeeded != 1 {
		t.Errorf("status %+v, want Complete, 1 failed, 1 succeeded", j.Status)
	}
	if got := podsByPhase(podsOf(t, cl, j.UID)); got["Failed"] != 1 || got["Succeeded"] != 1 || len(got) != 2 {
		t.Errorf("pods by phase %v, want 1 Failed and 1 Succeeded", got)
	}
}

// "should run a job to completion when tasks sometimes fail and are
// locally restarted": restartPolicy OnFailure restarts the container in
// the same pod; the Job completes with that one pod and no failure.
func TestJobOnFailureRestartsInPlace(t *testing.T) {
	s := newScript(failAfter2s, succeedAfter5s)
	cl := newCluster(t, Options{Behavior: byJob(map[string]*script{"onfailure": s})})
	j := createJob(t, cl, newJob("onfailure", 1, 1, func(j *batchv1.Job) {
		j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	}))
	runUntil(t, cl, "job finished", jobFinished(j.Name))
	j = getJob(t, cl, j.Name)
	if !hasJobCondition(j, batchv1.JobComplete) || j.Status.Failed != 0 || j.Status.Succeeded != 1 {
		t.Errorf("status %+v, want Complete, 0 failed, 1 succeeded", j.Status)
	}
	pods := podsOf(t, cl, j.UID)
	if len(pods) != 1 || pods[0].Status.Phase != corev1.PodSucceeded || pods[0].Status.ContainerStatuses[0].RestartCount != 1 {
		t.Errorf("pods %v, want one Succeeded pod restarted once", podNames(pods))
	}
}

// OnFailure: container restarts count toward backoffLimit; the Job fails
// with BackoffLimitExceeded once they reach it, and its pod is deleted.
func TestJobOnFailureRestartsExceedBackoffLimit(t *testing.T) {
	cl := newCluster(t, Options{Behavior: func(*corev1.Pod) fake.Behavior { return failAfter2s }})
	j := createJob(t, cl, newJob("crashloop", 1, 1, func(j *batchv1.Job) {
		j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
		j.Spec.BackoffLimit = new(int32(2))
	}))
	runUntil(t, cl, "job finished", jobFinished(j.Name))
	runIdle(t, cl)
	j = getJob(t, cl, j.Name)
	checkJobCondition(t, j, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	if j.Status.Failed != 1 || j.Status.Active != 0 {
		t.Errorf("failed/active %d/%d, want 1/0 (the deleted pod counts as failed)", j.Status.Failed, j.Status.Active)
	}
	if pods := podsOf(t, cl, j.UID); len(pods) != 0 {
		t.Errorf("pods %v left, want the crash-looping pod deleted", podNames(pods))
	}
}

// "should fail when exceeds active deadline": the Job fails exactly
// activeDeadlineSeconds after it started, FailureTarget first, and its
// running pods are deleted (and counted as failed).
func TestJobActiveDeadline(t *testing.T) {
	cl := newCluster(t, Options{}) // pods run forever
	j := createJob(t, cl, newJob("deadline", jobParallelism, jobCompletions, func(j *batchv1.Job) {
		j.Spec.ActiveDeadlineSeconds = new(int64(10))
	}))
	runUntil(t, cl, "failure target", func(cl *Cluster) bool {
		return hasJobCondition(getJob(t, cl, j.Name), batchv1.JobFailureTarget)
	})
	if at := cl.Now().Sub(Epoch); at != 10*time.Second {
		t.Errorf("FailureTarget at %v, want 10s", at)
	}
	runUntil(t, cl, "job finished", jobFinished(j.Name))
	runIdle(t, cl)
	j = getJob(t, cl, j.Name)
	checkJobCondition(t, j, batchv1.JobFailureTarget, "DeadlineExceeded", "Job was active longer than specified deadline")
	checkJobCondition(t, j, batchv1.JobFailed, "DeadlineExceeded", "Job was active longer than specified deadline")
	if j.Status.Failed != jobParallelism || j.Status.Active != 0 || *j.Status.Terminating != 0 {
		t.Errorf("failed/active/terminating %d/%d/%d, want 2/0/0", j.Status.Failed, j.Status.Active, *j.Status.Terminating)
	}
	if pods := podsOf(t, cl, j.UID); len(pods) != 0 {
		t.Errorf("pods %v left", podNames(pods))
	}
	evs := eventsOf(t, cl, j.UID, "DeadlineExceeded", "SuccessfulDelete")
	want := []string{"Normal SuccessfulDelete", "Normal SuccessfulDelete", "Warning DeadlineExceeded Job was active longer than specified deadline"}
	if len(evs) != 3 || !strings.HasPrefix(evs[0], want[0]) || !strings.HasPrefix(evs[1], want[1]) || evs[2] != want[2] {
		t.Errorf("events %q, want %q", evs, want)
	}
}

// "should not create pods when created in suspend state" and "should
// delete pods when suspended": no pods while suspended, Suspended
// condition; resumed, the Job restarts its clock and completes; suspended
// again while running, its pods go and nothing counts as failed.
func TestJobSuspendResume(t *testing.T) {
	cl := newCluster(t, Options{Behavior: func(*corev1.Pod) fake.Behavior { return fake.Behavior{CompleteAfter: time.Minute} }})
	j := createJob(t, cl, newJob("suspend", jobParallelism, jobCompletions, func(j *batchv1.Job) {
		j.Spec.Suspend = new(true)
	}))
	runFor(t, cl, time.Minute)
	j = getJob(t, cl, j.Name)
	checkJobCondition(t, j, batchv1.JobSuspended, "JobSuspended", "Job suspended")
	if n := len(podsOf(t, cl, j.UID)); n != 0 || j.Status.StartTime != nil {
		t.Fatalf("%d pods, startTime %v while created suspended, want none", n, j.Status.StartTime)
	}

	updateJob(t, cl, j.Name, func(j *batchv1.Job) { j.Spec.Suspend = new(false) })
	resumedAt := cl.Now()
	runUntil(t, cl, "2 ready", func(cl *Cluster) bool { r := getJob(t, cl, "suspend").Status.Ready; return r != nil && *r == 2 })
	j = getJob(t, cl, j.Name)
	if c := jobCondition(j, batchv1.JobSuspended); c == nil || c.Status != corev1.ConditionFalse || c.Reason != "JobResumed" || c.Message != "Job resumed" {
		t.Errorf("Suspended condition %+v, want False JobResumed", c)
	}
	if j.Status.StartTime == nil || !j.Status.StartTime.Time.Equal(resumedAt) {
		t.Errorf("startTime %v, want the resume time %v", j.Status.StartTime, resumedAt)
	}

	updateJob(t, cl, j.Name, func(j *batchv1.Job) { j.Spec.Suspend = new(true) })
	runUntil(t, cl, "pods gone", func(cl *Cluster) bool { return len(podsOf(t, cl, j.UID)) == 0 })
	runIdle(t, cl)
	j = getJob(t, cl, j.Name)
	checkJobCondition(t, j, batchv1.JobSuspended, "JobSuspended", "Job suspended")
	if j.Status.Active != 0 || *j.Status.Ready != 0 || j.Status.Failed != 0 || jobIsFinished(j) {
		t.Errorf("status %+v, want nothing active, nothing failed, not finished", j.Status)
	}

	updateJob(t, cl, j.Name, func(j *batchv1.Job) { j.Spec.Suspend = new(false) })
	runUntil(t, cl, "job finished", jobFinished(j.Name))
	j = getJob(t, cl, j.Name)
	if !hasJobCondition(j, batchv1.JobComplete) || j.Status.Succeeded != jobCompletions || j.Status.Failed != 0 {
		t.Errorf("status %+v, want Complete with 4 succeeded, 0 failed", j.Status)
	}
	// Twice each: the recorder counts a repeated event.
	evs, err := cl.EventsFor(context.Background(), scNS, j.UID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		if ev.Reason == "Suspended" || ev.Reason == "Resumed" {
			got = append(got, fmt.Sprintf("%s %s x%d", ev.Reason, ev.Message, ev.Count))
		}
	}
	if want := []string{"Suspended Job suspended x2", "Resumed Job resumed x2"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// jobIsFinished: Complete or Failed.
func jobIsFinished(j *batchv1.Job) bool {
	return hasJobCondition(j, batchv1.JobComplete) || hasJobCondition(j, batchv1.JobFailed)
}

// "job should be deleted once it finishes after TTL seconds": the Job and
// its pods go ttlSecondsAfterFinished after it finished, not before.
func TestJobTTLAfterFinished(t *testing.T) {
	cl := newCluster(t, Options{Behavior: func(*corev1.Pod) fake.Behavior { return succeedAfter5s }})
	j := createJob(t, cl, newJob("ttl", 1, 1, func(j *batchv1.Job) { j.Spec.TTLSecondsAfterFinished = new(int32(10)) }))
	runUntil(t, cl, "job finished", jobFinished(j.Name))
	finishedAt := cl.Now()
	gone := func(cl *Cluster) bool {
		_, err := cl.Store.Get(context.Background(), "Job", scNS, "ttl")
		return err != nil
	}
	runUntil(t, cl, "job deleted", gone)
	if d := cl.Now().Sub(finishedAt); d != 10*time.Second {
		t.Errorf("deleted %v after finishing, want 10s", d)
	}
	runIdle(t, cl)
	if pods := podsOf(t, cl, j.UID); len(pods) != 0 {
		t.Errorf("pods %v left after the Job was deleted", podNames(pods))
	}
}

// "should delete a job": deleting a running Job deletes its pods.
func TestJobDeleteRemovesPods(t *testing.T) {
	cl := newCluster(t, Options{})
	j := createJob(t, cl, newJob("delete", jobParallelism, jobCompletions))
	runUntil(t, cl, "active == parallelism", func(cl *Cluster) bool { return getJob(t, cl, "delete").Status.Active == jobParallelism })
	if err := cl.Store.Delete(context.Background(), "Job", scNS, j.Name, store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	runIdle(t, cl)
	if pods := podsOf(t, cl, j.UID); len(pods) != 0 {
		t.Errorf("pods %v left", podNames(pods))
	}
}

// "should adopt matching orphans and release non-matching pods": a pod
// whose owner reference is cleared is adopted again; one whose labels no
// longer match is released, and replaced.
func TestJobAdoptAndRelease(t *testing.T) {
	cl := newCluster(t, Options{})
	j := createJob(t, cl, newJob("adopt", jobParallelism, jobCompletions))
	runUntil(t, cl, "active == parallelism", func(cl *Cluster) bool { return getJob(t, cl, "adopt").Status.Active == jobParallelism })
	ctx := context.Background()
	pods := podsOf(t, cl, j.UID)

	orphan := pods[0].DeepCopy()
	orphan.OwnerReferences = nil
	if _, err := cl.Store.Update(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	runIdle(t, cl)
	obj, err := cl.Store.Get(ctx, "Pod", scNS, orphan.Name)
	if err != nil {
		t.Fatal(err)
	}
	if p := obj.(*corev1.Pod); len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != j.UID {
		t.Errorf("orphan not adopted: %+v", p.OwnerReferences)
	}

	obj, _ = cl.Store.Get(ctx, "Pod", scNS, pods[1].Name)
	stray := obj.(*corev1.Pod)
	stray.Labels = map[string]string{"other": "x"}
	if _, err := cl.Store.Update(ctx, stray); err != nil {
		t.Fatal(err)
	}
	runUntil(t, cl, "replaced", func(cl *Cluster) bool { return activeJobPods(t, cl, j.UID) == jobParallelism })
	obj, _ = cl.Store.Get(ctx, "Pod", scNS, stray.Name)
	if p := obj.(*corev1.Pod); len(p.OwnerReferences) != 0 || slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer) {
		t.Errorf("released pod keeps owner %+v / finalizers %v", p.OwnerReferences, p.Finalizers)
	}
}

// A restart of the control plane (every controller rebuilt on the same
// store, the nodes' containers still running) at any point of a Job's run
// creates no extra pod: exactly completions pods succeed, none is counted
// twice.
func TestJobControllerRestart(t *testing.T) {
	for _, at := range []time.Duration{0, 1 * time.Second, 5 * time.Second, 6 * time.Second, 12 * time.Second} {
		t.Run(at.String(), func(t *testing.T) {
			behavior := func(*corev1.Pod) fake.Behavior { return succeedAfter5s }
			cl := newCluster(t, Options{Behavior: behavior})
			j := createJob(t, cl, newJob("restart", jobParallelism, jobCompletions))
			runFor(t, cl, at)
			// Restart: a new control plane on the same store and clock.
			cl = newCluster(t, Options{Behavior: behavior, Store: cl.Store, Clock: cl.Clock, Runtimes: cl.Runtimes})
			runUntil(t, cl, "job finished", jobFinished(j.Name))
			runIdle(t, cl)
			j = getJob(t, cl, j.Name)
			pods := podsOf(t, cl, j.UID)
			if !hasJobCondition(j, batchv1.JobComplete) || j.Status.Succeeded != jobCompletions || len(pods) != jobCompletions {
				t.Errorf("complete %v, succeeded %d, %d pods %v; want true, 4, 4",
					hasJobCondition(j, batchv1.JobComplete), j.Status.Succeeded, len(pods), podNames(pods))
			}
		})
	}
}

// A pod deleted before it ran (unscheduled: the store removes it at once,
// as the API server does without finalizers) still counts as failed, as
// upstream's tracking finalizer ensures: with backoffLimit 0 the Job
// fails. (berth remembers such a pod in memory; see the job package.)
func TestJobDeletedUnscheduledPodCountsAsFailed(t *testing.T) {
	cl := newCluster(t, Options{})
	j := createJob(t, cl, newJob("unschedulable", 1, 1, func(j *batchv1.Job) {
		j.Spec.BackoffLimit = new(int32(0))
		j.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "none"}
	}))
	runUntil(t, cl, "a pod", func(cl *Cluster) bool { return len(podsOf(t, cl, j.UID)) == 1 })
	pod := podsOf(t, cl, j.UID)[0]
	if err := cl.Store.Delete(context.Background(), "Pod", scNS, pod.Name, store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	runUntil(t, cl, "job finished", jobFinished(j.Name))
	j = getJob(t, cl, j.Name)
	checkJobCondition(t, j, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	if j.Status.Failed != 1 {
		t.Errorf("failed %d, want 1", j.Status.Failed)
	}
	if pods := podsOf(t, cl, j.UID); len(pods) != 0 {
		t.Errorf("pods %v, want none: no replacement for a failed Job", podNames(pods))
	}
}
