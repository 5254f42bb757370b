package cronjob

import (
	"errors"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// scheduleCase builds a CronJob for the schedule math.
type scheduleCase struct {
	name      string
	schedule  string
	timeZone  string // "" = unset (UTC as the local zone in these tests)
	created   string
	last      string // status.lastScheduleTime, "" = none
	deadline  *int64 // startingDeadlineSeconds
	now       string
	wantTime  string // the unmet time to run, "" = none
	wantMany  bool
	wantErr   error
	wantAfter time.Duration // the requeue, from now; 0 = not checked
}

func (c scheduleCase) cronJob() *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "cj", Namespace: "default", CreationTimestamp: metav1.NewTime(at(c.created))},
		Spec:       batchv1.CronJobSpec{Schedule: c.schedule, StartingDeadlineSeconds: c.deadline},
	}
	if c.timeZone != "" {
		cj.Spec.TimeZone = &c.timeZone
	}
	if c.last != "" {
		cj.Status.LastScheduleTime = &metav1.Time{Time: at(c.last)}
	}
	return cj
}

func TestScheduleMath(t *testing.T) {
	sec := func(n int64) *int64 { return &n }
	cases := []scheduleCase{
		{name: "before the first time", schedule: "*/1 * * * *", created: "2026-01-01T10:00:30Z", now: "2026-01-01T10:00:59Z",
			wantAfter: time.Second + nextScheduleDelta},
		{name: "at the first time", schedule: "*/1 * * * *", created: "2026-01-01T10:00:30Z", now: "2026-01-01T10:01:00Z",
			wantTime: "2026-01-01T10:01:00Z", wantAfter: time.Minute + nextScheduleDelta},
		{name: "just ran: wait for the next", schedule: "*/1 * * * *", created: "2026-01-01T10:00:30Z", last: "2026-01-01T10:01:00Z", now: "2026-01-01T10:01:00.1Z",
			wantAfter: 60 * time.Second},
		{name: "after downtime only the latest", schedule: "*/1 * * * *", created: "2026-01-01T10:00:00Z", last: "2026-01-01T10:01:00Z", now: "2026-01-01T10:05:30Z",
			wantTime: "2026-01-01T10:05:00Z", wantAfter: 30*time.Second + nextScheduleDelta},
		{name: "irregular schedule after downtime", schedule: "30 6-16/4 * * 1-5", created: "2026-01-05T00:00:00Z", now: "2026-01-08T15:00:00Z",
			wantTime: "2026-01-08T14:30:00Z"},
		{name: "deadline passed for the missed time", schedule: "*/1 * * * *", created: "2026-01-01T10:00:00Z", last: "2026-01-01T10:01:00Z", deadline: sec(10), now: "2026-01-01T10:05:30Z"},
		{name: "deadline still open", schedule: "*/1 * * * *", created: "2026-01-01T10:00:00Z", last: "2026-01-01T10:01:00Z", deadline: sec(60), now: "2026-01-01T10:05:30Z",
			wantTime: "2026-01-01T10:05:00Z"},
		// As upstream: the earliest time considered is now - deadline, and
		// a time equal to it does not count, so a deadline of 0 never runs.
		{name: "deadline 0 never runs", schedule: "0 * * * *", created: "2026-01-01T09:30:00Z", deadline: sec(0), now: "2026-01-01T10:00:00Z"},
		{name: "deadline 1s at the requeue", schedule: "0 * * * *", created: "2026-01-01T09:30:00Z", deadline: sec(1), now: "2026-01-01T10:00:00.1Z",
			wantTime: "2026-01-01T10:00:00Z"},
		{name: "more than 100 missed", schedule: "@hourly", created: "2025-09-23T00:00:00Z", now: "2026-01-01T10:30:00Z",
			wantTime: "2026-01-01T10:00:00Z", wantMany: true, wantAfter: 30*time.Minute + nextScheduleDelta},
		{name: "exactly 100 missed is not too many", schedule: "@hourly", created: "2026-01-01T00:00:00Z", now: "2026-01-05T04:30:00Z",
			wantTime: "2026-01-05T04:00:00Z"},
		{name: "@every", schedule: "@every 90m", created: "2026-01-01T00:00:00Z", now: "2026-01-01T03:10:00Z",
			wantTime: "2026-01-01T03:00:00Z"},
		{name: "weekday names", schedule: "0 12 * * MON", created: "2026-01-01T00:00:00Z", now: "2026-01-05T12:00:01Z",
			wantTime: "2026-01-05T12:00:00Z"},
		{name: "never fires", schedule: "0 0 30 2 *", created: "2026-01-01T00:00:00Z", now: "2026-03-01T00:00:00Z", wantErr: errNeverFires},
		{name: "time zone", schedule: "0 9 * * *", timeZone: "Asia/Tokyo", created: "2026-01-01T00:00:00Z", now: "2026-01-02T00:00:05Z",
			wantTime: "2026-01-02T00:00:00Z", wantAfter: 24*time.Hour - 5*time.Second + nextScheduleDelta},
		{name: "DST: 9:00 New York before the change is 14:00 UTC", schedule: "0 9 * * *", timeZone: "America/New_York",
			created: "2026-03-06T00:00:00Z", last: "2026-03-06T14:00:00Z", now: "2026-03-07T14:00:01Z",
			wantTime: "2026-03-07T14:00:00Z",
			// 2026-03-08 springs forward: the next 9:00 is 13:00 UTC, 23h later.
			wantAfter: 23*time.Hour - time.Second + nextScheduleDelta},
		{name: "DST: 9:00 New York after the change is 13:00 UTC", schedule: "0 9 * * *", timeZone: "America/New_York",
			created: "2026-03-06T00:00:00Z", last: "2026-03-07T14:00:00Z", now: "2026-03-08T13:00:00Z",
			wantTime: "2026-03-08T13:00:00Z"},
		// robfig/cron (so upstream too) runs a time the clocks go back over
		// twice: 1:30 EDT (05:30 UTC), then 1:30 EST (06:30 UTC). The two
		// Jobs have different names (minutes since the epoch).
		{name: "DST: 1:30 New York happens twice on the fall-back day", schedule: "30 1 * * *", timeZone: "America/New_York",
			created: "2026-10-31T12:00:00Z", last: "2026-11-01T05:30:00Z", now: "2026-11-01T06:45:00Z",
			wantTime: "2026-11-01T06:30:00Z"},
		// ... and skips one the clocks jump over: 2:30 on 2026-03-08.
		{name: "DST: 2:30 New York is skipped on the spring-forward day", schedule: "30 2 * * *", timeZone: "America/New_York",
			created: "2026-03-07T12:00:00Z", last: "2026-03-07T07:30:00Z", now: "2026-03-08T12:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cj := tc.cronJob()
			tz, problem := timeZoneOf(cj, time.UTC)
			if problem != nil {
				t.Fatal(problem.message)
			}
			sched, problem := parseSchedule(cj, tz)
			if problem != nil {
				t.Fatal(problem.message)
			}
			now := at(tc.now)
			got, ok, many, err := nextScheduleTime(cj, now, sched)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantTime == "" {
				if ok {
					t.Fatalf("due %v, want nothing due", got)
				}
			} else if !ok || !got.Equal(at(tc.wantTime)) {
				t.Fatalf("due %v (%v), want %s", got, ok, tc.wantTime)
			}
			if many != tc.wantMany {
				t.Errorf("many missed = %v, want %v", many, tc.wantMany)
			}
			if tc.wantAfter != 0 {
				if ok {
					// What the sync that starts it requeues with.
					cj.Status.LastScheduleTime = &metav1.Time{Time: got}
				}
				after, ok := nextScheduleTimeDuration(cj, now, sched)
				if !ok || after != tc.wantAfter {
					t.Errorf("requeue after %v (%v), want %v", after, ok, tc.wantAfter)
				}
			}
		})
	}
}

