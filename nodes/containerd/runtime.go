// Package containerd is the real nodes.Runtime: pods on containerd (through
// its Go client, in its own containerd namespace "berth" so that berth
// never touches other users of a shared containerd), with one network
// namespace per pod made by a Network (nodes/cni).
//
// What survives an agent restart, so a new Runtime adopts it:
//   - sandboxes are small JSON files under StateDir/sandboxes (their netns
//     is a bind mount that outlives the process);
//   - containers are containerd containers whose labels carry the pod's
//     labels and berth's own bookkeeping (sandbox, attempt, start and exit
//     times, exit code and reason);
//   - container output goes through FIFOs kept under StateDir/io, which a
//     new Runtime re-opens (see logs.go for the trade-off).
package containerd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	ctrd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"

	"github.com/berth-io/berth/nodes"
)

// Defaults for Options.
const (
	DefaultNamespace    = "berth"
	DefaultSnapshotter  = "overlayfs"
	DefaultCgroupParent = "/berth"
	DefaultMaxLogSize   = 10 << 20
	defaultRuntimeName  = "io.containerd.runc.v2"
)

// Options configure a Runtime.
type Options struct {
	// Address is containerd's socket; required unless Client is set.
	Address string
	// Client, when set, is used instead of dialling Address; Close then
	// leaves it open.
	Client *ctrd.Client
	// Namespace is the containerd namespace (default "berth"). Never
	// "k8s.io" or "default": those belong to other users of containerd.
	Namespace string
	// StateDir keeps sandbox records and container FIFOs; required. It must
	// persist across agent restarts for adoption to work.
	StateDir string
	// LogDir is where container logs go when a sandbox has no
	// LogDirectory: LogDir/<namespace>_<name>_<uid>/ (default
	// StateDir/logs).
	LogDir string
	// Network gives pods their netns and IP; nil allows hostNetwork pods
	// only.
	Network Network
	// Snapshotter unpacks images (default overlayfs).
	Snapshotter string
	// CgroupParent holds every container's cgroup (default /berth).
	CgroupParent string
	// MaxLogSize caps a container log file; past it the file is rotated,
	// keeping one previous file (<log>.1). Default 10 MiB.
	MaxLogSize int64
	// InsecureRegistries are registry hosts ("host:port") pulled over plain
	// HTTP. Loopback registries (localhost, 127.0.0.1) always are.
	InsecureRegistries []string
	// OnExit, when set, is called (from a goroutine) each time a container
	// exits, after its exit is recorded: the agent re-syncs the pod.
	OnExit func(nodes.ContainerStatus)
	// Log receives errors of background work (default slog.Default()).
	Log *slog.Logger
}

// Runtime is the containerd nodes.Runtime. It is safe for concurrent use.
type Runtime struct {
	opts       Options
	client     *ctrd.Client
	ownsClient bool

	// ctx lives as long as the Runtime and carries the namespace: the
	// background work (exit watchers, delayed kills) runs under it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[string]*watch // container ID → its exit watcher
	sbMu    sync.Mutex        // serialises sandbox record writes
}

var _ nodes.Runtime = (*Runtime)(nil)

// New connects to containerd and adopts what a previous Runtime over the
// same namespace and StateDir left running: it re-attaches the log FIFOs
// of running containers and records the exits that happened meanwhile.
func New(ctx context.Context, opts Options) (*Runtime, error) {
	if opts.StateDir == "" {
		return nil, errors.New("containerd runtime: Options.StateDir is required")
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.Namespace == "k8s.io" || opts.Namespace == namespaces.Default {
		return nil, fmt.Errorf("containerd runtime: namespace %q belongs to other containerd users; use %q", opts.Namespace, DefaultNamespace)
	}
	if opts.LogDir == "" {
		opts.LogDir = filepath.Join(opts.StateDir, "logs")
	}
	if opts.Snapshotter == "" {
		opts.Snapshotter = DefaultSnapshotter
	}
	if opts.CgroupParent == "" {
		opts.CgroupParent = DefaultCgroupParent
	}
	if opts.MaxLogSize <= 0 {
		opts.MaxLogSize = DefaultMaxLogSize
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	for _, d := range []string{opts.StateDir, sandboxDir(opts.StateDir), ioRoot(opts.StateDir), opts.LogDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("containerd runtime: %w", err)
		}
	}
	r := &Runtime{opts: opts, client: opts.Client, running: map[string]*watch{}}
	if r.client == nil {
		if opts.Address == "" {
			return nil, errors.New("containerd runtime: Options.Address (containerd's socket) is required")
		}
		c, err := ctrd.New(opts.Address, ctrd.WithDefaultNamespace(opts.Namespace))
		if err != nil {
			return nil, fmt.Errorf("containerd runtime: connect to %s: %w", opts.Address, err)
		}
		r.client, r.ownsClient = c, true
	}
	r.ctx, r.cancel = context.WithCancel(namespaces.WithNamespace(context.Background(), opts.Namespace))
	if err := r.adopt(r.nsCtx(ctx)); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Close stops the background work and detaches from running containers
// without stopping them: a new Runtime adopts them.
func (r *Runtime) Close() error {
	r.cancel()
	r.mu.Lock()
	for _, w := range r.running {
		w.detach()
	}
	r.mu.Unlock()
	r.wg.Wait()
	if r.ownsClient {
		return r.client.Close()
	}
	return nil
}

// Client is the containerd client the Runtime uses.
func (r *Runtime) Client() *ctrd.Client { return r.client }

// Namespace is the containerd namespace the Runtime works in.
func (r *Runtime) Namespace() string { return r.opts.Namespace }

// nsCtx puts the Runtime's namespace on ctx.
func (r *Runtime) nsCtx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.opts.Namespace)
}
