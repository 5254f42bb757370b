// Package static runs a node agent on its own, without a server: the Pod
// manifests of a folder are its desired state, as kubelet's static pods
// are. The folder is decoded with the same code as `berth validate` (a
// ConfigMap or Secret beside the pods feeds their env and volumes), changes
// to it are followed, and each pod's status is written to
// DATA_DIR/pods/<namespace>_<name>.json.
package static

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Options configure a standalone agent.
type Options struct {
	// Dir holds the manifests (read recursively, as `berth validate` does).
	Dir string
	// DataDir is the agent's own directory (status files go under pods/).
	DataDir string
	// NodeName names the node (default: the hostname).
	NodeName string
	// Runtime runs the pods.
	Runtime nodes.Runtime
	// Agent tunes the agent (node labels, capacity, pod CIDR...).
	Agent agent.Config
	// Clock is real time unless a test says otherwise.
	Clock clock.WithTicker
	// Log gets what the agent does and what goes wrong.
	Log *slog.Logger
	// Debounce is how long the folder must be quiet before it is read
	// again after a change (default 200ms: editors write in several steps).
	Debounce time.Duration
	// Started, when set, is given the agent once it exists, for runtimes
	// that report container exits (they call its Notify).
	Started func(*agent.Agent)
}

// Run runs the agent until ctx ends. A manifest set that does not
// validate changes nothing (the pods from the last good one keep
// running), and is logged with its file, line and field.
func Run(ctx context.Context, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 200 * time.Millisecond
	}
	if opts.NodeName == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("no --name given and the hostname is unknown: %w", err)
		}
		opts.NodeName = host
	}
	if err := os.MkdirAll(filepath.Join(opts.DataDir, "pods"), 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	st := store.NewMemory(opts.Clock)
	defer st.Close()
	cache := controller.NewCache(st, "Pod", "ConfigMap", "Secret")
	cache.SetLogger(opts.Log)
	m := controller.NewManager(cache, opts.Clock)
	m.SetLogger(opts.Log)
	cfg := opts.Agent
	cfg.NodeName = opts.NodeName
	cfg.DataDir = opts.DataDir // volumes live under it
	a, err := agent.New(agent.Options{Config: cfg, Store: st, Runtime: opts.Runtime, Clock: opts.Clock, Log: opts.Log})
	if err != nil {
		return err
	}
	a.Register(m)
	if opts.Started != nil {
		opts.Started(a)
	}
	m.Register(&statusWriter{dir: filepath.Join(opts.DataDir, "pods"), pods: cache.Lister("Pod")}, controller.EnqueueSelf("Pod"))

	src := &source{dir: opts.Dir, node: opts.NodeName, store: st, log: opts.Log}
	if err := src.sync(ctx); err != nil {
		opts.Log.Error("static pods: nothing applied", "dir", opts.Dir, "err", err)
	}
	errs := make(chan error, 2)
	go func() { errs <- m.Run(ctx, 2) }()
	go func() { errs <- src.watch(ctx, opts.Debounce) }()
	err = <-errs
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return nil
	}
	return err
}

// podFile is the status file of a pod.
func podFile(dir string, pod *corev1.Pod) string {
	return filepath.Join(dir, pod.Namespace+"_"+pod.Name+".json")
}
