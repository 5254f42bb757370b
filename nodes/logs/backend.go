package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/store"
)

// DefaultContainerAnnotation names the container `kubectl logs` reads
// when none is given (kubectl's).
const DefaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// Backend serves `berth logs` (the API's Logs backend) for the pods whose
// logs this machine keeps under its root: it resolves the pod and the
// container as the API server does, with its errors, and reads the log
// files with Read.
type Backend struct {
	st   store.Store
	root string
	// poll is Options.Poll of a follow (0: Read's default).
	poll time.Duration
}

// NewBackend returns the log backend for pods in st whose logs are under
// root (the agent's DATA_DIR/logs).
func NewBackend(st store.Store, root string) *Backend {
	return &Backend{st: st, root: root}
}

// Logs writes the text of each line of one run of a container to w, with
// a newline: the current run, or with previous the one before. With follow
// it keeps writing until the container stops (its status says it
// terminated, the pod is gone, or a newer run starts) or ctx ends; either
// end returns nil. An error of w stops it and is returned.
//
// Errors are the API server's and kubelet's: `pods "web" not found`
// (wrapping store.ErrNotFound), `a container name must be specified for
// pod web, choose one of: [a b]` and `container c is not valid for pod
// web` (wrapping store.ErrInvalid), `previous terminated container "c" in
// pod "web" not found` and `container "c" in pod "web" is waiting to
// start: ContainerCreating` (wrapping ErrNotFound).
func (b *Backend) Logs(ctx context.Context, namespace, pod, container string, previous, follow bool, w io.Writer) error {
	p, err := b.pod(ctx, namespace, pod)
	if err != nil {
		return err
	}
	name, err := pickContainer(p, container)
	if err != nil {
		return err
	}
	ref := Ref{Namespace: p.Namespace, Pod: p.Name, UID: string(p.UID), Container: name}
	opts := Options{Previous: previous, Follow: follow && !previous, Poll: b.poll}
	if opts.Follow {
		opts.Running = func() bool { return b.running(ctx, p, name) }
	}
	err = Read(ctx, b.root, ref, opts, func(l Line) error {
		_, err := io.WriteString(w, l.Text+"\n")
		return err
	})
	switch {
	case err == nil:
		return nil
	case opts.Follow && ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return nil // the client went away: a follow's normal end
	case errors.Is(err, ErrNotFound) && !previous:
		if waiting := waitingReason(p, name); waiting != "" {
			return notFoundError(fmt.Sprintf("container %q in pod %q is waiting to start: %s", name, p.Name, waiting))
		}
	}
	return err
}

// pod reads the pod from the store, with the API server's not-found
// message.
func (b *Backend) pod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	obj, err := b.st.Get(ctx, "Pod", namespace, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &wrappedError{msg: fmt.Sprintf("pods %q not found", name), err: store.ErrNotFound}
	}
	if err != nil {
		return nil, fmt.Errorf("read pod %s: %w", name, err)
	}
	return obj.(*corev1.Pod), nil
}

// running says whether the container of the pod (this incarnation, by
// UID) may still write to its log. It errs on the side of running: only a
// stop the status shows ends a follow (a new run's log ends it too, in
// Read), so that a status not yet reported never cuts a log short.
func (b *Backend) running(ctx context.Context, p *corev1.Pod, container string) bool {
	obj, err := b.st.Get(ctx, "Pod", p.Namespace, p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		return true // ask again on the next tick
	}
	cur := obj.(*corev1.Pod)
	if cur.UID != p.UID {
		return false // deleted and created again: this one is gone
	}
	if cur.Status.Phase == corev1.PodSucceeded || cur.Status.Phase == corev1.PodFailed {
		return false
	}
	cs := containerStatus(cur, container)
	if cs == nil {
		return true
	}
	switch {
	case cs.State.Terminated != nil:
		return false
	case cs.State.Waiting != nil && cs.LastTerminationState.Terminated != nil:
		return false // waiting to restart: the run that logged is over
	}
	return true
}

// pickContainer resolves the container to read as the API server's
// LogLocation does; container "" takes kubectl's default-container
// annotation, then the only container.
func pickContainer(p *corev1.Pod, container string) (string, error) {
	if container != "" {
		if !hasContainer(p, container) {
			return "", invalid(fmt.Sprintf("container %s is not valid for pod %s", container, p.Name))
		}
		return container, nil
	}
	if def := p.Annotations[DefaultContainerAnnotation]; def != "" && hasContainer(p, def) {
		return def, nil
	}
	switch len(p.Spec.Containers) {
	case 1:
		return p.Spec.Containers[0].Name, nil
	case 0:
		return "", invalid(fmt.Sprintf("a container name must be specified for pod %s", p.Name))
	}
	msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", p.Name, containerNames(p.Spec.Containers))
	if len(p.Spec.InitContainers) > 0 {
		msg += fmt.Sprintf(" or one of the init containers: [%s]", containerNames(p.Spec.InitContainers))
	}
	return "", invalid(msg)
}

// hasContainer reports whether the pod has a container, init container or
// ephemeral container of that name.
func hasContainer(p *corev1.Pod, name string) bool {
	for _, c := range p.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range p.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range p.Spec.EphemeralContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// containerNames joins names with spaces, as the API server's message
// does.
func containerNames(cs []corev1.Container) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, " ")
}

// containerStatus finds a container's status among all kinds of
// containers; nil when none is reported.
func containerStatus(p *corev1.Pod, name string) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{p.Status.ContainerStatuses, p.Status.InitContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// waitingReason is why a container that never ran is waiting
// ("ContainerCreating"), or "" when its status does not say it waits to
// start.
func waitingReason(p *corev1.Pod, name string) string {
	cs := containerStatus(p, name)
	if cs == nil || cs.State.Waiting == nil || cs.LastTerminationState.Terminated != nil {
		return ""
	}
	if cs.State.Waiting.Reason == "" {
		return "ContainerCreating"
	}
	return cs.State.Waiting.Reason
}

// wrappedError is a message of its own that errors.Is matches with err.
type wrappedError struct {
	msg string
	err error
}

func (e *wrappedError) Error() string { return e.msg }
func (e *wrappedError) Unwrap() error { return e.err }

// invalid is a request that cannot succeed as written (the API's 400).
func invalid(msg string) error { return &wrappedError{msg: msg, err: store.ErrInvalid} }
