package nodes

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Runtime is what the node agent drives to run pods: a small cut of
// kubelet's CRI (k8s.io/cri-api RuntimeService and ImageService), shaped
// for containerd. nodes/containerd implements it for real; nodes/fake in
// memory for tests and the scale simulator.
//
// A pod is one sandbox (its network namespace and IP) holding containers.
// The agent puts labels on every sandbox and container (see labels.go) so
// that an agent that restarts can list what is running and adopt it.
//
// IDs are opaque strings chosen by the runtime. Methods on an ID the
// runtime does not know return an error wrapping ErrNotFound; stopping or
// removing something already stopped or removed succeeds.
type Runtime interface {
	// RunPodSandbox creates and starts a pod's sandbox: network namespace,
	// CNI network (the sandbox's IP), hostname, DNS. It returns the
	// sandbox as ready.
	RunPodSandbox(ctx context.Context, config *PodSandboxConfig) (PodSandbox, error)
	// StopPodSandbox stops every container of the sandbox at once and
	// tears its network down; the sandbox stays listed as NotReady.
	StopPodSandbox(ctx context.Context, sandboxID string) error
	// RemovePodSandbox removes a sandbox and all its containers, stopping
	// them first if needed.
	RemovePodSandbox(ctx context.Context, sandboxID string) error
	// ListPodSandboxes lists the sandboxes that match filter.
	ListPodSandboxes(ctx context.Context, filter SandboxFilter) ([]PodSandbox, error)

	// PullImage makes image present according to policy (Always pulls;
	// IfNotPresent pulls when absent; Never fails with ErrImageNeverPull
	// when absent) and returns the image's reference (digest) to create
	// containers from. auth is nil for anonymous pulls. A failed pull
	// wraps ErrImagePull.
	PullImage(ctx context.Context, image string, policy corev1.PullPolicy, auth *AuthConfig) (string, error)

	// CreateContainer creates a container in a sandbox, in state Created,
	// and returns its ID.
	CreateContainer(ctx context.Context, sandboxID string, config *ContainerConfig) (string, error)
	// StartContainer starts a created container. When the runtime cannot
	// start it (a command not in the image, a bad working directory) the
	// container is left exited with ExitCode StartErrorExitCode, Reason
	// "StartError" and the runtime's message, as containerd's CRI plugin
	// does, so the kubelet loop restarts it with back-off like a crash.
	StartContainer(ctx context.Context, containerID string) error
	// StopContainer asks a running container to stop: the stop signal,
	// then a kill once timeout has passed (timeout 0 kills at once). It
	// may return before the container has exited (the fake does; it
	// never sleeps): callers read ContainerStatus to see it exited.
	StopContainer(ctx context.Context, containerID string, timeout time.Duration) error
	// RemoveContainer removes a container, killing it first if running.
	RemoveContainer(ctx context.Context, containerID string) error
	// ContainerStatus returns one container's current state.
	ContainerStatus(ctx context.Context, containerID string) (ContainerStatus, error)
	// ListContainers lists the containers that match filter.
	ListContainers(ctx context.Context, filter ContainerFilter) ([]ContainerStatus, error)

	// Exec runs cmd in a running container and waits for it, for at most
	// timeout (exec probes). A command that ran returns its exit code
	// with a nil error; an error means it could not run or timed out.
	Exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (ExecResult, error)
}

// Timeline is implemented by runtimes that know in advance when a
// sandbox's containers will next change on their own (the fake: a
// container set to exit after a delay, a stop that completes later). The
// agent re-syncs the pod at that time. Runtimes that learn of changes as
// they happen (containerd's event stream) call Agent.Notify instead.
type Timeline interface {
	// NextChange returns the earliest time after now at which something
	// in the sandbox changes, and false when nothing is due.
	NextChange(sandboxID string) (time.Time, bool)
}

// Errors runtimes return; test with errors.Is.
var (
	// ErrNotFound: no sandbox or container with that ID.
	ErrNotFound = errors.New("not found")
	// ErrImagePull: the image could not be pulled.
	ErrImagePull = errors.New("ErrImagePull")
	// ErrImageNeverPull: the image is absent and the policy is Never.
	ErrImageNeverPull = errors.New("ErrImageNeverPull")
	// ErrNotRunning: Exec on a container that is not running.
	ErrNotRunning = errors.New("container is not running")
)

// PodSandboxConfig says how to run a pod's sandbox.
type PodSandboxConfig struct {
	// Pod is the pod as the agent saw it; the runtime reads hostname,
	// DNS, hostNetwork, ports and security settings from it. Read only.
	Pod *corev1.Pod
	// Attempt counts sandboxes made for this pod UID, from 0.
	Attempt uint32
	// Labels identify the pod (SandboxLabels); the runtime stores them and
	// returns them in PodSandbox and filters on them.
	Labels map[string]string
	// Annotations are kept as given.
	Annotations map[string]string
	// LogDirectory is where the pod's container logs go ("" = runtime
	// default).
	LogDirectory string
}

