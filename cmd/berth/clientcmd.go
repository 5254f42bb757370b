package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/api/printers"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

// serverClient is what the server-facing commands ask of the API client
// (reconciler/api/client.Client); tests give them a fake.
type serverClient interface {
	List(ctx context.Context, kind, namespace, labelSelector string) ([]store.Object, string, error)
	Get(ctx context.Context, kind, namespace, name string) (store.Object, error)
	Create(ctx context.Context, obj store.Object) (store.Object, error)
	Watch(ctx context.Context, kind, namespace, resourceVersion string) (<-chan store.Event, error)
	RolloutUndo(ctx context.Context, kind, namespace, name string, toRevision int64) (string, error)
	RolloutPause(ctx context.Context, kind, namespace, name string) (string, error)
	RolloutResume(ctx context.Context, kind, namespace, name string) (string, error)
	RolloutRestart(ctx context.Context, kind, namespace, name string) (string, error)
	RolloutHistory(ctx context.Context, kind, namespace, name string) ([]api.Revision, error)
	Sync(ctx context.Context, source, revision string, latest bool) ([]*sources.Resource, error)
	Diff(ctx context.Context, source string) ([]api.ObjectDiff, error)
	DiffFiles(ctx context.Context, files []sources.File) ([]api.ObjectDiff, error)
	Logs(ctx context.Context, namespace, pod, container string, previous, follow bool, w io.Writer) error
}

// connectFunc builds a client from --server and --token-file (either may
// be empty: the config is then found as SPEC.md says).
type connectFunc func(server, tokenFile string) (serverClient, error)

// clientEnv is what every server-facing command shares: the connection
// flags, how to connect, and the clock ages and timeouts are measured on.
type clientEnv struct {
	server    string
	tokenFile string
	connect   connectFunc
	clock     clock.WithTicker
}

// newClientCommands returns the commands that talk to a server.
func newClientCommands(connect connectFunc, clk clock.WithTicker) []*cobra.Command {
	env := &clientEnv{connect: connect, clock: clk}
	cmds := []*cobra.Command{
		newGetCommand(env), newDescribeCommand(env), newRolloutCommand(env), newSyncCommand(env),
		newDiffCommand(env), newLogsCommand(env), newEventsCommand(env), newCreateCommand(env),
	}
	cmds = append(cmds, newNodeCommands(env)...)
	for _, c := range cmds {
		c.PersistentFlags().StringVar(&env.server, "server", "", "the berth server's URL (default: from $BERTH_CONFIG, ~/.config/berth/config or a local server's admin.conf)")
		c.PersistentFlags().StringVar(&env.tokenFile, "token-file", "", "a file holding the bearer token to send")
	}
	return cmds
}

// client connects, or explains why it could not (exit 2).
func (e *clientEnv) client(cmd *cobra.Command) (serverClient, error) {
	c, err := e.connect(e.server, e.tokenFile)
	if err != nil {
		return nil, fail(cmd, 2, "%v", err)
	}
	return c, nil
}

// namespaceFlags are -n and -A.
type namespaceFlags struct {
	namespace     string
	allNamespaces bool
}

func (f *namespaceFlags) add(cmd *cobra.Command, withAll bool) {
	cmd.Flags().StringVarP(&f.namespace, "namespace", "n", "default", "the namespace")
	if withAll {
		cmd.Flags().BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	}
}

// listNamespace is the namespace to list for kind: "" across all
// namespaces, and for cluster-scoped kinds.
func (f *namespaceFlags) listNamespace(k printers.Kind) string {
	if f.allNamespaces || !k.Namespaced {
		return ""
	}
	return f.namespace
}

// objectNamespace is the namespace a named object of kind lives in.
func (f *namespaceFlags) objectNamespace(k printers.Kind) string {
	if !k.Namespaced {
		return ""
	}
	return f.namespace
}

// fail prints "error: MESSAGE" to stderr and returns the exit code.
func fail(cmd *cobra.Command, code int, format string, args ...any) error {
	fmt.Fprintf(cmd.ErrOrStderr(), "error: "+format+"\n", args...)
	return exitError{code}
}

// serverError reports err from a call about object name of kind k, as
// kubectl would: its NotFound line (exit 1); a connection failure or a
// refused token with what to check (exit 2); any other answer of the
// server as "Error from server (Reason): message" (exit 1).
func serverError(cmd *cobra.Command, err error, k printers.Kind, name string) error {
	var se *client.StatusError
	switch {
	case errors.Is(err, store.ErrNotFound) && name != "":
		fmt.Fprintln(cmd.ErrOrStderr(), printers.NotFound(k, name))
		return exitError{1}
	case errors.Is(err, client.ErrUnauthorized):
		return fail(cmd, 2, "%v", err)
	case isConnectionError(err):
		return fail(cmd, 2, "cannot reach the berth server: %v; check --server (or the config it is read from) and that `berth server` is running", err)
	case errors.As(err, &se) && se.Reason != "" && se.Reason != metav1.StatusReasonUnknown:
		fmt.Fprintf(cmd.ErrOrStderr(), "Error from server (%s): %s\n", se.Reason, se.Message)
	case errors.As(err, &se):
		fmt.Fprintf(cmd.ErrOrStderr(), "Error from server: %s\n", se.Message)
	default:
		fmt.Fprintf(cmd.ErrOrStderr(), "error: %v\n", err)
	}
	return exitError{1}
}

// watchError is the error an ERROR event of a watch carries, or nil.
func watchError(ev store.Event) error { return client.WatchError(ev) }

func isConnectionError(err error) bool {
	var ue *url.Error
	var oe *net.OpError
	var dnsErr *net.DNSError
	return errors.As(err, &ue) || errors.As(err, &oe) || errors.As(err, &dnsErr)
}
