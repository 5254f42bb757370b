// Package fake is an in-memory nodes.Runtime and a fake node (the real
// agent loop over that runtime) for unit tests and the scale simulator.
// Containers run at once; a per-pod Behavior decides when they become
// ready, whether and when they exit, and how long they take to stop, all
// on an injected clock, so runs are deterministic. Nothing here sleeps or
// starts goroutines.
package fake

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/nodes"
)

// Options configure a Runtime.
type Options struct {
	// Clock drives every state change; required.
	Clock clock.PassiveClock
	// Behavior picks each pod's behaviour; nil means the zero Behavior.
	Behavior BehaviorFunc
	// PodCIDR is the subnet pod IPs come from (default 10.88.0.0/16).
	PodCIDR string
	// Images are present from the start (for pull policy Never).
	Images []string
	// PullError, when set, is asked before each pull; an error fails it.
	PullError func(image string) error
}

// Runtime is an in-memory nodes.Runtime. It is safe for concurrent use.
type Runtime struct {
	clock     clock.PassiveClock
	behavior  BehaviorFunc
	pullError func(string) error
	exec      ExecFunc

	mu         sync.Mutex
	ipam       *ipam
	seq        int
	images     map[string]string // image → ref
	pulls      int
	sandboxes  map[string]*sandbox
	byPod      map[string]map[string]*sandbox // podKey(labels) → sandboxes by ID
	containers map[string]*container
}

type sandbox struct {
	info nodes.PodSandbox
	pod  *corev1.Pod
}

type container struct {
	status   nodes.ContainerStatus
	behavior Behavior
	init     bool
	// exitAt, when set, is when a running container exits by itself (or
	// from a stop), with exitCode and reason.
	exitAt   time.Time
	exitCode int32
	reason   string
}

var _ nodes.Runtime = (*Runtime)(nil)
var _ nodes.Timeline = (*Runtime)(nil)

// New returns an empty fake runtime.
func New(opts Options) (*Runtime, error) {
	if opts.Clock == nil {
		return nil, fmt.Errorf("fake: Options.Clock is required")
	}
	cidr := opts.PodCIDR
	if cidr == "" {
		cidr = "10.88.0.0/16"
	}
	m, err := newIPAM(cidr)
	if err != nil {
		return nil, err
	}
	r := &Runtime{
		clock:      opts.Clock,
		behavior:   opts.Behavior,
		pullError:  opts.PullError,
		ipam:       m,
		images:     map[string]string{},
		sandboxes:  map[string]*sandbox{},
		byPod:      map[string]map[string]*sandbox{},
		containers: map[string]*container{},
	}
	for _, img := range opts.Images {
		r.images[img] = imageRef(img)
	}
	return r, nil
}

func imageRef(image string) string { return "fake-image://" + image }

// nextID returns a fresh ID with a kind prefix: deterministic per runtime.
func (r *Runtime) nextID(kind string) string {
	r.seq++
	return fmt.Sprintf("%s-%d", kind, r.seq)
}

// RunPodSandbox implements nodes.Runtime.
func (r *Runtime) RunPodSandbox(_ context.Context, cfg *nodes.PodSandboxConfig) (nodes.PodSandbox, error) {
	if cfg == nil || cfg.Pod == nil {
		return nodes.PodSandbox{}, fmt.Errorf("fake: RunPodSandbox without a pod")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	pod := cfg.Pod.DeepCopy()
	sb := &sandbox{pod: pod, info: nodes.PodSandbox{
		ID:          r.nextID("sandbox"),
		Name:        pod.Name,
		Namespace:   pod.Namespace,
		UID:         string(pod.UID),
		Attempt:     cfg.Attempt,
		State:       nodes.SandboxReady,
		CreatedAt:   r.clock.Now(),
		Labels:      copyMap(cfg.Labels),
		Annotations: copyMap(cfg.Annotations),
	}}
	if !pod.Spec.HostNetwork {
		ip, err := r.ipam.allocate()
		if err != nil {
			return nodes.PodSandbox{}, err
		}
		sb.info.IP, sb.info.IPs = ip, []string{ip}
	}
	r.sandboxes[sb.info.ID] = sb
	key := podKey(sb.info.Labels)
	if r.byPod[key] == nil {
		r.byPod[key] = map[string]*sandbox{}
	}
	r.byPod[key][sb.info.ID] = sb
	return copySandbox(sb.info), nil
}

// StopPodSandbox implements nodes.Runtime: containers are killed at once.
func (r *Runtime) StopPodSandbox(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[id]
	if !ok {
		return fmt.Errorf("sandbox %q: %w", id, nodes.ErrNotFound)
	}
	now := r.clock.Now()
	for _, c := range r.containers {
		if c.status.SandboxID == id {
			r.stopLocked(c, now, 0)
		}
	}
	if sb.info.State == nodes.SandboxReady {
		sb.info.State = nodes.SandboxNotReady
		r.ipam.release(sb.info.IP)
	}
	return nil
}

// RemovePodSandbox implements nodes.Runtime.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	r.mu.Lock()
	_, ok := r.sandboxes[id]
	r.mu.Unlock()
	if !ok {
		return nil
	}
	if err := r.StopPodSandbox(ctx, id); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for cid, c := range r.containers {
		if c.status.SandboxID == id {
			delete(r.containers, cid)
		}
	}
	if sb := r.sandboxes[id]; sb != nil {
		key := podKey(sb.info.Labels)
		delete(r.byPod[key], id)
		if len(r.byPod[key]) == 0 {
			delete(r.byPod, key)
		}
	}
	delete(r.sandboxes, id)
	return nil
}

