package sim

// Scenario tests of the CronJob controller: the upstream e2e CronJob tests
// (kubernetes/kubernetes test/e2e/apps/cronjob.go) that make sense on the
// simulated cluster, plus restarts of the control plane. Jobs run on the
// fake nodes through the Job controller.

import (
	"context"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
)

// "should schedule multiple jobs concurrently": Allow, jobs that sleep.
func TestCronJobAllowRunsConcurrentJobs(t *testing.T) {
	cl := newCluster(t, Options{Behavior: cjBehavior})
	cjCreate(t, cl, cjSpec("concurrent", cjSleepImage))
	runFor(t, cl, 3*time.Minute+time.Second)

	want := []string{cjMinute("concurrent", 1), cjMinute("concurrent", 2), cjMinute("concurrent", 3)}
	if got := cjJobNames(cjJobs(t, cl, "concurrent")); !slices.Equal(got, want) {
		t.Fatalf("jobs %v, want %v", got, want)
	}
	if got := cjActive(cjGet(t, cl, "concurrent")); !slices.Equal(got, want) {
		t.Errorf("active %v, want %v", got, want)
	}
	// Each runs its pod at the same time.
	for _, j := range cjJobs(t, cl, "concurrent") {
		pods, err := cl.PodsOf(context.Background(), scNS, j.UID)
		if err != nil {
			t.Fatal(err)
		}
		if len(pods) != 1 || pods[0].Status.Phase != corev1.PodRunning {
			t.Errorf("job %s: %d pods", j.Name, len(pods))
		}
	}
}

// "should not schedule jobs when suspended".
func TestCronJobSuspended(t *testing.T) {
	cl := newCluster(t, Options{Behavior: cjBehavior})
	cjCreate(t, cl, cjSpec("suspended", cjSleepImage, func(cj *batchv1.CronJob) { cj.Spec.Suspend = new(true) }))
	runFor(t, cl, 5*time.Minute)
	if jobs := cjJobs(t, cl, "suspended"); len(jobs) != 0 {
		t.Fatalf("jobs %v", cjJobNames(jobs))
	}
	if cj := cjGet(t, cl, "suspended"); len(cj.Status.Active) != 0 || cj.Status.LastScheduleTime != nil {
		t.Fatalf("status %+v", cj.Status)
	}
}

// "should not schedule new jobs when ForbidConcurrent": never two active.
func TestCronJobForbidSkipsWhileAJobRuns(t *testing.T) {
	cl := newCluster(t, Options{Behavior: cjBehavior})
	cjCreate(t, cl, cjSpec("forbid", cjSleepImage, func(cj *batchv1.CronJob) {
		cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
	}))
	check := func() {
		if cj, err := cl.Store.Get(context.Background(), "CronJob", scNS, "forbid"); err == nil {
			if n := len(cj.(*batchv1.CronJob).Status.Active); n > 1 {
				t.Fatalf("%d active jobs at %v", n, cl.Now())
			}
		}
	}
	runFor(t, cl, 5*time.Minute, check)
	if got, want := cjJobNames(cjJobs(t, cl, "forbid")), []string{cjMinute("forbid", 1)}; !slices.Equal(got, want) {
		t.Fatalf("jobs %v, want %v", got, want)
	}
	if ev := cjEvents(t, cl, "forbid", "JobAlreadyActive"); len(ev) == 0 {
		t.Error("no JobAlreadyActive event")
	}
}

// "should replace jobs when ReplaceConcurrent": one active at a time,
// each minute's Job replacing the last.
func TestCronJobReplaceReplacesTheRunningJob(t *testing.T) {
	cl := newCluster(t, Options{Behavior: cjBehavior})
	cjCreate(t, cl, cjSpec("replace", cjSleepImage, func(cj *batchv1.CronJob) {
		cj.Spec.ConcurrencyPolicy = batchv1.ReplaceConcurrent
	}))
	check := func() {
		objs, _, err := cl.Store.List(context.Background(), "Job", store.ListOptions{Namespace: scNS})
		if err == nil && len(objs) > 1 {
			t.Fatalf("%d jobs at %v", len(objs), cl.Now())
		}
	}
	runFor(t, cl, 90*time.Second, check)
	first := cjJobs(t, cl, "replace")
	if got, want := cjJobNames(first), []string{cjMinute("replace", 1)}; !slices.Equal(got, want) {
		t.Fatalf("jobs %v, want %v", got, want)
	}
	runFor(t, cl, time.Minute, check)
	if got, want := cjJobNames(cjJobs(t, cl, "replace")), []string{cjMinute("replace", 2)}; !slices.Equal(got, want) {
		t.Fatalf("jobs %v, want %v", got, want)
	}
	if got, want := cjActive(cjGet(t, cl, "replace")), []string{cjMinute("replace", 2)}; !slices.Equal(got, want) {
		t.Errorf("active %v, want %v", got, want)
	}
	if ev := cjEvents(t, cl, "replace", "SuccessfulDelete"); !slices.Contains(ev, "Normal SuccessfulDelete Deleted job "+cjMinute("replace", 1)) {
		t.Errorf("events %v", ev)
	}
	// The garbage collector takes the replaced Job's pods.
	runFor(t, cl, 10*time.Second)
	pods, err := cl.PodsOf(context.Background(), scNS, first[0].UID)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 0 {
		t.Errorf("the replaced job's pods remain: %d", len(pods))
	}
}

