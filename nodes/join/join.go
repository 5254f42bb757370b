package join

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/nodes/local"
	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Runtime is a started node runtime: local.Runtime on containerd, or a
// test's fake. One that also has OnExit(func(key string)) tells the agent
// of container exits at once.
type Runtime interface {
	nodes.Runtime
	Close() error
}

// Config is what `berth agent --server` is given, plus what tests swap.
type Config struct {
	// Server is the server's URL (https://HOST:PORT).
	Server string
	// TokenFile holds the node token: K10<CA hash>::<token> (the
	// server's DATA_DIR/node-token, which pins its CA) or a bare token
	// with a config whose CA to trust.
	TokenFile string
	// DataDir is the agent's own (default /var/lib/berth): its
	// containerd, CNI state, logs, pod volumes and agent id.
	DataDir string
	// NodeName names the Node (default: the hostname).
	NodeName string
	// Labels and Taints are set on the Node when this agent creates it or
	// takes it over from another agent, not on every heartbeat: changes
	// by hand (berth label, taint) stay (kubelet's --node-labels).
	Labels map[string]string
	Taints []corev1.Taint
	// ContainerdSocket and Bridge are local.Config's.
	ContainerdSocket string
	Bridge           string
	// Log gets what the agent does (default slog.Default()).
	Log *slog.Logger

	// StartRuntime starts the runtime on the node's pod subnet (default:
	// local.Start with the fields above). Tests give a fake.
	StartRuntime func(ctx context.Context, podCIDR string) (Runtime, error)
	// Capacity is the node's (default local.HostCapacity()).
	Capacity corev1.ResourceList
	// InternalIP is the node's address (default: the source address
	// towards the server, see hostIP).
	InternalIP string
	// Clock is the agent's (default the real clock).
	Clock clock.WithTicker
	// PollInterval spaces the reads while waiting for the pod subnet
	// (default 1 s); RetryMax caps the back-off between attempts to reach
	// the server (default 30 s).
	PollInterval, RetryMax time.Duration
	// LiveWindow is DefaultLiveWindow unless set.
	LiveWindow time.Duration
	// Workers per controller (default 4).
	Workers int
	// Controllers, when set, registers more controllers with the agent's
	// manager (whose cache holds Pods and Nodes) before it runs: the
	// routes to other nodes' pod subnets, say.
	Controllers func(m *controller.Manager, node *corev1.Node) error
	// Registered, when set, is called with the Node once it has its pod
	// subnet, before the runtime starts.
	Registered func(node *corev1.Node)
}

func (cfg *Config) defaults() error {
	if cfg.DataDir == "" {
		cfg.DataDir = "/var/lib/berth"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("--name not given and no hostname: %w", err)
		}
		cfg.NodeName = strings.ToLower(h)
	}
	if errs := validation.IsDNS1123Subdomain(cfg.NodeName); len(errs) > 0 {
		return fmt.Errorf("invalid node name %q: %s", cfg.NodeName, strings.Join(errs, "; "))
	}
	if cfg.StartRuntime == nil {
		cfg.StartRuntime = func(ctx context.Context, podCIDR string) (Runtime, error) {
			return local.Start(ctx, local.Config{DataDir: cfg.DataDir, ContainerdSocket: cfg.ContainerdSocket,
				PodCIDR: podCIDR, Bridge: cfg.Bridge, Log: cfg.Log})
		}
	}
	if cfg.Capacity == nil {
		cfg.Capacity = local.HostCapacity()
	}
	if cfg.InternalIP == "" {
		cfg.InternalIP = local.HostIP(cfg.Server)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 30 * time.Second
	}
	if cfg.LiveWindow <= 0 {
		cfg.LiveWindow = DefaultLiveWindow
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	return nil
}

