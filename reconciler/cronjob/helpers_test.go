package cronjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/workloads"
)

// t0 is on a minute, so "*/1" schedules fire a minute later.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture is the CronJob controller alone on a memory store, stepped by a
// Manager on a fake clock. Nothing runs the Jobs: tests finish them by
// hand, as the Job controller would.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	clock   *testingclock.FakeClock
	store   store.Store
	manager *controller.Manager
	rec     *controller.FakeRecorder
	ctrl    *Controller
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, clk, st)
}

// newFixtureOn starts a controller on an existing store and clock: a
// restart of the server.
func newFixtureOn(t *testing.T, clk *testingclock.FakeClock, st store.Store) *fixture {
	t.Helper()
	cache := controller.NewCache(st, "CronJob", "Job")
	m := controller.NewManager(cache, clk)
	m.SetLogger(slog.New(slog.DiscardHandler))
	rec := controller.NewFakeRecorder()
	c := Register(m, st, rec)
	c.SetLocalTimeZone(time.UTC)
	return &fixture{t: t, ctx: context.Background(), clock: clk, store: st, manager: m, rec: rec, ctrl: c}
}

// runFor steps the controller for d of simulated time (the clock ends at
// now + d).
func (f *fixture) runFor(d time.Duration) {
	f.t.Helper()
	deadline := f.clock.Now().Add(d)
	for {
		f.manager.Step(f.ctx)
		next, ok := f.manager.NextDue()
		if !ok || next.After(deadline) {
			f.clock.SetTime(deadline)
			f.manager.Step(f.ctx)
			return
		}
		if next.After(f.clock.Now()) {
			f.clock.SetTime(next)
		}
	}
}

// runUntil steps the controller until the clock reads t.
func (f *fixture) runUntil(t time.Time) { f.runFor(t.Sub(f.clock.Now())) }

// cronJob returns a defaulted CronJob running every minute.
func cronJob(name string, mutate ...func(*batchv1.CronJob)) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: batchv1.CronJobSpec{
			Schedule: "*/1 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}, Annotations: map[string]string{"team": "ops"}},
				Spec: batchv1.JobSpec{
					BackoffLimit: new(int32(1)),
					Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
						RestartPolicy: corev1.RestartPolicyOnFailure,
						Containers:    []corev1.Container{{Name: "c", Image: "busybox"}},
					}},
				},
			},
		},
	}
	for _, m := range mutate {
		m(cj)
	}
	workloads.Default(cj)
	return cj
}

func (f *fixture) create(obj store.Object) store.Object {
	f.t.Helper()
	out, err := f.store.Create(f.ctx, obj)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) cronJob(name string) *batchv1.CronJob {
	f.t.Helper()
	obj, err := f.store.Get(f.ctx, "CronJob", "default", name)
	if err != nil {
		f.t.Fatal(err)
	}
	return obj.(*batchv1.CronJob)
}

// updateCronJob changes a stored CronJob as a user would.
func (f *fixture) updateCronJob(name string, mutate func(*batchv1.CronJob)) {
	f.t.Helper()
	for range 5 {
		cj := f.cronJob(name)
		mutate(cj)
		_, err := f.store.Update(f.ctx, cj)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			f.t.Fatal(err)
		}
		return
	}
	f.t.Fatal("too many conflicts")
}

// jobs returns the stored Jobs, by name.
func (f *fixture) jobs() []*batchv1.Job {
	f.t.Helper()
	objs, _, err := f.store.List(f.ctx, "Job", store.ListOptions{Namespace: "default"})
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]*batchv1.Job, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*batchv1.Job))
	}
	return out
}

func (f *fixture) jobNames() []string {
	var names []string
	for _, j := range f.jobs() {
		names = append(names, j.Name)
	}
	return names
}

// finish marks a Job Complete or Failed, as the Job controller would.
func (f *fixture) finish(name string, cond batchv1.JobConditionType) {
	f.t.Helper()
	obj, err := f.store.Get(f.ctx, "Job", "default", name)
	if err != nil {
		f.t.Fatal(err)
	}
	j := obj.(*batchv1.Job)
	now := metav1.NewTime(f.clock.Now())
	if j.Status.StartTime == nil {
		j.Status.StartTime = &now
	}
	j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: cond, Status: corev1.ConditionTrue, LastTransitionTime: now})
	if cond == batchv1.JobComplete {
		j.Status.CompletionTime = &now
	}
	if _, err := f.store.Update(f.ctx, j); err != nil {
		f.t.Fatal(err)
	}
}

// minuteJob is the name of the Job for t0 + n minutes.
func minuteJob(cj string, n int) string {
	return fmt.Sprintf("%s-%d", cj, t0.Add(time.Duration(n)*time.Minute).Unix()/60)
}

func activeNames(cj *batchv1.CronJob) []string {
	var out []string
	for _, r := range cj.Status.Active {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

// events returns the recorded events whose reason is one of reasons.
func (f *fixture) events(reasons ...string) []string {
	var out []string
	for _, e := range f.rec.Events() {
		for _, r := range reasons {
			if strings.Contains(e, " "+r+" ") {
				out = append(out, e)
			}
		}
	}
	return out
}
