package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/cronjob"
	"github.com/berth-io/berth/reconciler/store"
)

// Create implements serverClient: it adds obj to the fake's objects,
// refusing a name that exists as the server does.
func (f *fakeClient) Create(_ context.Context, obj store.Object) (store.Object, error) {
	kind, ns, name := key(obj)
	f.record("create %s %s %s", kind, ns, name)
	if f.failWith != nil {
		return nil, f.failWith
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.objects {
		if k, n, m := key(o); k == kind && n == ns && m == name {
			return nil, &client.StatusError{Code: 409, Reason: metav1.StatusReasonAlreadyExists,
				Message: `jobs.batch "` + name + `" already exists`}
		}
	}
	f.objects = append(f.objects, obj.DeepCopyObject())
	return obj, nil
}

func testCronJob(ns, name string) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(testNow.Add(-time.Hour))},
		Spec: batchv1.CronJobSpec{
			Schedule: "0 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}, Annotations: map[string]string{"owner": "ops"}},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "c", Image: "backup:v1"}},
				}}},
			},
		},
	}
}

func TestCreateJobFromCronJob(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		objects    []store.Object
		failWith   error
		wantCode   int
		wantOut    string
		wantErr    string
		wantCreate string // the create call, "" = none
	}{
		{name: "created", args: []string{"create", "job", "backup-now", "--from=cronjob/backup"},
			objects: []store.Object{testCronJob("default", "backup")}, wantOut: "job.batch/backup-now created\n",
			wantCreate: "create Job default backup-now"},
		{name: "short name and namespace", args: []string{"create", "job", "r1", "--from", "cj/report", "-n", "batch"},
			objects: []store.Object{testCronJob("batch", "report")}, wantOut: "job.batch/r1 created\n",
			wantCreate: "create Job batch r1"},
		{name: "cronjob not found", args: []string{"create", "job", "x", "--from=cronjob/nope"},
			wantCode: 1, wantErr: `Error from server (NotFound): cronjobs.batch "nope" not found`},
		{name: "job exists", args: []string{"create", "job", "backup-now", "--from=cronjob/backup"},
			objects:  []store.Object{testCronJob("default", "backup"), &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "backup-now"}}},
			wantCode: 1, wantErr: `Error from server (AlreadyExists): jobs.batch "backup-now" already exists`,
			wantCreate: "create Job default backup-now"},
		{name: "no --from", args: []string{"create", "job", "x"},
			wantCode: 2, wantErr: "error: --from=cronjob/NAME is required"},
		{name: "not a cronjob", args: []string{"create", "job", "x", "--from=deploy/web"},
			wantCode: 2, wantErr: "error: from must be an existing cronjob: deploy/web"},
		{name: "no name", args: []string{"create", "job", "--from=cronjob/backup"},
			wantCode: 2, wantErr: "accepts 1 arg(s), received 0"},
		{name: "server unreachable", args: []string{"create", "job", "x", "--from=cronjob/backup", "--server", "https://unreachable"},
			wantCode: 2, wantErr: "error: no config"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fc := &fakeClient{objects: tc.objects, failWith: tc.failWith}
			res := runCLI(t, fc, nil, "", tc.args...)
			if res.code != tc.wantCode || res.stdout != tc.wantOut || (tc.wantErr != "" && !strings.Contains(res.stderr, tc.wantErr)) {
				t.Fatalf("got code %d, stdout %q, stderr %q\nwant code %d, stdout %q, stderr containing %q",
					res.code, res.stdout, res.stderr, tc.wantCode, tc.wantOut, tc.wantErr)
			}
			created := slices.ContainsFunc(fc.calls, func(c string) bool { return strings.HasPrefix(c, "create ") })
			if tc.wantCreate == "" && created {
				t.Errorf("created something: %v", fc.calls)
			}
			if tc.wantCreate != "" && !slices.Contains(fc.calls, tc.wantCreate) {
				t.Errorf("calls %v, want %q", fc.calls, tc.wantCreate)
			}
		})
	}
}

func TestCreateJobObject(t *testing.T) {
	cj := testCronJob("default", "backup")
	fc := &fakeClient{objects: []store.Object{cj}}
	if res := runCLI(t, fc, nil, "", "create", "job", "backup-now", "--from=cronjob/backup"); res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var job *batchv1.Job
	for _, o := range fc.objects {
		if j, ok := o.(*batchv1.Job); ok {
			job = j
		}
	}
	if job == nil {
		t.Fatal("no job created")
	}
	want := cronjob.JobFromCronJob(cj, "backup-now")
	if job.Annotations[cronjob.InstantiateAnnotation] != "manual" || job.Annotations["owner"] != "ops" || job.Labels["app"] != "backup" {
		t.Errorf("metadata %v %v", job.Labels, job.Annotations)
	}
	if ref := metav1.GetControllerOf(job); ref == nil || ref.UID != cj.UID || ref.Kind != "CronJob" {
		t.Errorf("owner %+v", job.OwnerReferences)
	}
	if job.Spec.Template.Spec.Containers[0].Image != "backup:v1" || *job.Spec.BackoffLimit != *want.Spec.BackoffLimit {
		t.Errorf("spec %+v", job.Spec)
	}
}