// "should be able to schedule after more than 100 missed schedule".
func TestCronJobSchedulesAfterMoreThan100Missed(t *testing.T) {
	cl := newCluster(t, Options{Behavior: cjBehavior})
	cjCreate(t, cl, cjSpec("missed", cjSleepImage, func(cj *batchv1.CronJob) {
		cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
	}))
	runFor(t, cl, 30*time.Second)
	// The control plane was stopped for 200 minutes.
	cl.Clock.SetTime(cl.Now().Add(200 * time.Minute))
	runFor(t, cl, time.Second)
	if got, want := cjJobNames(cjJobs(t, cl, "missed")), []string{cjMinute("missed", 200)}; !slices.Equal(got, want) {
		t.Fatalf("jobs %v, want %v", got, want)
	}
	want := "Warning TooManyMissedTimes too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"
	if ev := cjEvents(t, cl, "missed", "TooManyMissedTimes"); !slices.Equal(ev, []string{want}) {
		t.Errorf("events %v", ev)
	}
}

// "should remove from active list jobs that have been deleted".
func TestCronJobDeletedJobLeavesActiveList(t *testing.T) {
	cl := newCluster(t, Options{Behavior: cjBehavior})
	cjCreate(t, cl, cjSpec("deleted", cjSleepImage, func(cj *batchv1.CronJob) {
		cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
	}))
	runFor(t, cl, 70*time.Second)
	if err := cl.Store.Delete(context.Background(), "Job", scNS, cjMinute("deleted", 1), store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	runFor(t, cl, 5*time.Second)
	if cj := cjGet(t, cl, "deleted"); len(cj.Status.Active) != 0 {
		t.Errorf("active %v", cjActive(cj))
	}
	if ev := cjEvents(t, cl, "deleted", "MissingJob"); !slices.Equal(ev, []string{"Normal MissingJob Active job went missing: " + cjMinute("deleted", 1)}) {
		t.Errorf("events %v", ev)
	}
}

// Missed runs after downtime: only the most recent runs, and a restart on
// the same store does not run a scheduled time again.
func TestCronJobRestart(t *testing.T) {
	cases := []struct {
		name      string
		deadline  *int64
		firstRun  time.Duration // the first control plane runs this long
		downUntil time.Duration // the second starts then (from Epoch)
		wantJobs  []string
	}{
		{name: "a time that ran does not run again", firstRun: 70 * time.Second, downUntil: 70 * time.Second,
			wantJobs: []string{cjMinute("cj", 1)}},
		{name: "only the latest missed time runs", firstRun: 30 * time.Second, downUntil: 5*time.Minute + 30*time.Second,
			wantJobs: []string{cjMinute("cj", 5)}},
		{name: "a due time inside startingDeadlineSeconds runs", deadline: new(int64(45)), firstRun: 30 * time.Second, downUntil: 100 * time.Second,
			wantJobs: []string{cjMinute("cj", 1)}},
		{name: "a due time past startingDeadlineSeconds does not", deadline: new(int64(30)), firstRun: 30 * time.Second, downUntil: 100 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl1 := newCluster(t, Options{Behavior: cjBehavior})
			cjCreate(t, cl1, cjSpec("cj", cjSleepImage, func(cj *batchv1.CronJob) {
				cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
				cj.Spec.StartingDeadlineSeconds = tc.deadline
			}))
			runFor(t, cl1, tc.firstRun)

			cl1.Clock.SetTime(Epoch.Add(tc.downUntil))
			cl2 := newCluster(t, Options{Behavior: cjBehavior, Store: cl1.Store, Clock: cl1.Clock, Runtimes: cl1.Runtimes})
			runFor(t, cl2, 2*time.Second)
			if got := cjJobNames(cjJobs(t, cl2, "cj")); !slices.Equal(got, tc.wantJobs) {
				t.Fatalf("jobs %v, want %v", got, tc.wantJobs)
			}
			if got := cjActive(cjGet(t, cl2, "cj")); !slices.Equal(got, tc.wantJobs) {
				t.Errorf("active %v, want %v", got, tc.wantJobs)
			}
		})
	}
}

