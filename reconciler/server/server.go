// Package server assembles `berth server`: the store, the controllers, the
// GitOps sync of the configured sources, the HTTPS API and, unless told
// otherwise, an agent for this machine running the same code as `berth
// agent`. It is wiring only; each part lives in its own package.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/nodes/local"
	"github.com/berth-io/berth/nodes/logs"
	"github.com/berth-io/berth/nodes/routes"
	"github.com/berth-io/berth/reconciler/admission"
	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/cronjob"
	"github.com/berth-io/berth/reconciler/daemonset"
	"github.com/berth-io/berth/reconciler/deployment"
	"github.com/berth-io/berth/reconciler/gc"
	"github.com/berth-io/berth/reconciler/gitops"
	"github.com/berth-io/berth/reconciler/job"
	"github.com/berth-io/berth/reconciler/nodelifecycle"
	"github.com/berth-io/berth/reconciler/replicaset"
	"github.com/berth-io/berth/reconciler/rollout"
	"github.com/berth-io/berth/reconciler/scheduler"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
	"github.com/berth-io/berth/sources/webhook"
)

// Config is what `berth server` is given.
type Config struct {
	// DataDir holds the store, the PKI, admin.conf, node-token, the
	// sources' caches and (for the local node) containerd and logs.
	DataDir string
	// Listen is the API's address (default ":6443").
	Listen string
	// TLSSANs are extra names (DNS names or IPs) for the serving
	// certificate, for clients that reach the server by a name other than
	// localhost, the hostname or a specific listen address (--tls-san).
	TLSSANs []string
	// Sources are the Git repositories and folders to apply.
	Sources []SourceConfig
	// NoLocalNode runs the control plane only.
	NoLocalNode bool
	// ContainerdSocket is an existing containerd for the local node;
	// empty: berth starts its own under DataDir.
	ContainerdSocket string
	// NodeName names the local node (default: the hostname).
	NodeName string
	// PodCIDR is the local node's pod subnet (default 10.42.0.0/24).
	PodCIDR string
	// Bridge names the local node's pod bridge (default berth0).
	Bridge string
	// WebhookSecretFile holds the secret webhooks are signed with
	// (default DataDir/webhook-secret, generated on first start).
	WebhookSecretFile string
	// ClusterCIDR is where nodes' pod subnets are allocated (a /24 each;
	// default 10.42.0.0/16).
	ClusterCIDR string
	// NodeGracePeriod is how long a node may miss heartbeats before it is
	// NotReady and tainted unreachable (default 40s).
	NodeGracePeriod time.Duration
	// Workers is how many controller syncs run at once (default 4).
	Workers int
	// Log gets what the server does.
	Log *slog.Logger
	// Started, when set, is called once the API listens, with its URL.
	Started func(url string)
}

// SourceConfig is one --git or --dir source.
type SourceConfig struct {
	// Name is the source's name (default: from the URL or folder).
	Name string
	Spec sources.SourceSpec
	// AuthFile holds an HTTPS token or user:password (Git).
	AuthFile string
	// SSHKeyFile and KnownHostsFile are for ssh:// URLs (Git).
	SSHKeyFile, KnownHostsFile string
}

