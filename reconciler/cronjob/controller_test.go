package cronjob

import (
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
)

func TestCreatesJobAtScheduleTime(t *testing.T) {
	f := newFixture(t)
	cj := f.create(cronJob("tick")).(*batchv1.CronJob)
	f.runFor(59 * time.Second)
	if names := f.jobNames(); len(names) != 0 {
		t.Fatalf("jobs before the first time: %v", names)
	}
	f.runFor(2 * time.Second)
	jobs := f.jobs()
	if len(jobs) != 1 {
		t.Fatalf("jobs = %v, want 1", f.jobNames())
	}
	j := jobs[0]
	if want := minuteJob("tick", 1); j.Name != want {
		t.Errorf("job name %s, want %s", j.Name, want)
	}
	if j.Labels["app"] != "tick" || j.Annotations["team"] != "ops" {
		t.Errorf("template metadata not copied: %v %v", j.Labels, j.Annotations)
	}
	if got := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2026-01-01T00:01:00Z" {
		t.Errorf("scheduled timestamp annotation %q", got)
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.UID != cj.UID || ref.Kind != "CronJob" {
		t.Errorf("controller ref %+v", ref)
	}
	if j.Spec.Completions == nil || *j.Spec.BackoffLimit != 1 || j.Spec.Template.Spec.Containers[0].Image != "busybox" {
		t.Errorf("job spec not the defaulted template: %+v", j.Spec)
	}
	got := f.cronJob("tick")
	if !slices.Equal(activeNames(got), []string{j.Name}) || got.Status.Active[0].UID != j.UID {
		t.Errorf("status.active = %+v", got.Status.Active)
	}
	if got.Status.LastScheduleTime == nil || !got.Status.LastScheduleTime.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("lastScheduleTime = %v", got.Status.LastScheduleTime)
	}
	if ev := f.events("SuccessfulCreate"); !slices.Equal(ev, []string{"Normal SuccessfulCreate Created job " + j.Name}) {
		t.Errorf("events %v", ev)
	}
}

func TestConcurrencyPolicies(t *testing.T) {
	cases := []struct {
		policy     batchv1.ConcurrencyPolicy
		wantJobs   []string // after 3 minutes with the first job still running
		wantActive []string
		wantEvents []string
	}{
		{batchv1.AllowConcurrent, []string{minuteJob("cj", 1), minuteJob("cj", 2), minuteJob("cj", 3)},
			[]string{minuteJob("cj", 1), minuteJob("cj", 2), minuteJob("cj", 3)}, nil},
		{batchv1.ForbidConcurrent, []string{minuteJob("cj", 1)}, []string{minuteJob("cj", 1)},
			[]string{"Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid"}},
		{batchv1.ReplaceConcurrent, []string{minuteJob("cj", 3)}, []string{minuteJob("cj", 3)},
			[]string{"Normal SuccessfulDelete Deleted job " + minuteJob("cj", 1), "Normal SuccessfulDelete Deleted job " + minuteJob("cj", 2)}},
	}
	for _, tc := range cases {
		t.Run(string(tc.policy), func(t *testing.T) {
			f := newFixture(t)
			f.create(cronJob("cj", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = tc.policy }))
			f.runFor(3*time.Minute + time.Second)
			if got := f.jobNames(); !slices.Equal(got, tc.wantJobs) {
				t.Errorf("jobs %v, want %v", got, tc.wantJobs)
			}
			if got := activeNames(f.cronJob("cj")); !slices.Equal(got, tc.wantActive) {
				t.Errorf("active %v, want %v", got, tc.wantActive)
			}
			for _, want := range tc.wantEvents {
				if !slices.Contains(f.rec.Events(), want) {
					t.Errorf("no event %q in %v", want, f.rec.Events())
				}
			}
		})
	}
}

