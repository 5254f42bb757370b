package cronjob

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/store"
)

// crashBeforeStatus is a store on which CronJob updates fail: a server
// that dies right after creating a Job, before writing the CronJob's
// status.
type crashBeforeStatus struct{ store.Store }

func (s crashBeforeStatus) Update(ctx context.Context, obj store.Object) (store.Object, error) {
	if _, ok := obj.(*batchv1.CronJob); ok {
		return nil, errors.New("crashed")
	}
	return s.Store.Update(ctx, obj)
}

func TestRestart(t *testing.T) {
	cases := []struct {
		name      string
		deadline  *int64
		firstRun  time.Duration // the first server runs this long
		crash     bool          // ... and dies after creating a Job, before its status
		downUntil time.Duration // the second starts then
		wantJobs  []string
		wantEvent string
	}{
		{name: "same time never runs twice", firstRun: 61 * time.Second, downUntil: 61 * time.Second,
			wantJobs: []string{minuteJob("cj", 1)}},
		{name: "crash between Job and status", firstRun: 61 * time.Second, crash: true, downUntil: 62 * time.Second,
			wantJobs: []string{minuteJob("cj", 1)}, wantEvent: "Warning UnexpectedJob Saw a job that the controller did not create or forgot: " + minuteJob("cj", 1)},
		{name: "due time inside the deadline runs", deadline: new(int64(60)), firstRun: 30 * time.Second, downUntil: 110 * time.Second,
			wantJobs: []string{minuteJob("cj", 1)}},
		// As upstream, times before now - startingDeadlineSeconds are not
		// even looked at: the next one runs.
		{name: "due time past the deadline is skipped", deadline: new(int64(20)), firstRun: 30 * time.Second, downUntil: 110 * time.Second},
		{name: "after downtime only the latest runs", firstRun: 30 * time.Second, downUntil: 5*time.Minute + 30*time.Second,
			wantJobs: []string{minuteJob("cj", 5)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := testingclock.NewFakeClock(t0)
			mem := store.NewMemory(clk)
			t.Cleanup(func() { mem.Close() })
			var first store.Store = mem
			if tc.crash {
				first = crashBeforeStatus{mem}
			}
			f1 := newFixtureOn(t, clk, first)
			f1.create(cronJob("cj", func(cj *batchv1.CronJob) {
				cj.Spec.StartingDeadlineSeconds = tc.deadline
				cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
			}))
			f1.runFor(tc.firstRun)

			clk.SetTime(t0.Add(tc.downUntil))
			f2 := newFixtureOn(t, clk, mem)
			f2.runFor(time.Second)
			if got := f2.jobNames(); !slices.Equal(got, tc.wantJobs) {
				t.Errorf("jobs %v, want %v", got, tc.wantJobs)
			}
			cj := f2.cronJob("cj")
			if got := activeNames(cj); !slices.Equal(got, tc.wantJobs) {
				t.Errorf("active %v, want %v", got, tc.wantJobs)
			}
			if tc.wantEvent != "" && !slices.Contains(f2.rec.Events(), tc.wantEvent) {
				t.Errorf("no event %q in %v", tc.wantEvent, f2.rec.Events())
			}
			if ev := f2.events("SuccessfulCreate"); len(ev) > len(tc.wantJobs) {
				t.Errorf("created again: %v", ev)
			}
		})
	}
}
