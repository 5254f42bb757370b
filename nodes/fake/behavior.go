package fake

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Behavior says what the containers of one pod do in the fake runtime.
// The zero Behavior is a healthy long-running app: running at once, ready
// at once, never exiting, stopping at once when asked.
type Behavior struct {
	// ReadyAfter is how long after it starts a container becomes ready.
	ReadyAfter time.Duration
	// Fail makes each container exit with ExitCode (1 when 0) FailAfter
	// after it starts, never having been ready (a crash on start-up); a
	// restart fails again unless the BehaviorFunc, asked anew for each
	// container instance, says otherwise.
	Fail      bool
	ExitCode  int32
	FailAfter time.Duration
	// CompleteAfter, when positive and Fail is false, makes each container
	// exit 0 that long after it starts (a Job's pod).
	CompleteAfter time.Duration
	// FailInit makes init containers fail like Fail does app containers;
	// otherwise they exit 0 as soon as they start.
	FailInit bool
	// StopDelay is how long a container takes to exit after the stop
	// signal; past the stop timeout (the grace period) it is killed.
	StopDelay time.Duration
	// StartError, when set, makes StartContainer fail with this message
	// (a command not in the image) and leaves the container exited with
	// nodes.StartErrorExitCode, as the containerd runtime does.
	StartError string
}

// BehaviorFunc picks the behaviour of a pod's containers; it is asked
// each time a container is created (so restarts may behave differently).
type BehaviorFunc func(pod *corev1.Pod) Behavior

// exit returns when a container started at start exits on its own, with
// which code; ok is false if it runs until stopped.
func (b Behavior) exit(start time.Time, init bool) (at time.Time, code int32, ok bool) {
	switch {
	case init && !b.FailInit:
		return start, 0, true
	case b.Fail || init:
		code = b.ExitCode
		if code == 0 {
			code = 1
		}
		return start.Add(b.FailAfter), code, true
	case b.CompleteAfter > 0:
		return start.Add(b.CompleteAfter), 0, true
	}
	return time.Time{}, 0, false
}