func TestForbidRunsAgainOnceTheJobFinished(t *testing.T) {
	f := newFixture(t)
	f.create(cronJob("cj", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent }))
	f.runFor(90 * time.Second)
	f.finish(minuteJob("cj", 1), batchv1.JobComplete)
	f.runFor(time.Second)
	cj := f.cronJob("cj")
	if len(cj.Status.Active) != 0 || cj.Status.LastSuccessfulTime == nil || !cj.Status.LastSuccessfulTime.Time.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("status after completion: %+v", cj.Status)
	}
	if !slices.Contains(f.rec.Events(), "Normal SawCompletedJob Saw completed job: "+minuteJob("cj", 1)+", status: Complete") {
		t.Errorf("events %v", f.rec.Events())
	}
	f.runFor(30 * time.Second)
	if got, want := f.jobNames(), []string{minuteJob("cj", 1), minuteJob("cj", 2)}; !slices.Equal(got, want) {
		t.Errorf("jobs %v, want %v", got, want)
	}
}

func TestHistoryLimits(t *testing.T) {
	f := newFixture(t)
	f.create(cronJob("cj", func(cj *batchv1.CronJob) {
		cj.Spec.SuccessfulJobsHistoryLimit = new(int32(2))
		cj.Spec.FailedJobsHistoryLimit = new(int32(1))
	}))
	// Minutes 1-4 succeed, 5-6 fail; each finishes 10s after it starts.
	for n := 1; n <= 6; n++ {
		f.runUntil(t0.Add(time.Duration(n)*time.Minute + 10*time.Second))
		cond := batchv1.JobComplete
		if n > 4 {
			cond = batchv1.JobFailed
		}
		f.finish(minuteJob("cj", n), cond)
	}
	f.runFor(time.Second)
	want := []string{minuteJob("cj", 3), minuteJob("cj", 4), minuteJob("cj", 6)}
	if got := f.jobNames(); !slices.Equal(got, want) {
		t.Errorf("jobs kept %v, want %v", got, want)
	}
	for _, gone := range []int{1, 2, 5} {
		if !slices.Contains(f.rec.Events(), "Normal SuccessfulDelete Deleted job "+minuteJob("cj", gone)) {
			t.Errorf("no SuccessfulDelete for minute %d: %v", gone, f.rec.Events())
		}
	}
	if cj := f.cronJob("cj"); len(cj.Status.Active) != 0 {
		t.Errorf("active %v", activeNames(cj))
	}
}

func TestSuspend(t *testing.T) {
	f := newFixture(t)
	f.create(cronJob("cj", func(cj *batchv1.CronJob) { cj.Spec.Suspend = new(true) }))
	f.runFor(5 * time.Minute)
	if names := f.jobNames(); len(names) != 0 {
		t.Fatalf("suspended CronJob ran %v", names)
	}
	if _, due := f.manager.NextDue(); due {
		t.Error("a suspended CronJob is requeued")
	}
	// Resumed: only the most recent missed time runs, at once.
	f.updateCronJob("cj", func(cj *batchv1.CronJob) { cj.Spec.Suspend = new(false) })
	f.runFor(time.Second)
	if got, want := f.jobNames(), []string{minuteJob("cj", 5)}; !slices.Equal(got, want) {
		t.Errorf("after resume: %v, want %v", got, want)
	}
}

