package api

import (
	"context"
	"io"

	"github.com/berth-io/berth/sources"
)

// The API server serves the store itself (list, get, watch, update,
// delete) and hands everything else to these backends, which the server
// (reconciler/server) wires to the sync, the rollout actions and the
// node's logs.

// Rollouts carries out `berth rollout ...` on one object (kind
// "Deployment"; "DaemonSet" later). Each returns kubectl's message for
// "<kind>.apps/NAME <message>" ("rolled back", "paused", "resumed",
// "restarted", "skipped rollback (current template already matches
// revision 2)"), or an error whose text is kubectl's.
type Rollouts interface {
	Undo(ctx context.Context, kind, namespace, name string, toRevision int64) (string, error)
	Pause(ctx context.Context, kind, namespace, name string) (string, error)
	// Resume also lifts a pin that `rollout undo` set.
	Resume(ctx context.Context, kind, namespace, name string) (string, error)
	Restart(ctx context.Context, kind, namespace, name string) (string, error)
	History(ctx context.Context, kind, namespace, name string) ([]Revision, error)
}

// Revision is one entry of `rollout history`.
type Revision struct {
	Revision    int64  `json:"revision"`
	ChangeCause string `json:"changeCause,omitempty"`
	// Template is the revision's pod template as YAML (for --revision N).
	Template string `json:"template,omitempty"`
}

// Syncer carries out `berth sync` and `berth diff`.
type Syncer interface {
	// Sync fetches and applies a source now ("" = every source). With
	// revision it pins the source to that commit; with latest it lifts the
	// pin. It returns once the attempt is over, with the source(s) as they
	// then are.
	Sync(ctx context.Context, source, revision string, latest bool) ([]*sources.Resource, error)
	// Diff says what applying each source's latest revision would change
	// ("" = every source).
	Diff(ctx context.Context, source string) ([]ObjectDiff, error)
	// DiffFiles says what applying these files (`berth diff PATH`) would
	// change; they are decoded and validated as a revision is, and a
	// finding that is an error fails the call with file:line.
	DiffFiles(ctx context.Context, files []sources.File) ([]ObjectDiff, error)
}

// Diff actions.
const (
	DiffCreate = "create"
	DiffUpdate = "update"
	DiffDelete = "delete"
)

// ObjectDiff is what applying would do to one object.
type ObjectDiff struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Action is DiffCreate, DiffUpdate or DiffDelete (unchanged objects
	// are not listed).
	Action string `json:"action"`
	// Diff is a unified diff of the live and the would-be object as YAML
	// ("--- live", "+++ desired"); Secret data values are masked.
	Diff string `json:"diff"`
}

// Logs reads a container's log (`berth logs`).
type Logs interface {
	// Logs writes the container's log lines (their text, as kubectl logs
	// prints them) to w: the current run, or the previous one; with follow
	// it keeps writing until the container stops or ctx ends. container ""
	// means the pod's only container (an error naming the containers when
	// there are several).
	Logs(ctx context.Context, namespace, pod, container string, previous, follow bool, w io.Writer) error
}
