package cronjob

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestJobFromCronJob(t *testing.T) {
	cj := cronJob("report")
	cj.UID = types.UID("uid-report")
	cj.Spec.JobTemplate.Annotations = map[string]string{"team": "ops", InstantiateAnnotation: "from-template"}
	j := JobFromCronJob(cj, "report-now")

	if j.Name != "report-now" || j.Namespace != "default" {
		t.Errorf("name %s/%s", j.Namespace, j.Name)
	}
	// As kubectl: the template's annotations are copied over the manual one.
	if got := j.Annotations; got["team"] != "ops" || got[InstantiateAnnotation] != "from-template" {
		t.Errorf("annotations %v", got)
	}
	if j.Labels["app"] != "report" {
		t.Errorf("labels %v", j.Labels)
	}
	refs := j.OwnerReferences
	if len(refs) != 1 || refs[0].Kind != "CronJob" || refs[0].APIVersion != "batch/v1" || refs[0].Name != "report" ||
		refs[0].UID != cj.UID || refs[0].Controller == nil || !*refs[0].Controller || refs[0].BlockOwnerDeletion != nil {
		t.Errorf("ownerReferences %+v", refs)
	}
	if j.Spec.Completions == nil || *j.Spec.Completions != 1 || *j.Spec.BackoffLimit != 1 || *j.Spec.CompletionMode != batchv1.NonIndexedCompletion {
		t.Errorf("spec not defaulted from the template: %+v", j.Spec)
	}
	// The CronJob is not changed through the Job.
	j.Labels["app"] = "x"
	j.Spec.Template.Spec.Containers[0].Image = "x"
	if cj.Spec.JobTemplate.Labels["app"] != "report" || cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image != "busybox" {
		t.Error("the Job aliases the CronJob's template")
	}

	plain := cronJob("plain")
	plain.Spec.JobTemplate.Annotations = nil
	if got := JobFromCronJob(plain, "p").Annotations; len(got) != 1 || got[InstantiateAnnotation] != "manual" {
		t.Errorf("annotations %v", got)
	}
}