func TestBadInputIsReportedAndNotRequeued(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*batchv1.CronJob)
		want   string
	}{
		{"never fires", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "0 0 30 2 *" },
			"Warning InvalidSchedule invalid schedule: 0 0 30 2 * : the schedule matches no time in the next five years"},
		{"unknown time zone", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = new("Europe/Atlantis") },
			`Warning UnknownTimeZone invalid timeZone: "Europe/Atlantis": unknown time zone Europe/Atlantis`},
		{"TZ in schedule", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "CRON_TZ=UTC */1 * * * *" },
			"Warning InvalidSchedule invalid schedule: CRON_TZ=UTC */1 * * * * : cannot use TZ or CRON_TZ in schedule, use timeZone field instead"},
		{"unparseable", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "61 * * * *" },
			`Warning UnparseableSchedule unparseable schedule: "61 * * * *" : end of range (61) above maximum (59): 61`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.create(cronJob("bad", tc.mutate))
			f.create(cronJob("good"))
			f.runFor(90 * time.Second)
			if got, want := f.jobNames(), []string{minuteJob("good", 1)}; !slices.Equal(got, want) {
				t.Errorf("jobs %v, want %v", got, want)
			}
			if !slices.Contains(f.rec.Events(), tc.want) {
				t.Errorf("no event %q in %v", tc.want, f.rec.Events())
			}
			// Only the good CronJob is parked (at its next time): the bad
			// one does not spin.
			next, due := f.manager.NextDue()
			if !due || !next.Equal(t0.Add(2*time.Minute+nextScheduleDelta)) {
				t.Errorf("next due %v %v", next, due)
			}
			// Fixing the spec starts it.
			f.updateCronJob("bad", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "*/1 * * * *"; cj.Spec.TimeZone = nil })
			f.runFor(time.Minute)
			if !slices.Contains(f.jobNames(), minuteJob("bad", 2)) {
				t.Errorf("fixed CronJob did not run: %v", f.jobNames())
			}
		})
	}
}

func TestMissingJobLeavesActiveList(t *testing.T) {
	f := newFixture(t)
	f.create(cronJob("cj", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent }))
	f.runFor(61 * time.Second)
	if err := f.store.Delete(f.ctx, "Job", "default", minuteJob("cj", 1), store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.runFor(time.Second)
	if cj := f.cronJob("cj"); len(cj.Status.Active) != 0 {
		t.Errorf("active %v", activeNames(cj))
	}
	if !slices.Contains(f.rec.Events(), "Normal MissingJob Active job went missing: "+minuteJob("cj", 1)) {
		t.Errorf("events %v", f.rec.Events())
	}
	f.runFor(time.Minute)
	if got, want := f.jobNames(), []string{minuteJob("cj", 2)}; !slices.Equal(got, want) {
		t.Errorf("jobs %v, want %v", got, want)
	}
}

func TestTooManyMissedStillRuns(t *testing.T) {
	f := newFixture(t)
	f.create(cronJob("cj"))
	// The server was down for 200 minutes.
	f.clock.SetTime(t0.Add(200*time.Minute + 30*time.Second))
	f.runFor(time.Second)
	if got, want := f.jobNames(), []string{minuteJob("cj", 200)}; !slices.Equal(got, want) {
		t.Errorf("jobs %v, want %v", got, want)
	}
	if !slices.Contains(f.rec.Events(), "Warning TooManyMissedTimes too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew") {
		t.Errorf("events %v", f.rec.Events())
	}
}

// TestScheduleChangeWaitsForTheNewTime: as upstream's updateCronJob, a new
// schedule is acted on at its next time; the edit itself starts nothing,
// even when the new schedule's most recent time is later than the last
// run (a daily 03:00 moved to 09:00 at 10:00 starts nothing at 10:00).
func TestScheduleChangeWaitsForTheNewTime(t *testing.T) {
	f := newFixture(t)
	f.create(cronJob("daily", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "0 3 * * *" }))
	f.runUntil(t0.Add(3*time.Hour + time.Minute))
	if got := f.jobNames(); len(got) != 1 {
		t.Fatalf("after 03:00: jobs %v, want the 03:00 one", got)
	}
	f.finish(f.jobNames()[0], batchv1.JobComplete)
	f.runUntil(t0.Add(10 * time.Hour))
	f.updateCronJob("daily", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "0 9 * * *" })
	f.runFor(time.Hour)
	if got := f.jobNames(); len(got) != 1 {
		t.Errorf("an hour after moving the schedule to 09:00 (at 10:00): jobs %v, want none new", got)
	}
	// Later syncs catch up as upstream's do (the 03:00 requeue the old
	// schedule left finds 09:00 unmet); the new time runs.
	f.runUntil(t0.Add(33*time.Hour + time.Minute))
	if got := f.jobNames(); !slices.Contains(got, jobName(f.cronJob("daily"), t0.Add(33*time.Hour))) {
		t.Errorf("the next day after 09:00: jobs %v, want the 09:00 one", got)
	}
}
