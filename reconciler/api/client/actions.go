package client

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/sources"
)

// RolloutUndo rolls kind/name back to toRevision (0: the previous one) and
// returns kubectl's message ("rolled back").
func (c *Client) RolloutUndo(ctx context.Context, kind, namespace, name string, toRevision int64) (string, error) {
	return c.rollout(ctx, kind, namespace, name, "undo", &api.UndoRequest{ToRevision: toRevision})
}

// RolloutPause pauses kind/name's rollout ("paused").
func (c *Client) RolloutPause(ctx context.Context, kind, namespace, name string) (string, error) {
	return c.rollout(ctx, kind, namespace, name, "pause", nil)
}

// RolloutResume resumes kind/name's rollout and lifts an undo's pin
// ("resumed").
func (c *Client) RolloutResume(ctx context.Context, kind, namespace, name string) (string, error) {
	return c.rollout(ctx, kind, namespace, name, "resume", nil)
}

// RolloutRestart restarts kind/name's pods by a rollout ("restarted").
func (c *Client) RolloutRestart(ctx context.Context, kind, namespace, name string) (string, error) {
	return c.rollout(ctx, kind, namespace, name, "restart", nil)
}

func (c *Client) rollout(ctx context.Context, kind, namespace, name, action string, body any) (string, error) {
	var res api.ActionResult
	path := api.ActionPath(kind, namespaceOrDefault(kind, namespace), name, "rollout/"+action)
	if body == nil {
		body = struct{}{}
	}
	if err := c.do(ctx, http.MethodPost, path, nil, body, &res); err != nil {
		return "", err
	}
	return res.Message, nil
}

// RolloutHistory lists kind/name's revisions.
func (c *Client) RolloutHistory(ctx context.Context, kind, namespace, name string) ([]api.Revision, error) {
	var res api.RevisionList
	path := api.ActionPath(kind, namespaceOrDefault(kind, namespace), name, "rollout/history")
	if err := c.do(ctx, http.MethodGet, path, nil, nil, &res); err != nil {
		return nil, err
	}
	return res.Items, nil
}

// Sync fetches and applies source ("" = every source) now; revision pins
// it to a commit, latest lifts the pin. It returns the sources as the
// attempt left them.
func (c *Client) Sync(ctx context.Context, source, revision string, latest bool) ([]*sources.Resource, error) {
	var res api.SourceList
	body := api.SyncRequest{Source: source, Revision: revision, Latest: latest}
	if err := c.do(ctx, http.MethodPost, api.SyncPath, nil, body, &res); err != nil {
		return nil, err
	}
	return res.Items, nil
}

// Diff says what applying source's latest revision ("" = every source)
// would change.
func (c *Client) Diff(ctx context.Context, source string) ([]api.ObjectDiff, error) {
	var res api.DiffList
	q := url.Values{}
	if source != "" {
		q.Set("source", source)
	}
	if err := c.do(ctx, http.MethodGet, api.DiffPath, q, nil, &res); err != nil {
		return nil, err
	}
	return res.Items, nil
}

// DiffFiles says what applying these files would change. Files that do
// not validate fail it with errors.Is(err, store.ErrInvalid) and the
// file:line findings in the message.
func (c *Client) DiffFiles(ctx context.Context, files []sources.File) ([]api.ObjectDiff, error) {
	var res api.DiffList
	body := api.DiffRequest{Files: make([]api.DiffFile, len(files))}
	for i, f := range files {
		body.Files[i] = api.DiffFile{Path: f.Path, Data: f.Data}
	}
	if err := c.do(ctx, http.MethodPost, api.DiffPath, nil, body, &res); err != nil {
		return nil, err
	}
	return res.Items, nil
}

// Logs copies a container's log to w (container "" = the pod's only
// one): the current run or the previous one; with follow, until the
// container stops or ctx ends (then it returns ctx's error).
func (c *Client) Logs(ctx context.Context, namespace, pod, container string, previous, follow bool, w io.Writer) error {
	path, err := api.ResourcePath("Pod", namespaceOrDefault("Pod", namespace), pod)
	if err != nil {
		return err
	}
	q := url.Values{}
	if container != "" {
		q.Set("container", container)
	}
	if previous {
		q.Set("previous", "true")
	}
	if follow {
		q.Set("follow", "true")
	}
	resp, err := c.send(ctx, http.MethodGet, path+"/log", q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}