// ListPodSandboxes implements nodes.Runtime; results are in creation order.
// A filter on the pod's namespace and name labels is an index lookup.
func (r *Runtime) ListPodSandboxes(_ context.Context, f nodes.SandboxFilter) ([]nodes.PodSandbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	candidates := r.sandboxes
	ns, okNS := f.Labels[nodes.LabelPodNamespace]
	name, okName := f.Labels[nodes.LabelPodName]
	if okNS && okName {
		candidates = r.byPod[ns+"/"+name]
	}
	var out []nodes.PodSandbox
	for _, sb := range candidates {
		if (f.ID == "" || f.ID == sb.info.ID) &&
			(f.State == "" || f.State == sb.info.State) &&
			nodes.MatchLabels(sb.info.Labels, f.Labels) {
			out = append(out, copySandbox(sb.info))
		}
	}
	slices.SortFunc(out, func(a, b nodes.PodSandbox) int { return compareIDs(a.ID, b.ID) })
	return out, nil
}

// PullImage implements nodes.Runtime.
func (r *Runtime) PullImage(_ context.Context, image string, policy corev1.PullPolicy, _ *nodes.AuthConfig) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, present := r.images[image]
	switch {
	case policy == corev1.PullNever && !present:
		return "", fmt.Errorf("image %q is not present with pull policy of Never: %w", image, nodes.ErrImageNeverPull)
	case present && policy != corev1.PullAlways:
		return ref, nil
	}
	if r.pullError != nil {
		if err := r.pullError(image); err != nil {
			return "", fmt.Errorf("pull %q: %w: %w", image, nodes.ErrImagePull, err)
		}
	}
	r.pulls++
	r.images[image] = imageRef(image)
	return r.images[image], nil
}

// CreateContainer implements nodes.Runtime; the sandbox's pod's Behavior
// is fixed for the container here.
func (r *Runtime) CreateContainer(_ context.Context, sandboxID string, cfg *nodes.ContainerConfig) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[sandboxID]
	if !ok {
		return "", fmt.Errorf("sandbox %q: %w", sandboxID, nodes.ErrNotFound)
	}
	if sb.info.State != nodes.SandboxReady {
		return "", fmt.Errorf("fake: sandbox %q is not ready", sandboxID)
	}
	var b Behavior
	if r.behavior != nil {
		b = r.behavior(sb.pod)
	}
	c := &container{behavior: b, init: cfg.Init, status: nodes.ContainerStatus{
		ID:          r.nextID("container"),
		SandboxID:   sandboxID,
		Name:        cfg.Name,
		Attempt:     cfg.Attempt,
		State:       nodes.ContainerCreated,
		Image:       cfg.Image,
		ImageRef:    cfg.Image,
		CreatedAt:   r.clock.Now(),
		Labels:      copyMap(cfg.Labels),
		Annotations: copyMap(cfg.Annotations),
	}}
	r.containers[c.status.ID] = c
	return c.status.ID, nil
}

