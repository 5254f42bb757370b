package cronjob

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
)

// nextScheduleDelta pads every requeue past the scheduled time, as
// upstream does, so the sync that follows sees the time as due.
const nextScheduleDelta = 100 * time.Millisecond

// tooManyMissed is upstream's bound on the missed start times it counts
// before warning ("more than 80, but less than lots").
const tooManyMissed = 100

// scheduleProblem is why a CronJob's schedule cannot be used: the
// reason and message of the Warning event that says so.
type scheduleProblem struct {
	reason  string
	message string
}

// timeZoneOf loads spec.timeZone; nil means local, the controller's own
// time zone (as upstream evaluates a CronJob without one in the
// kube-controller-manager's).
func timeZoneOf(cj *batchv1.CronJob, local *time.Location) (*time.Location, *scheduleProblem) {
	if cj.Spec.TimeZone == nil {
		return local, nil
	}
	tz := *cj.Spec.TimeZone
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" || strings.EqualFold(tz, "Local") {
		if err == nil {
			// LoadLocation takes "" for UTC and "Local" for the host's
			// zone; the API refuses both as a timeZone.
			err = fmt.Errorf("unknown time zone %s", tz)
		}
		return nil, &scheduleProblem{"UnknownTimeZone", fmt.Sprintf("invalid timeZone: %q: %s", tz, err)}
	}
	return loc, nil
}

// parseSchedule parses spec.schedule as upstream does (robfig/cron's
// standard five fields or a descriptor such as @hourly), evaluated in loc.
// A TZ= or CRON_TZ= prefix is refused, as the API refuses it on create:
// spec.timeZone says that.
func parseSchedule(cj *batchv1.CronJob, loc *time.Location) (cron.Schedule, *scheduleProblem) {
	s := cj.Spec.Schedule
	if strings.Contains(s, "TZ") {
		return nil, &scheduleProblem{"InvalidSchedule",
			fmt.Sprintf("invalid schedule: %s : cannot use TZ or CRON_TZ in schedule, use timeZone field instead", s)}
	}
	sched, err := cron.ParseStandard(s)
	if err != nil {
		return nil, &scheduleProblem{"UnparseableSchedule", fmt.Sprintf("unparseable schedule: %q : %s", s, err)}
	}
	if spec, ok := sched.(*cron.SpecSchedule); ok {
		spec.Location = loc
	}
	return sched, nil
}

// missedCount classifies how many start times passed unmet.
type missedCount int

const (
	noneMissed missedCount = iota
	fewMissed
	manyMissed // more than tooManyMissed
)

// errNeverFires: the schedule names no time that exists ("0 0 30 2 *").
// robfig/cron then returns the zero time, having searched five years.
var errNeverFires = errors.New("the schedule matches no time in the next five years")

// errTooFrequent is upstream's error for two consecutive times less than
// a second apart, which only an impossible schedule produces.
var errTooFrequent = errors.New("time difference between two schedules is less than 1 second")

// mostRecentScheduleTime is upstream's: from earliest (the last schedule
// time, else the CronJob's creation; with withDeadline no earlier than
// now - startingDeadlineSeconds), it returns earliest, the most recent
// schedule time at or before now (ok false when none has come), and how
// many were missed. It never walks more than a couple of times: the count
// of missed times is estimated from the interval between the first two,
// so a CronJob that missed years of minutes costs nothing.
func mostRecentScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule, withDeadline bool) (earliest, recent time.Time, ok bool, missed missedCount, err error) {
	earliest = cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if withDeadline && cj.Spec.StartingDeadlineSeconds != nil {
		// The controller schedules nothing before this point.
		deadline := now.Add(-time.Duration(*cj.Spec.StartingDeadlineSeconds) * time.Second)
		if deadline.After(earliest) {
			earliest = deadline
		}
	}
	t1 := sched.Next(earliest)
	if t1.IsZero() {
		return earliest, time.Time{}, false, noneMissed, errNeverFires
	}
	if now.Before(t1) {
		return earliest, time.Time{}, false, noneMissed, nil
	}
	t2 := sched.Next(t1)
	if t2.IsZero() || now.Before(t2) {
		return earliest, t1, true, noneMissed, nil
	}
	interval := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if interval < 1 {
		return earliest, time.Time{}, false, noneMissed, errTooFrequent
	}
	// Estimate how many intervals fit between t1 and now, start one
	// interval before the estimate (schedules like "30 6-16/4 * * 1-5" are
	// irregular) and let the schedule walk to now.
	elapsed := int64(now.Sub(t1).Seconds())
	n := elapsed/interval + 1
	from := t1.Add(time.Duration((n-2)*interval) * time.Second)
	for t := sched.Next(from); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		recent, ok = t, true
	}
	missed = fewMissed
	if n > tooManyMissed {
		missed = manyMissed
	}
	return earliest, recent, ok, missed, nil
}

// nextScheduleTime returns the most recent unmet schedule time at or
// before now, within startingDeadlineSeconds; ok is false when there is
// none. manyMissed says more than 100 were missed (upstream then warns and
// still starts the most recent).
func nextScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) (t time.Time, ok bool, many bool, err error) {
	_, recent, ok, missed, err := mostRecentScheduleTime(cj, now, sched, true)
	if err != nil || !ok || recent.After(now) {
		return time.Time{}, false, false, err
	}
	return recent, true, missed == manyMissed, nil
}

// nextScheduleTimeDuration is how long to wait, from now, for the next
// schedule time after the last one handled (upstream's, padded by
// nextScheduleDelta); ok is false when the schedule never fires again.
func nextScheduleTimeDuration(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) (time.Duration, bool) {
	earliest, recent, ok, missed, err := mostRecentScheduleTime(cj, now, sched, false)
	switch {
	case err != nil:
		recent = now
	case !ok && missed == noneMissed:
		recent = earliest
	case !ok:
		recent = now
	}
	next := sched.Next(recent)
	if next.IsZero() {
		return 0, false
	}
	return next.Add(nextScheduleDelta).Sub(now), true
}

// jobName is the name of the Job for a scheduled time: the CronJob's name
// and the minutes since the epoch. A Job of that name existing means that
// time already ran, which is what keeps a restarted controller from
// running it twice.
func jobName(cj *batchv1.CronJob, scheduled time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, scheduled.Unix()/60)
}
