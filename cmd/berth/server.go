package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/server"
	"github.com/berth-io/berth/sources"
)

func newServerCommand() *cobra.Command {
	var cfg server.Config
	var debug bool
	var storeKind string
	cmd := &cobra.Command{
		Use:   "server --data-dir DIR [SOURCE...]",
		Short: "Run the control plane, the GitOps sync of its sources and an agent for this machine",
		Long: `Run the control plane: the store, the controllers, the GitOps sync of each
source and the HTTPS API, plus (unless --no-local-node) an agent for this
machine. A SOURCE is --git URL [--branch B | --tag T | --commit SHA]
[--path P] [--interval D] [--source-name N], or --dir PATH [--source-name N]; the options
after a --git or --dir belong to it, so several sources can be given.

The server writes DATA_DIR/admin.conf (its URL, CA and admin token) for
the CLI and DATA_DIR/node-token for agents that join it. Webhooks go to
POST /hooks/<source>, signed with the secret in DATA_DIR/webhook-secret.`,
		Example: `  berth server --data-dir /var/lib/berth --git https://github.com/acme/deploy --branch main --path prod
  berth server --data-dir /tmp/berth --dir ./examples/quickstart`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if debug {
				level = slog.LevelDebug
			}
			switch {
			case storeKind == "bolt":
			case strings.HasPrefix(storeKind, "etcd://"):
				return errors.New("--store etcd://: this berth has no etcd store yet; use --store bolt (the default: DATA_DIR/state.db)")
			default:
				return fmt.Errorf("--store %q: want bolt or etcd://HOST:PORT,...", storeKind)
			}
			cfg.Log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return server.Run(ctx, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/berth", "the store, PKI, admin.conf and (for the local node) containerd and logs")
	f.StringVar(&cfg.Listen, "listen", ":6443", "the API's address")
	f.StringArrayVar(&cfg.TLSSANs, "tls-san", nil, "another name or IP clients reach the server by, for its serving certificate (repeatable; localhost, the hostname and a specific --listen IP are always in it)")
	f.BoolVar(&cfg.NoLocalNode, "no-local-node", false, "run no agent on this machine")
	f.StringVar(&cfg.ContainerdSocket, "containerd-socket", "", "use this containerd for the local node instead of starting one")
	f.StringVar(&cfg.NodeName, "name", "", "the local node's name (default: the hostname)")
	f.StringVar(&cfg.PodCIDR, "pod-cidr", "10.42.0.0/24", "the local node's pod subnet")
	f.StringVar(&cfg.Bridge, "bridge", "berth0", "the local node's pod bridge")
	f.StringVar(&cfg.WebhookSecretFile, "webhook-secret-file", "", "the webhooks' secret (default DATA_DIR/webhook-secret, made on first start)")
	f.StringVar(&storeKind, "store", "bolt", "the state store: bolt (a file in the data dir)")
	f.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "10.42.0.0/16", "where nodes' pod subnets (a /24 each) are allocated")
	f.DurationVar(&cfg.NodeGracePeriod, "node-grace-period", 40*time.Second, "how long a node may miss heartbeats before it is NotReady")
	f.BoolVar(&debug, "debug", false, "log at debug level")
	addSourceFlags(f, &cfg.Sources)
	return cmd
}

// addSourceFlags defines --git/--dir and the options that follow them.
// pflag sets values in command-line order, so each option applies to the
// source most recently started.
func addSourceFlags(f *pflag.FlagSet, list *[]server.SourceConfig) {
	start := func(typ string) func(string) error {
		return func(url string) error {
			*list = append(*list, server.SourceConfig{Spec: sources.SourceSpec{Type: typ, URL: url}})
			return nil
		}
	}
	option := func(flag string, gitOnly bool, set func(*server.SourceConfig, string) error) func(string) error {
		return func(v string) error {
			if len(*list) == 0 {
				return fmt.Errorf("--%s must follow the --git or --dir it belongs to", flag)
			}
			sc := &(*list)[len(*list)-1]
			if gitOnly && sc.Spec.Type != sources.TypeGit {
				return fmt.Errorf("--%s applies to a --git source, not to --dir %s", flag, sc.Spec.URL)
			}
			return set(sc, v)
		}
	}
	ref := func(flag string, field func(*sources.SourceSpec) *string) func(string) error {
		return option(flag, true, func(sc *server.SourceConfig, v string) error {
			if sc.Spec.Branch != "" || sc.Spec.Tag != "" || sc.Spec.Commit != "" {
				return fmt.Errorf("--%s: give at most one of --branch, --tag and --commit per --git", flag)
			}
			*field(&sc.Spec) = v
			return nil
		})
	}
	f.Func("git", "a Git repository to apply (file://, path, https://, ssh://)", start(sources.TypeGit))
	f.Func("dir", "a folder to apply, followed as it changes", start(sources.TypeDir))
	f.Func("branch", "the branch the preceding --git follows (default: the remote's HEAD)", ref("branch", func(s *sources.SourceSpec) *string { return &s.Branch }))
	f.Func("tag", "the tag the preceding --git follows", ref("tag", func(s *sources.SourceSpec) *string { return &s.Tag }))
	f.Func("commit", "the commit the preceding --git stays at", ref("commit", func(s *sources.SourceSpec) *string { return &s.Commit }))
	f.Func("path", "the sub-folder of the preceding --git holding the manifests", option("path", true, func(sc *server.SourceConfig, v string) error {
		sc.Spec.Path = v
		return nil
	}))
	f.Func("interval", "how often the preceding --git is polled (default 1m)", option("interval", true, func(sc *server.SourceConfig, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("a positive duration such as 30s or 5m")
		}
		sc.Spec.Interval = metav1.Duration{Duration: d}
		return nil
	}))
	f.Func("auth-file", "HTTPS credentials of the preceding --git: a token, or user:password", option("auth-file", true, func(sc *server.SourceConfig, v string) error {
		sc.AuthFile = v
		return nil
	}))
	f.Func("ssh-key", "the SSH private key of the preceding --git", option("ssh-key", true, func(sc *server.SourceConfig, v string) error {
		sc.SSHKeyFile = v
		return nil
	}))
	f.Func("known-hosts", "the known_hosts file for the preceding --git over SSH", option("known-hosts", true, func(sc *server.SourceConfig, v string) error {
		sc.KnownHostsFile = v
		return nil
	}))
	f.Func("source-name", "the name of the preceding source (default: from its URL or folder)", option("source-name", false, func(sc *server.SourceConfig, v string) error {
		sc.Name = v
		return nil
	}))
	f.Func("allow-prune-all", "let revisions of the preceding source delete all its objects (true|false)", option("allow-prune-all", false, func(sc *server.SourceConfig, v string) error {
		sc.Spec.AllowPruneAll = v == "true"
		if v != "true" && v != "false" {
			return errors.New("true or false")
		}
		return nil
	}))
}