// StartContainer implements nodes.Runtime: the container runs at once; an
// init container (ContainerConfig.Init) exits 0 at once unless
// Behavior.FailInit.
func (r *Runtime) StartContainer(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return fmt.Errorf("container %q: %w", id, nodes.ErrNotFound)
	}
	if c.status.State != nodes.ContainerCreated {
		return fmt.Errorf("fake: container %q is %s, not created", id, c.status.State)
	}
	now := r.clock.Now()
	if msg := c.behavior.StartError; msg != "" {
		c.status.State, c.status.FinishedAt = nodes.ContainerExited, now
		c.status.ExitCode, c.status.Reason, c.status.Message = nodes.StartErrorExitCode, nodes.StartErrorReason, msg
		return fmt.Errorf("fake: start container %q: %s", id, msg)
	}
	c.status.State = nodes.ContainerRunning
	c.status.StartedAt = now
	if at, code, ok := c.behavior.exit(now, c.init); ok {
		c.setExit(at, code)
	}
	return nil
}

func (c *container) setExit(at time.Time, code int32) {
	c.exitAt, c.exitCode, c.reason = at, code, "Completed"
	if code != 0 {
		c.reason = "Error"
	}
}

// StopContainer implements nodes.Runtime: the container exits
// Behavior.StopDelay later with 143 (SIGTERM), or is killed with 137 when
// the timeout comes first; it returns at once.
func (r *Runtime) StopContainer(_ context.Context, id string, timeout time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return fmt.Errorf("container %q: %w", id, nodes.ErrNotFound)
	}
	r.stopLocked(c, r.clock.Now(), timeout)
	return nil
}

func (r *Runtime) stopLocked(c *container, now time.Time, timeout time.Duration) {
	r.refresh(c, now)
	switch c.status.State {
	case nodes.ContainerCreated:
		c.status.State, c.status.FinishedAt = nodes.ContainerExited, now
		c.status.ExitCode, c.status.Reason = 0, ""
		return
	case nodes.ContainerRunning:
	default:
		return
	}
	timeout = max(timeout, 0)
	at, code := now.Add(c.behavior.StopDelay), int32(143)
	if c.behavior.StopDelay > timeout {
		at, code = now.Add(timeout), 137
	}
	if !c.exitAt.IsZero() && !at.Before(c.exitAt) {
		return // it exits by itself before the stop takes effect
	}
	c.setExit(at, code)
	r.refresh(c, now)
}

// refresh moves a running container past its exit time to Exited.
func (r *Runtime) refresh(c *container, now time.Time) {
	if c.status.State == nodes.ContainerRunning && !c.exitAt.IsZero() && !now.Before(c.exitAt) {
		c.status.State = nodes.ContainerExited
		c.status.FinishedAt = c.exitAt
		c.status.ExitCode = c.exitCode
		c.status.Reason = c.reason
	}
}

// RemoveContainer implements nodes.Runtime.
func (r *Runtime) RemoveContainer(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.containers, id)
	return nil
}

// ContainerStatus implements nodes.Runtime.
func (r *Runtime) ContainerStatus(_ context.Context, id string) (nodes.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return nodes.ContainerStatus{}, fmt.Errorf("container %q: %w", id, nodes.ErrNotFound)
	}
	r.refresh(c, r.clock.Now())
	return copyStatus(c.status), nil
}

// ListContainers implements nodes.Runtime; results are in creation order.
func (r *Runtime) ListContainers(_ context.Context, f nodes.ContainerFilter) ([]nodes.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	var out []nodes.ContainerStatus
	for _, c := range r.containers {
		r.refresh(c, now)
		if (f.ID == "" || f.ID == c.status.ID) &&
			(f.SandboxID == "" || f.SandboxID == c.status.SandboxID) &&
			(f.State == "" || f.State == c.status.State) &&
			nodes.MatchLabels(c.status.Labels, f.Labels) {
			out = append(out, copyStatus(c.status))
		}
	}
	slices.SortFunc(out, func(a, b nodes.ContainerStatus) int { return compareIDs(a.ID, b.ID) })
	return out, nil
}

// ExecFunc decides what a command run in a container does (Exec, and the
// fake's HTTP and TCP checks, as the commands "GET <url>" and "TCP
// <address>"). It is called with the runtime's lock released, so it may
// call the runtime; it must be deterministic for runs to be.
type ExecFunc func(c nodes.ContainerStatus, cmd []string) (nodes.ExecResult, error)