// SandboxState is a sandbox's state, as in CRI.
type SandboxState string

const (
	// SandboxReady: running with its network up.
	SandboxReady SandboxState = "SANDBOX_READY"
	// SandboxNotReady: stopped (or never fully started).
	SandboxNotReady SandboxState = "SANDBOX_NOTREADY"
)

// PodSandbox describes a sandbox.
type PodSandbox struct {
	ID        string
	Name      string // pod name
	Namespace string // pod namespace
	UID       string // pod UID
	Attempt   uint32
	State     SandboxState
	CreatedAt time.Time
	// IP is the pod's primary IP; IPs all of them (dual stack), primary
	// first. Empty for hostNetwork pods (the agent uses the node's IP).
	IP          string
	IPs         []string
	Labels      map[string]string
	Annotations map[string]string
}

// SandboxFilter selects sandboxes; zero fields match everything.
type SandboxFilter struct {
	ID string
	// State, when non-empty, must equal the sandbox's.
	State SandboxState
	// Labels must all be present with these values.
	Labels map[string]string
}

// AuthConfig is a registry credential for PullImage.
type AuthConfig struct {
	Username      string
	Password      string
	Auth          string // base64 "user:password", as in a docker config
	ServerAddress string
	IdentityToken string
	RegistryToken string
}

// ContainerConfig says how to create a container.
type ContainerConfig struct {
	// Name is the container's name in the pod spec.
	Name string
	// Attempt counts containers made for this name in this sandbox, from
	// 0; it is the container's restartCount.
	Attempt uint32
	// Image is the reference PullImage returned.
	Image string
	// Command, Args and WorkingDir override the image's, as in the spec.
	Command    []string
	Args       []string
	WorkingDir string
	// Env is the resolved environment (valueFrom already looked up), in
	// order.
	Env []EnvVar
	// Mounts are the volumes to bind into the container.
	Mounts []Mount
	// Labels identify the container (ContainerLabels); kept and filtered
	// on like a sandbox's.
	Labels map[string]string
	// Annotations are kept as given.
	Annotations map[string]string
	// LogPath is the log file, relative to the sandbox's LogDirectory.
	LogPath string
	// Init is true for an init container that runs to completion (not a
	// sidecar); the fake makes these exit 0 at once.
	Init bool
	// Spec is the container as written in the pod, for what is not lifted
	// above (resources, securityContext, ports, tty, stdin). Read only.
	Spec *corev1.Container
}

// EnvVar is one resolved environment variable.
type EnvVar struct {
	Name  string
	Value string
}

// Mount binds a host path into a container.
type Mount struct {
	ContainerPath string
	HostPath      string
	ReadOnly      bool
	SubPath       string
}

// ContainerState is a container's state, as in CRI.
type ContainerState string

const (
	ContainerCreated ContainerState = "CONTAINER_CREATED"
	ContainerRunning ContainerState = "CONTAINER_RUNNING"
	ContainerExited  ContainerState = "CONTAINER_EXITED"
	ContainerUnknown ContainerState = "CONTAINER_UNKNOWN"
)

// StartErrorExitCode is the exit code of a container that failed to start
// (containerd's CRI plugin uses 128 too).
const StartErrorExitCode = 128

// StartErrorReason is the Reason of a container that failed to start.
const StartErrorReason = "StartError"

// ContainerStatus describes a container.
type ContainerStatus struct {
	ID        string
	SandboxID string
	Name      string
	Attempt   uint32
	State     ContainerState
	// Image is the image as asked for; ImageRef what it resolved to.
	Image      string
	ImageRef   string
	CreatedAt  time.Time
	StartedAt  time.Time // zero until started
	FinishedAt time.Time // zero until exited
	ExitCode   int32
	// Reason is a short CamelCase word for an exit ("Completed", "Error",
	// "OOMKilled"); Message a longer explanation.
	Reason      string
	Message     string
	Labels      map[string]string
	Annotations map[string]string
}

// ContainerFilter selects containers; zero fields match everything.
type ContainerFilter struct {
	ID        string
	SandboxID string
	// State, when non-empty, must equal the container's.
	State  ContainerState
	Labels map[string]string
}

// ExecResult is what an Exec'd command did.
type ExecResult struct {
	ExitCode int32
	Stdout   []byte
	Stderr   []byte
}

// MatchLabels reports whether labels has every key of want with the same
// value; runtimes use it for filters.
func MatchLabels(labels, want map[string]string) bool {
	for k, v := range want {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