// Run runs the server until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	cfg.defaults()
	log := cfg.Log
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	clk := clock.RealClock{}
	bolt, err := store.OpenBolt(filepath.Join(cfg.DataDir, "state.db"), clk)
	if err != nil {
		return fmt.Errorf("opening the store in %s: %w", cfg.DataDir, err)
	}
	defer bolt.Close()
	// Every pod written, by a controller or through the API, gets the
	// API server's default tolerations.
	st := admission.Wrap(bolt)

	srcs, err := cfg.buildSources(log)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", cfg.Listen, err)
	}
	defer ln.Close()
	url := "https://" + clientAddr(ln.Addr())
	tlsCfg, caPEM, err := api.EnsurePKI(cfg.DataDir, append(listenHosts(ln.Addr()), cfg.TLSSANs...))
	if err != nil {
		return err
	}
	adminToken, nodeToken, err := api.EnsureTokens(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := api.WriteAdminConfig(filepath.Join(cfg.DataDir, "admin.conf"), client.Config{Server: url, CAData: caPEM, Token: adminToken}); err != nil {
		return err
	}
	if err := api.WriteNodeToken(filepath.Join(cfg.DataDir, "node-token"), caPEM, nodeToken); err != nil {
		return err
	}
	webhookSecret, err := readOrCreateSecret(cfg.WebhookSecretFile)
	if err != nil {
		return err
	}

	cache := controller.NewCache(st, cachedKinds()...)
	cache.SetLogger(log)
	m := controller.NewManager(cache, clk)
	m.SetLogger(log)
	rec := controller.NewRecorder(st, clk, "berth")
	rec.SetLogger(log)
	replicaset.Register(m, st, rec)
	deployment.Register(m, st, rec)
	daemonset.Register(m, st, rec)
	job.Register(m, st, rec)
	cronjob.Register(m, st, rec)
	gc.Register(m, st) // every owning kind the cache holds
	scheduler.New(st, scheduler.Options{Clock: clk, Recorder: rec}).Register(m)
	if err := nodelifecycle.Register(m, st, rec, nodelifecycle.Options{GracePeriod: cfg.NodeGracePeriod, ClusterCIDR: cfg.ClusterCIDR}); err != nil {
		return err
	}

	// One lock for every GitOps write: a sync and a `rollout undo` never
	// interleave, so neither is lost.
	var gitopsLock sync.Mutex
	gitopsCtl, err := gitops.New(gitops.Options{Store: st, Recorder: rec, Clock: clk, Log: log, Lock: &gitopsLock, Sources: srcs})
	if err != nil {
		return err
	}
	gitopsCtl.Register(m)
	actions := rollout.New(rollout.Options{Store: st, Lock: &gitopsLock, Clock: clk, Recorder: rec})

	var logBackend api.Logs = noLogs{}
	if !cfg.NoLocalNode {
		nodeIP := local.HostIP("")
		rt, err := local.Start(ctx, local.Config{DataDir: cfg.DataDir, ContainerdSocket: cfg.ContainerdSocket,
			PodCIDR: cfg.PodCIDR, Bridge: cfg.Bridge, Log: log})
		if err != nil {
			return err
		}
		defer rt.Close()
		a, err := agent.New(agent.Options{
			Config: agent.Config{NodeName: cfg.NodeName, PodCIDR: cfg.PodCIDR, RuntimeName: "containerd",
				ResyncPeriod: 2 * time.Second, DataDir: cfg.DataDir, Capacity: local.HostCapacity(),
				Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP}, {Type: corev1.NodeHostName, Address: cfg.NodeName}}},
			Store: st, Runtime: rt, Recorder: rec, Log: log,
		})
		if err != nil {
			return err
		}
		a.Register(m)
		rt.OnExit(a.Notify)
		// Routes to the pod subnets of agents on other machines.
		routes.Register(m, cfg.NodeName, func() string { return nodeIP })
		logBackend = logs.NewBackend(st, rt.LogDir)
	}

	byName := make(map[string]sources.Source, len(srcs))
	for _, s := range srcs {
		byName[s.Name()] = s
	}
	hooks := webhook.New(webhook.Options{
		Secret: func(name string) ([]byte, bool) {
			_, ok := byName[name]
			return webhookSecret, ok
		},
		Trigger: func(name string) bool {
			s, ok := byName[name]
			if ok {
				s.Trigger()
			}
			return ok
		},
	})
	apiServer, err := api.NewServer(api.Options{
		Store: st, Rollouts: actions, Syncer: gitopsCtl, Logs: logBackend, Hooks: hooks,
		AdminToken: adminToken, NodeToken: nodeToken, TLS: tlsCfg, Log: log, Clock: clk,
	})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs <- m.Run(ctx, cfg.Workers) }()
	go func() { defer wg.Done(); errs <- apiServer.Serve(ctx, ln) }()
	for _, s := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Run(ctx, func(snap sources.Snapshot, err error) { gitopsCtl.Update(s.Name(), snap, err) })
		}()
	}
	log.Info("berth server ready", "api", url, "admin.conf", filepath.Join(cfg.DataDir, "admin.conf"), "sources", len(srcs), "localNode", !cfg.NoLocalNode)
	if cfg.Started != nil {
		cfg.Started(url)
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errs:
	}
	cancel()
	wg.Wait()
	if errors.Is(runErr, context.Canceled) {
		runErr = nil
	}
	return runErr
}

func (cfg *Config) defaults() {
	if cfg.Listen == "" {
		cfg.Listen = ":6443"
	}
	if cfg.PodCIDR == "" {
		cfg.PodCIDR = "10.42.0.0/24"
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.WebhookSecretFile == "" {
		cfg.WebhookSecretFile = filepath.Join(cfg.DataDir, "webhook-secret")
	}
	if cfg.NodeName == "" {
		cfg.NodeName, _ = os.Hostname()
	}
}

// cachedKinds are the kinds the controllers, the agent and the sync read
// from the watch cache: every kind but Events.
func cachedKinds() []string {
	var kinds []string
	for _, k := range store.Kinds() {
		if k != "Event" {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// clientAddr is the address a client on this machine dials for a listener:
// a wildcard host becomes loopback.
func clientAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// listenHosts are the serving certificate's extra names: the listen
// address when it is a specific one (loopback and the hostname are always
// in it).
func listenHosts(a net.Addr) []string {
	host, _, err := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); err != nil || ip == nil || ip.IsUnspecified() {
		return nil
	}
	return []string{host}
}

// noLogs answers `berth logs` on a server without a local node.
type noLogs struct{}

func (noLogs) Logs(context.Context, string, string, string, bool, bool, io.Writer) error {
	return errors.New("this server runs no local node (--no-local-node): container logs are on the agents")
}
