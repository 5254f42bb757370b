package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/workloads"
)

// Images of the CronJob scenarios' job pods, and what their containers do
// on the fake nodes (as upstream's e2e: sleep 300, true, false).
const (
	cjSleepImage   = "busybox-sleep"
	cjSuccessImage = "busybox-true"
	cjFailImage    = "busybox-false"
)

// cjBehavior runs the CronJob scenarios' images.
var cjBehavior = byImage(map[string]fake.Behavior{
	cjSuccessImage: {CompleteAfter: 5 * time.Second},
	cjFailImage:    {Fail: true, FailAfter: time.Second},
})

// cjSpec is upstream's e2e CronJob: schedule "*/1 * * * ?", a job with
// restartPolicy OnFailure, backoffLimit 1, parallelism and completions 1,
// running image; mutate changes it before the API defaults apply.
func cjSpec(name, image string, mutate ...func(*batchv1.CronJob)) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: metav1.ObjectMeta{Namespace: scNS, Name: name},
		Spec: batchv1.CronJobSpec{
			Schedule:          "*/1 * * * ?",
			ConcurrencyPolicy: batchv1.AllowConcurrent,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"cronjob": name}},
				Spec: batchv1.JobSpec{
					Parallelism:  new(int32(1)),
					Completions:  new(int32(1)),
					BackoffLimit: new(int32(1)),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"cronjob": name}},
						Spec: corev1.PodSpec{
							RestartPolicy: corev1.RestartPolicyOnFailure,
							Containers:    []corev1.Container{{Name: "c", Image: image}},
						},
					},
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

func cjCreate(t *testing.T, cl *Cluster, cj *batchv1.CronJob) *batchv1.CronJob {
	t.Helper()
	obj, err := cl.Store.Create(context.Background(), cj)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*batchv1.CronJob)
}

func cjGet(t *testing.T, cl *Cluster, name string) *batchv1.CronJob {
	t.Helper()
	obj, err := cl.Store.Get(context.Background(), "CronJob", scNS, name)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*batchv1.CronJob)
}

// cjUpdate changes the stored CronJob as a user (or a sync) would.
func cjUpdate(t *testing.T, cl *Cluster, name string, mutate func(*batchv1.CronJob)) {
	t.Helper()
	for range 10 {
		cj := cjGet(t, cl, name)
		mutate(cj)
		_, err := cl.Store.Update(context.Background(), cj)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("cjUpdate: too many conflicts")
}

// cjJobs returns the stored Jobs the CronJob name controls, by name.
func cjJobs(t *testing.T, cl *Cluster, name string) []*batchv1.Job {
	t.Helper()
	cj := cjGet(t, cl, name)
	objs, _, err := cl.Store.List(context.Background(), "Job", store.ListOptions{Namespace: scNS})
	if err != nil {
		t.Fatal(err)
	}
	var out []*batchv1.Job
	for _, o := range objs {
		j := o.(*batchv1.Job)
		if ref := metav1.GetControllerOf(j); ref != nil && ref.UID == cj.UID {
			out = append(out, j)
		}
	}
	return out
}

func cjJobNames(jobs []*batchv1.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Name)
	}
	return out
}

// cjFinished splits jobs into those Complete and those Failed.
func cjFinished(jobs []*batchv1.Job) (succeeded, failed []string) {
	for _, j := range jobs {
		for _, c := range j.Status.Conditions {
			if c.Status != corev1.ConditionTrue {
				continue
			}
			switch c.Type {
			case batchv1.JobComplete:
				succeeded = append(succeeded, j.Name)
			case batchv1.JobFailed:
				failed = append(failed, j.Name)
			}
		}
	}
	return succeeded, failed
}

// cjActive returns the names in status.active, sorted.
func cjActive(cj *batchv1.CronJob) []string {
	var out []string
	for _, r := range cj.Status.Active {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

// cjMinute is the name of the Job of name for Epoch + n minutes.
func cjMinute(name string, n int) string {
	return fmt.Sprintf("%s-%d", name, Epoch.Add(time.Duration(n)*time.Minute).Unix()/60)
}

// cjEvents returns "Type Reason Message" of the CronJob's events with
// one of reasons.
func cjEvents(t *testing.T, cl *Cluster, name string, reasons ...string) []string {
	t.Helper()
	cj := cjGet(t, cl, name)
	ev, err := cl.EventMessages(context.Background(), scNS, cj.UID, reasons...)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
