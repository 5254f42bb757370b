package job

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition reasons and messages, upstream's words.
const (
	reasonBackoffLimitExceeded = batchv1.JobReasonBackoffLimitExceeded
	msgBackoffLimitExceeded    = "Job has reached the specified backoff limit"
	reasonDeadlineExceeded     = batchv1.JobReasonDeadlineExceeded
	msgDeadlineExceeded        = "Job was active longer than specified deadline"
	reasonCompletionsReached   = batchv1.JobReasonCompletionsReached
	msgCompletionsReached      = "Reached expected number of succeeded pods"
	reasonSuspended            = "JobSuspended"
	msgSuspended               = "Job suspended"
	reasonResumed              = "JobResumed"
	msgResumed                 = "Job resumed"
)

func newCondition(t batchv1.JobConditionType, status corev1.ConditionStatus, reason, message string, now time.Time) *batchv1.JobCondition {
	return &batchv1.JobCondition{
		Type:               t,
		Status:             status,
		LastProbeTime:      metav1.NewTime(now),
		LastTransitionTime: metav1.NewTime(now),
		Reason:             reason,
		Message:            message,
	}
}

func findCondition(conds []batchv1.JobCondition, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

func hasTrueCondition(job *batchv1.Job, t batchv1.JobConditionType) bool {
	c := findCondition(job.Status.Conditions, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsFinished reports whether the Job has finished: its Complete or Failed
// condition is True.
func IsFinished(job *batchv1.Job) bool {
	return hasTrueCondition(job, batchv1.JobComplete) || hasTrueCondition(job, batchv1.JobFailed)
}

// FinishedAt returns when the Job finished (the last transition of its
// Complete or Failed condition) and whether it has.
func FinishedAt(job *batchv1.Job) (time.Time, bool) {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time, true
		}
	}
	return time.Time{}, false
}

// ensureCondition is upstream's ensureJobConditionStatus: it updates the
// condition of type t when its status, reason or message differ, or adds
// it unless status is False (nothing to False means nothing); it reports
// whether the list changed.
func ensureCondition(conds []batchv1.JobCondition, t batchv1.JobConditionType, status corev1.ConditionStatus, reason, message string, now time.Time) ([]batchv1.JobCondition, bool) {
	if c := findCondition(conds, t); c != nil {
		if c.Status != status || c.Reason != reason || c.Message != message {
			*c = *newCondition(t, status, reason, message, now)
			return conds, true
		}
		return conds, false
	}
	if status == corev1.ConditionFalse {
		return conds, false
	}
	return append(conds, *newCondition(t, status, reason, message, now)), true
}

// isSuccessTarget: the interim condition of a Job that met its success
// criteria (or the final one prepared from it).
func isSuccessTarget(c *batchv1.JobCondition) bool {
	return c != nil && (c.Type == batchv1.JobSuccessCriteriaMet || c.Type == batchv1.JobComplete)
}