// SetExec makes fn decide what commands do (nil: the default, exit 0
// once the container is ready).
func (r *Runtime) SetExec(fn ExecFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exec = fn
}

// Exec implements nodes.Runtime: by default any command exits 0 once the
// container is ready (Behavior.ReadyAfter) and 1 before, like a readiness
// check; SetExec changes that.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, _ time.Duration) (nodes.ExecResult, error) {
	r.mu.Lock()
	fn := r.exec
	r.mu.Unlock()
	if fn != nil {
		st, err := r.ContainerStatus(ctx, id)
		if err != nil {
			return nodes.ExecResult{}, err
		}
		if st.State != nodes.ContainerRunning {
			return nodes.ExecResult{}, fmt.Errorf("container %q: %w", id, nodes.ErrNotRunning)
		}
		return fn(st, cmd)
	}
	ready, _, err := r.Ready(id)
	if err != nil {
		return nodes.ExecResult{}, err
	}
	if !ready {
		return nodes.ExecResult{ExitCode: 1}, nil
	}
	return nodes.ExecResult{}, nil
}

// Ready reports whether a container is running and past its ReadyAfter,
// and when it will be (zero if it is, or never will be while running). A
// container whose Behavior fails is never ready.
func (r *Runtime) Ready(id string) (ready bool, at time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return false, time.Time{}, fmt.Errorf("container %q: %w", id, nodes.ErrNotFound)
	}
	now := r.clock.Now()
	r.refresh(c, now)
	if c.status.State != nodes.ContainerRunning {
		return false, time.Time{}, fmt.Errorf("container %q: %w", id, nodes.ErrNotRunning)
	}
	if c.behavior.Fail {
		return false, time.Time{}, nil // crashes before it is ever ready
	}
	readyAt := c.status.StartedAt.Add(c.behavior.ReadyAfter)
	if !now.Before(readyAt) {
		return true, time.Time{}, nil
	}
	if !c.exitAt.IsZero() && !c.exitAt.After(readyAt) {
		return false, time.Time{}, nil
	}
	return false, readyAt, nil
}

// NextChange implements nodes.Timeline: the earliest future exit or
// readiness of a container in the sandbox.
func (r *Runtime) NextChange(sandboxID string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nextLocked(func(c *container) bool { return c.status.SandboxID == sandboxID })
}

// Next returns the earliest future change in the whole runtime, for a
// step-mode manager's timer source.
func (r *Runtime) Next() (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nextLocked(func(*container) bool { return true })
}

func (r *Runtime) nextLocked(match func(*container) bool) (time.Time, bool) {
	now := r.clock.Now()
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, c := range r.containers {
		if !match(c) {
			continue
		}
		r.refresh(c, now)
		if c.status.State != nodes.ContainerRunning {
			continue
		}
		if !c.exitAt.IsZero() {
			consider(c.exitAt)
		}
		if !c.behavior.Fail {
			consider(c.status.StartedAt.Add(c.behavior.ReadyAfter))
		}
	}
	return next, !next.IsZero()
}

// Stats counts what the runtime holds, for tests and the simulator.
type Stats struct {
	Sandboxes, ReadySandboxes, Containers, RunningContainers, Pulls int
}

// Stats returns the current counts.
func (r *Runtime) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	s := Stats{Sandboxes: len(r.sandboxes), Containers: len(r.containers), Pulls: r.pulls}
	for _, sb := range r.sandboxes {
		if sb.info.State == nodes.SandboxReady {
			s.ReadySandboxes++
		}
	}
	for _, c := range r.containers {
		r.refresh(c, now)
		if c.status.State == nodes.ContainerRunning {
			s.RunningContainers++
		}
	}
	return s
}

// podKey indexes sandboxes by the pod namespace and name labels.
func podKey(labels map[string]string) string {
	return labels[nodes.LabelPodNamespace] + "/" + labels[nodes.LabelPodName]
}

// compareIDs orders "kind-N" IDs by N: creation order.
func compareIDs(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func copySandbox(s nodes.PodSandbox) nodes.PodSandbox {
	s.IPs = slices.Clone(s.IPs)
	s.Labels = copyMap(s.Labels)
	s.Annotations = copyMap(s.Annotations)
	return s
}

func copyStatus(s nodes.ContainerStatus) nodes.ContainerStatus {
	s.Labels = copyMap(s.Labels)
	s.Annotations = copyMap(s.Annotations)
	return s
}