// Run joins the server and runs the node agent until ctx ends. It returns
// at once on what retrying cannot fix (a malformed token, a token the
// server refuses, a node name another live agent holds); it retries, with
// back-off, while the server cannot be reached. Pods keep running when it
// returns: the runtime is closed, its containers are not stopped.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	// A malformed token file fails before anything else happens.
	data, err := os.ReadFile(cfg.TokenFile)
	if err != nil {
		return fmt.Errorf("--token-file: %w", err)
	}
	if _, err := api.ParseNodeToken(string(data)); err != nil {
		return fmt.Errorf("--token-file %s: %w", cfg.TokenFile, err)
	}
	id, err := agentID(cfg.DataDir)
	if err != nil {
		return err
	}
	log := cfg.Log.With("node", cfg.NodeName)

	var c *client.Client
	err = retry(ctx, cfg, log, "reach the server", func() error {
		ccfg, err := client.LoadConfig(cfg.Server, cfg.TokenFile)
		if err != nil {
			return err
		}
		c, err = client.New(ccfg)
		return err
	})
	if err != nil {
		return err
	}
	defer c.Close()
	server := strings.TrimSuffix(cfg.Server, "/")
	offset := checkClock(ctx, c, server, cfg.Clock.Now, log)
	serverNow := func() time.Time { return cfg.Clock.Now().Add(offset) }

	// The agent writes only pods' statuses: straight to the status
	// subresource, the server checking the resourceVersion.
	raw := client.NewStore(c, client.WithFieldSelector("Pod", "spec.nodeName="+cfg.NodeName),
		client.WithStatusWrites("Pod"))
	reg := registration{
		name: cfg.NodeName, id: id, labels: cfg.Labels, taints: cfg.Taints, capacity: cfg.Capacity,
		addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: cfg.InternalIP}},
		liveWindow: cfg.LiveWindow, serverNow: serverNow, poll: cfg.PollInterval, clock: cfg.Clock,
	}
	var node *corev1.Node
	err = retry(ctx, cfg, log, "register the node", func() error {
		var err error
		node, err = register(ctx, raw, reg)
		return err
	})
	if err != nil {
		return err
	}
	log.Info("node registered", "server", server, "internalIP", cfg.InternalIP, "agentID", id)
	if node, err = waitPodCIDR(ctx, cfg, raw, node, reg, log); err != nil {
		return err
	}
	if cfg.Registered != nil {
		cfg.Registered(node)
	}

	rt, err := cfg.StartRuntime(ctx, node.Spec.PodCIDR)
	if err != nil {
		return err
	}
	defer rt.Close()
	return runAgent(ctx, cfg, raw, rt, node, id, log)
}

// errNodeLost marks the end of an agent whose Node another agent has
// claimed (after this one was cut off from the server for longer than
// the live window, say).
var errNodeLost = errors.New("node taken over")

func lostError(name, owner string) error {
	return fmt.Errorf("%w: another agent (id %s) now owns node %s: this agent stopped its heartbeat and removed its pods here; give it another --name to run it as a node of its own",
		errNodeLost, owner, name)
}

// removeAllSandboxes stops and removes every pod sandbox this machine's
// runtime holds (with their containers), for an agent whose node another
// agent has taken over.
func removeAllSandboxes(ctx context.Context, rt Runtime, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	sbs, err := rt.ListPodSandboxes(ctx, nodes.SandboxFilter{})
	if err != nil {
		log.Error("join: list pod sandboxes to remove", "err", err)
		return
	}
	for _, sb := range sbs {
		if err := rt.RemovePodSandbox(ctx, sb.ID); err != nil {
			log.Error("join: remove pod sandbox", "pod", sb.Namespace+"/"+sb.Name, "err", err)
		}
	}
	log.Warn("join: removed this node's pods: another agent owns the node now", "pods", len(sbs))
}

// runAgent runs the node agent over the remote store until ctx ends, or
// until another agent claims the Node.
func runAgent(ctx context.Context, cfg Config, raw store.Store, rt Runtime, node *corev1.Node, id string, log *slog.Logger) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var lostMu sync.Mutex
	lostTo := ""
	nodeLost := func(owner string) {
		lostMu.Lock()
		if lostTo == "" {
			lostTo = owner
			if lostTo == "" {
				lostTo = "none"
			}
		}
		lostMu.Unlock()
		stop() // no more heartbeats, pod syncs nor status writes
	}
	st := &recoveringStore{Store: raw}
	cache := controller.NewCache(st, "Pod", "Node")
	cache.SetLogger(log)
	cache.SetClock(cfg.Clock)
	m := controller.NewManager(cache, cfg.Clock)
	m.SetLogger(log)
	rec := controller.NewRecorder(st, cfg.Clock, "kubelet")
	rec.SetLogger(log)
	a, err := agent.New(agent.Options{
		Config: agent.Config{NodeName: cfg.NodeName, Labels: cfg.Labels, Taints: cfg.Taints,
			Capacity: cfg.Capacity, Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: cfg.InternalIP}},
			PodCIDR: node.Spec.PodCIDR, RuntimeName: "containerd", ResyncPeriod: 2 * time.Second, DataDir: cfg.DataDir,
			OwnerID: id, NodeLost: nodeLost},
		Store: st, Runtime: rt, Recorder: rec, Log: log,
	})
	if err != nil {
		return err
	}
	a.Register(m)
	if n, ok := rt.(interface{ OnExit(func(string)) }); ok {
		n.OnExit(a.Notify)
	}
	if cfg.Controllers != nil {
		if err := cfg.Controllers(m, node); err != nil {
			return err
		}
	}
	// After an outage the queue's back-off may hold the heartbeat and the
	// pods' status writes for minutes: sync them all as soon as the
	// server answers again.
	q := m.Queue(a.Name())
	st.onRecover = func() {
		log.Info("the server answers again: syncing the node and its pods")
		q.Add(cfg.NodeName)
		for _, p := range cache.Lister("Pod").List("", nil) {
			if p.(*corev1.Pod).Spec.NodeName == cfg.NodeName {
				q.Add(controller.KeyOf(p))
			}
		}
	}
	err = m.Run(ctx, cfg.Workers)
	lostMu.Lock()
	owner := lostTo
	lostMu.Unlock()
	if owner != "" {
		// The other agent runs this node's pods now: stop them here, or
		// they would run twice.
		removeAllSandboxes(context.WithoutCancel(ctx), rt, log)
		return lostError(cfg.NodeName, owner)
	}
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return nil
	}
	return err
}

