package job

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Port of upstream's TestGetRemainingBackoffTime: 10s doubling per
// consecutive failure, capped, counted from the last failure.
func TestRemainingBackoff(t *testing.T) {
	cases := []struct {
		name     string
		failures int32
		since    time.Duration // from the last failure to now
		want     time.Duration
	}{
		{"no failures", 0, 0, 0},
		{"first failure, just now", 1, 0, 10 * time.Second},
		{"first failure, 3s ago", 1, 3 * time.Second, 7 * time.Second},
		{"first failure, exactly over", 1, 10 * time.Second, 0},
		{"first failure, long ago", 1, time.Hour, 0},
		{"second failure", 2, 0, 20 * time.Second},
		{"third failure, 5s ago", 3, 5 * time.Second, 35 * time.Second},
		{"sixth failure: 320s", 6, 0, 320 * time.Second},
		{"seventh failure: 640s, capped at 10 min", 7, 0, 10 * time.Minute},
		{"100th failure: capped", 100, time.Minute, 9 * time.Minute},
		{"clock behind the failure", 1, -5 * time.Second, 15 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			last := t0
			got := remainingBackoff(tc.failures, &last, t0.Add(tc.since))
			if got != tc.want {
				t.Errorf("remaining = %v, want %v", got, tc.want)
			}
		})
	}
	if got := remainingBackoff(3, nil, t0); got != 0 {
		t.Errorf("no failure time: %v, want 0", got)
	}
}

// Port of upstream's TestNewBackoffRecord: a success resets the count to
// the failures that finished after it.
func TestBackoffRecordNext(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	ts := func(secs ...int) []time.Time {
		var out []time.Time
		for _, s := range secs {
			out = append(out, at(s))
		}
		return out
	}
	last := at(5)
	old := backoffRecord{failuresAfterLastSuccess: 2, lastFailureTime: &last}
	cases := []struct {
		name              string
		old               backoffRecord
		succeeded, failed []time.Time
		wantFailures      int32
		wantLast          *time.Time
	}{
		{"nothing new", old, nil, nil, 2, &last},
		{"one more failure", old, nil, ts(10), 3, new(at(10))},
		{"two more failures, out of order", old, nil, ts(12, 10), 4, new(at(12))},
		{"a success resets", old, ts(10), nil, 0, nil},
		{"failures before the success do not count", old, ts(10), ts(8, 9), 0, nil},
		{"failures after the success count", old, ts(10), ts(8, 11, 13), 2, new(at(13))},
		{"first failure of a fresh record", backoffRecord{}, nil, ts(1), 1, new(at(1))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.old.next(tc.succeeded, tc.failed)
			if got.failuresAfterLastSuccess != tc.wantFailures {
				t.Errorf("failures = %d, want %d", got.failuresAfterLastSuccess, tc.wantFailures)
			}
			switch {
			case (got.lastFailureTime == nil) != (tc.wantLast == nil):
				t.Errorf("last failure = %v, want %v", got.lastFailureTime, tc.wantLast)
			case got.lastFailureTime != nil && !got.lastFailureTime.Equal(*tc.wantLast):
				t.Errorf("last failure = %v, want %v", *got.lastFailureTime, *tc.wantLast)
			}
		})
	}
}

// Port of upstream's TestGetFinishedTime.
func TestFinishedTime(t *testing.T) {
	at := func(s int) metav1.Time { return metav1.NewTime(t0.Add(time.Duration(s) * time.Second)) }
	terminated := func(s int) corev1.ContainerStatus {
		return corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: at(s)}}}
	}
	running := corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	readyFalse := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: at(7)}
	cases := []struct {
		name string
		pod  corev1.Pod
		want metav1.Time
	}{
		{"latest container exit", corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{terminated(3), terminated(5)}}}, at(5)},
		{"one still running: Ready=False time", corev1.Pod{Status: corev1.PodStatus{
			ContainerStatuses: []corev1.ContainerStatus{terminated(3), running},
			Conditions:        []corev1.PodCondition{readyFalse},
		}}, at(7)},
		{"deleted: deletion time minus grace", corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			DeletionTimestamp: new(at(40)), DeletionGracePeriodSeconds: new(int64(30)),
		}}, at(10)},
		{"nothing known: creation", corev1.Pod{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: at(1)}}, at(1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := finishedTime(&tc.pod); !got.Equal(tc.want.Time) {
				t.Errorf("finished at %v, want %v", got, tc.want.Time)
			}
		})
	}
}