// Bad input: a schedule that never fires, a time zone that does not
// exist. Each gets a Warning event and no Job; another CronJob runs on.
func TestCronJobBadInput(t *testing.T) {
	cl := newCluster(t, Options{Behavior: cjBehavior})
	cjCreate(t, cl, cjSpec("never", cjSleepImage, func(cj *batchv1.CronJob) { cj.Spec.Schedule = "0 0 30 2 *" }))
	cjCreate(t, cl, cjSpec("nowhere", cjSleepImage, func(cj *batchv1.CronJob) { cj.Spec.TimeZone = new("Mars/Olympus_Mons") }))
	cjCreate(t, cl, cjSpec("good", cjSleepImage))
	runFor(t, cl, 150*time.Second)

	for name, want := range map[string]string{
		"never":   "Warning InvalidSchedule invalid schedule: 0 0 30 2 * : the schedule matches no time in the next five years",
		"nowhere": `Warning UnknownTimeZone invalid timeZone: "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons`,
	} {
		if jobs := cjJobs(t, cl, name); len(jobs) != 0 {
			t.Errorf("%s ran %v", name, cjJobNames(jobs))
		}
		if ev := cjEvents(t, cl, name); !slices.Equal(ev, []string{want}) {
			t.Errorf("%s: events %v, want %q", name, ev, want)
		}
	}
	if got, want := cjJobNames(cjJobs(t, cl, "good")), []string{cjMinute("good", 1), cjMinute("good", 2)}; !slices.Equal(got, want) {
		t.Errorf("good: jobs %v, want %v", got, want)
	}
	// Nothing spins: the only queued work is the good CronJob's next time
	// (and the fake nodes' own timers).
	if next, ok := cl.Manager.Queue("cronjob").NextDue(); !ok || !next.Equal(Epoch.Add(3*time.Minute+100*time.Millisecond)) {
		t.Errorf("cronjob queue next due %v %v", next, ok)
	}
}

// "should not emit unexpected warnings": jobs that succeed, run after
// run, with no MissingJob or UnexpectedJob.
func TestCronJobNoUnexpectedWarnings(t *testing.T) {
	cl := newCluster(t, Options{Behavior: cjBehavior})
	cjCreate(t, cl, cjSpec("quiet", cjSuccessImage))
	runFor(t, cl, 3*time.Minute+30*time.Second)

	jobs := cjJobs(t, cl, "quiet")
	succeeded, failed := cjFinished(jobs)
	if len(jobs) != 3 || len(succeeded) != 3 || len(failed) != 0 {
		t.Fatalf("jobs %v, succeeded %v, failed %v", cjJobNames(jobs), succeeded, failed)
	}
	if ev := cjEvents(t, cl, "quiet", "MissingJob", "UnexpectedJob"); len(ev) != 0 {
		t.Errorf("unexpected events %v", ev)
	}
	cj := cjGet(t, cl, "quiet")
	if len(cj.Status.Active) != 0 || cj.Status.LastSuccessfulTime == nil || !cj.Status.LastSuccessfulTime.After(Epoch.Add(3*time.Minute)) {
		t.Errorf("status %+v", cj.Status)
	}
	if got := len(cjEvents(t, cl, "quiet", "SawCompletedJob")); got != 3 {
		t.Errorf("%d SawCompletedJob events, want 3", got)
	}
}

// "should delete successful/failed finished jobs with limit of one job":
// past the history limit the oldest finished Jobs go, with their pods.
func TestCronJobHistoryLimits(t *testing.T) {
	cases := []struct {
		name, image       string
		successful, fails int32
		wantSucceeded     int
		wantFailed        int
	}{
		{name: "one successful", image: cjSuccessImage, successful: 1, fails: 0, wantSucceeded: 1},
		{name: "one failed", image: cjFailImage, successful: 0, fails: 1, wantFailed: 1},
		{name: "defaults keep three", image: cjSuccessImage, successful: 3, fails: 1, wantSucceeded: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := newCluster(t, Options{Behavior: cjBehavior})
			cjCreate(t, cl, cjSpec("history", tc.image, func(cj *batchv1.CronJob) {
				cj.Spec.SuccessfulJobsHistoryLimit = new(tc.successful)
				cj.Spec.FailedJobsHistoryLimit = new(tc.fails)
			}))
			runFor(t, cl, 5*time.Minute+50*time.Second)

			jobs := cjJobs(t, cl, "history")
			succeeded, failed := cjFinished(jobs)
			if len(succeeded) != tc.wantSucceeded || len(failed) != tc.wantFailed {
				t.Fatalf("jobs %v: succeeded %v, failed %v", cjJobNames(jobs), succeeded, failed)
			}
			// The newest finished ones are kept.
			if kept := append(succeeded, failed...); len(kept) > 0 && kept[len(kept)-1] != cjMinute("history", 5) {
				t.Errorf("kept %v, want the newest up to minute 5", kept)
			}
			deleted := cjEvents(t, cl, "history", "SuccessfulDelete")
			if want := 5 - tc.wantSucceeded - tc.wantFailed; len(deleted) != want {
				t.Errorf("%d deleted, want %d: %v", len(deleted), want, deleted)
			}
			// Only the kept Jobs' pods remain.
			pods, err := cl.Pods(context.Background(), scNS)
			if err != nil {
				t.Fatal(err)
			}
			keptUIDs := map[string]bool{}
			for _, j := range jobs {
				keptUIDs[string(j.UID)] = true
			}
			for _, p := range pods {
				if ref := metav1.GetControllerOf(p); ref == nil || !keptUIDs[string(ref.UID)] {
					t.Errorf("pod %s of a deleted job remains", p.Name)
				}
			}
		})
	}
}