// claimRefresh is how often an agent waiting for its pod subnet stamps
// its claim again: the sign of life another agent watches for before
// its first heartbeat.
const claimRefresh = 10 * time.Second

// waitPodCIDR waits until the server has given the node its pod subnet,
// stamping its claim every claimRefresh; it fails if another agent
// claims the Node meanwhile.
func waitPodCIDR(ctx context.Context, cfg Config, st store.Store, node *corev1.Node, reg registration, log *slog.Logger) (*corev1.Node, error) {
	logged := time.Time{}
	claimed := cfg.Clock.Now()
	for node.Spec.PodCIDR == "" {
		if owner := node.Annotations[AnnotationAgentID]; owner != reg.id {
			return nil, lostError(node.Name, owner)
		}
		if now := cfg.Clock.Now(); now.Sub(claimed) >= claimRefresh {
			n := node.DeepCopy()
			claim(n, reg.id, reg.serverNow())
			if out, err := st.Update(ctx, n); err == nil {
				node, claimed = out.(*corev1.Node), now
			} else {
				log.Warn("stamping the node's claim", "err", err)
			}
		}
		if now := cfg.Clock.Now(); now.Sub(logged) >= 10*time.Second {
			log.Info("waiting for the server to give this node its pod subnet (spec.podCIDR)")
			logged = now
		}
		if err := sleep(ctx, cfg.Clock, cfg.PollInterval); err != nil {
			return nil, err
		}
		obj, err := st.Get(ctx, "Node", "", node.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("node %s was deleted while waiting for its pod subnet", node.Name)
		case err != nil:
			if permanent(err) {
				return nil, err
			}
			log.Warn("reading the node", "err", err)
			continue
		}
		node = obj.(*corev1.Node)
	}
	if owner := node.Annotations[AnnotationAgentID]; owner != reg.id {
		return nil, lostError(node.Name, owner)
	}
	if _, _, err := net.ParseCIDR(node.Spec.PodCIDR); err != nil {
		return nil, fmt.Errorf("node %s: the server gave spec.podCIDR %q: %w", node.Name, node.Spec.PodCIDR, err)
	}
	log.Info("pod subnet", "podCIDR", node.Spec.PodCIDR)
	return node, nil
}

// retry calls fn until it succeeds, ctx ends, or it fails in a way
// retrying cannot fix; transient failures are logged and retried with
// back-off up to cfg.RetryMax.
func retry(ctx context.Context, cfg Config, log *slog.Logger, what string, fn func() error) error {
	b := controller.Backoff{Base: 500 * time.Millisecond, Max: cfg.RetryMax}
	for n := 0; ; n++ {
		err := fn()
		if err == nil || permanent(err) {
			return err
		}
		d := b.Delay(n)
		log.Warn("could not "+what+"; retrying", "err", err, "retryIn", d)
		if err := sleep(ctx, cfg.Clock, d); err != nil {
			return fmt.Errorf("%s: %w (last error: %v)", what, err, ctx.Err())
		}
	}
}

// permanent tells errors retrying cannot fix: a refused token, a
// forbidden call, a name another agent holds, an invalid object, and
// the bootstrap's refusals (no CA, a CA the server does not present).
func permanent(err error) bool {
	// LoadConfig's refusals and TLS verification failures are the setup's,
	// however they are wrapped.
	msg := err.Error()
	if strings.Contains(msg, "does not present the CA") || strings.Contains(msg, "x509:") ||
		strings.Contains(msg, "no CA to trust") || strings.HasPrefix(msg, "--server") {
		return true
	}
	var op *net.OpError
	switch {
	case errors.Is(err, client.ErrUnauthorized), errors.Is(err, client.ErrForbidden),
		errors.Is(err, errNameTaken), errors.Is(err, errNodeLost), errors.Is(err, store.ErrInvalid):
		return true
	case errors.As(err, &op):
		return false // connection refused, no route, reset: the server may come
	}
	var se *client.StatusError
	if errors.As(err, &se) {
		return se.Code < 500 && se.Code != 429 // 5xx and 429 pass
	}
	return false // timeouts, EOF: the server may come back
}

func sleep(ctx context.Context, clk clock.WithTicker, d time.Duration) error {
	t := clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
