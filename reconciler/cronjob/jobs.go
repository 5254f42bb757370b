package cronjob

import (
	"maps"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/workloads"
)

// InstantiateAnnotation marks a Job made by hand from a CronJob
// (kubectl create job --from=cronjob/NAME); its value is "manual".
const InstantiateAnnotation = "cronjob.kubernetes.io/instantiate"

var cronJobKind = batchv1.SchemeGroupVersion.WithKind("CronJob")

// jobForSchedule returns the Job a CronJob runs for the scheduled time
// (upstream's getJobFromTemplate2): the job template's labels,
// annotations and spec, the scheduled time in the CronJob's time zone as
// the batch.kubernetes.io/cronjob-scheduled-timestamp annotation, and the
// CronJob as controller. It is defaulted as the API server would store
// it. tz is the CronJob's spec.timeZone loaded (UTC when unset, as
// upstream writes the annotation).
func jobForSchedule(cj *batchv1.CronJob, scheduled time.Time, tz *time.Location) *batchv1.Job {
	annotations := copyMap(cj.Spec.JobTemplate.Annotations)
	annotations[batchv1.CronJobScheduledTimestampAnnotation] = scheduled.In(tz).Format(time.RFC3339)
	job := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       cj.Namespace,
			Name:            jobName(cj, scheduled),
			Labels:          copyMap(cj.Spec.JobTemplate.Labels),
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, cronJobKind)},
		},
	}
	cj.Spec.JobTemplate.Spec.DeepCopyInto(&job.Spec)
	workloads.Default(job)
	return job
}

// JobFromCronJob returns the Job `kubectl create job NAME
// --from=cronjob/CJ` creates to run a CronJob now: the job template's
// spec, labels and annotations, the annotation
// cronjob.kubernetes.io/instantiate: manual, and the CronJob as
// controller (without blockOwnerDeletion, as kubectl). It is defaulted as
// the API server would store it, since berth's API stores what it is
// given. The CronJob controller does not count it among its scheduled
// runs (it warns UnexpectedJob while it runs, as upstream does).
func JobFromCronJob(cj *batchv1.CronJob, name string) *batchv1.Job {
	annotations := map[string]string{InstantiateAnnotation: "manual"}
	maps.Copy(annotations, cj.Spec.JobTemplate.Annotations)
	job := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   cj.Namespace,
			Name:        name,
			Labels:      copyMapOrNil(cj.Spec.JobTemplate.Labels),
			Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: cronJobKind.GroupVersion().String(),
				Kind:       cronJobKind.Kind,
				Name:       cj.Name,
				UID:        cj.UID,
				Controller: new(true),
			}},
		},
	}
	cj.Spec.JobTemplate.Spec.DeepCopyInto(&job.Spec)
	workloads.Default(job)
	return job
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	maps.Copy(out, m)
	return out
}

func copyMapOrNil(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	return maps.Clone(m)
}

// finishedCondition returns the Job's Complete or Failed condition type
// when it is true (upstream's jobutil.FinishedCondition).
func finishedCondition(j *batchv1.Job) (batchv1.JobConditionType, bool) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type, true
		}
	}
	return "", false
}

func isJobFinished(j *batchv1.Job) bool {
	_, ok := finishedCondition(j)
	return ok
}

func isJobSucceeded(j *batchv1.Job) bool {
	t, ok := finishedCondition(j)
	return ok && t == batchv1.JobComplete
}

// jobRef is the status.active entry for a Job (upstream's getRef).
func jobRef(j *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{
		Kind:            "Job",
		Namespace:       j.Namespace,
		Name:            j.Name,
		UID:             j.UID,
		APIVersion:      batchv1.SchemeGroupVersion.String(),
		ResourceVersion: j.ResourceVersion,
	}
}

func inActiveList(cj *batchv1.CronJob, uid types.UID) bool {
	for _, r := range cj.Status.Active {
		if r.UID == uid {
			return true
		}
	}
	return false
}

func inActiveListByName(cj *batchv1.CronJob, namespace, name string) bool {
	for _, r := range cj.Status.Active {
		if r.Name == name && r.Namespace == namespace {
			return true
		}
	}
	return false
}

func deleteFromActiveList(cj *batchv1.CronJob, uid types.UID) {
	kept := cj.Status.Active[:0]
	for _, r := range cj.Status.Active {
		if r.UID != uid {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	cj.Status.Active = kept
}