func TestNeverFiringScheduleIsNotRequeued(t *testing.T) {
	cj := scheduleCase{schedule: "0 0 30 2 *", created: "2026-01-01T00:00:00Z"}.cronJob()
	sched, problem := parseSchedule(cj, time.UTC)
	if problem != nil {
		t.Fatal(problem.message)
	}
	if after, ok := nextScheduleTimeDuration(cj, at("2026-01-02T00:00:00Z"), sched); ok {
		t.Fatalf("requeued after %v", after)
	}
}

func TestScheduleProblems(t *testing.T) {
	cases := []struct {
		name, schedule string
		timeZone       *string
		wantReason     string
		wantMessage    string
	}{
		{name: "unknown time zone", schedule: "* * * * *", timeZone: new("Mars/Olympus_Mons"), wantReason: "UnknownTimeZone",
			wantMessage: `invalid timeZone: "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons`},
		{name: "Local is not a time zone", schedule: "* * * * *", timeZone: new("Local"), wantReason: "UnknownTimeZone",
			wantMessage: `invalid timeZone: "Local": unknown time zone Local`},
		{name: "empty time zone", schedule: "* * * * *", timeZone: new(""), wantReason: "UnknownTimeZone",
			wantMessage: `invalid timeZone: "": unknown time zone `},
		{name: "TZ in the schedule", schedule: "TZ=UTC 0 * * * *", wantReason: "InvalidSchedule",
			wantMessage: "invalid schedule: TZ=UTC 0 * * * * : cannot use TZ or CRON_TZ in schedule, use timeZone field instead"},
		{name: "CRON_TZ in the schedule", schedule: "CRON_TZ=Europe/Paris 0 * * * *", wantReason: "InvalidSchedule",
			wantMessage: "invalid schedule: CRON_TZ=Europe/Paris 0 * * * * : cannot use TZ or CRON_TZ in schedule, use timeZone field instead"},
		{name: "unparseable", schedule: "every minute", wantReason: "UnparseableSchedule",
			wantMessage: `unparseable schedule: "every minute" : expected exactly 5 fields, found 2: [every minute]`},
		{name: "seconds field refused", schedule: "0 * * * * *", wantReason: "UnparseableSchedule",
			wantMessage: `unparseable schedule: "0 * * * * *" : expected exactly 5 fields, found 6: [0 * * * * *]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cj := &batchv1.CronJob{Spec: batchv1.CronJobSpec{Schedule: tc.schedule, TimeZone: tc.timeZone}}
			tz, problem := timeZoneOf(cj, time.UTC)
			if problem == nil {
				_, problem = parseSchedule(cj, tz)
			}
			if problem == nil {
				t.Fatal("no problem found")
			}
			if problem.reason != tc.wantReason || problem.message != tc.wantMessage {
				t.Errorf("got %s %q\nwant %s %q", problem.reason, problem.message, tc.wantReason, tc.wantMessage)
			}
		})
	}
}

func TestTimeZoneLocation(t *testing.T) {
	local := mustLoad(t, "Europe/Berlin")
	cases := []struct {
		tz   *string
		want string
	}{
		{nil, "Europe/Berlin"},
		{new("UTC"), "UTC"},
		{new("America/New_York"), "America/New_York"},
	}
	for _, tc := range cases {
		loc, problem := timeZoneOf(&batchv1.CronJob{Spec: batchv1.CronJobSpec{TimeZone: tc.tz}}, local)
		if problem != nil || loc.String() != tc.want {
			t.Errorf("timeZone %v: %v %v, want %s", tc.tz, loc, problem, tc.want)
		}
	}
}

func TestJobName(t *testing.T) {
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "backup"}}
	if got, want := jobName(cj, at("2026-01-01T10:05:00Z")), "backup-29454365"; got != want {
		t.Errorf("jobName = %s, want %s", got, want)
	}
}
