package api

import (
	"context"
	"net/http"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/sources"
)

// The bodies of the action endpoints, shared with package client.

// UndoRequest is the body of POST .../rollout/undo.
type UndoRequest struct {
	// ToRevision is the revision to roll back to; 0 is the previous one.
	ToRevision int64 `json:"toRevision"`
}

// ActionResult is what a rollout action answers: kubectl's message
// ("rolled back", "paused").
type ActionResult struct {
	Message string `json:"message"`
}

// RevisionList answers GET .../rollout/history.
type RevisionList struct {
	Items []Revision `json:"items"`
}

// SyncRequest is the body of POST /apis/berth.io/v1/sync.
type SyncRequest struct {
	// Source is the source to sync; "" syncs every source.
	Source string `json:"source"`
	// Revision pins the source to that commit.
	Revision string `json:"revision"`
	// Latest lifts the pin.
	Latest bool `json:"latest"`
}

// SourceList answers a sync.
type SourceList struct {
	Items []*sources.Resource `json:"items"`
}

// DiffRequest is the body of POST /apis/berth.io/v1/diff.
type DiffRequest struct {
	Files []DiffFile `json:"files"`
}

// DiffFile is one file of a DiffRequest; Data is base64 in JSON.
type DiffFile struct {
	Path string `json:"path"`
	Data []byte `json:"data"`
}

// DiffList answers a diff.
type DiffList struct {
	Items []ObjectDiff `json:"items"`
}

// Paths of the source actions.
const (
	SyncPath = "/apis/berth.io/v1/sync"
	DiffPath = "/apis/berth.io/v1/diff"
)

func notImplemented(what string) *metav1.Status {
	return newStatus(http.StatusNotImplemented, "NotImplemented", what+" is not available on this server")
}

// serveRollout serves /apis/berth.io/v1/namespaces/NS/PLURAL/NAME/rollout/ACTION.
func (s *Server) serveRollout(w http.ResponseWriter, r *http.Request, req request) {
	res := s.res.byPlural[req.plural]
	if res == nil || len(req.sub) != 2 || req.name == "" || res.namespaced != (req.namespace != "") {
		writeStatus(w, notFoundPath(r.URL.Path))
		return
	}
	if s.opts.Rollouts == nil {
		writeStatus(w, notImplemented("rollout"))
		return
	}
	ctx, kind, ns, name := r.Context(), res.kind, req.namespace, req.name
	action := req.sub[1]
	if action == "history" {
		if r.Method != http.MethodGet {
			writeStatus(w, methodNotAllowed(r.Method, r.URL.Path))
			return
		}
		revs, err := s.opts.Rollouts.History(ctx, kind, ns, name)
		if err != nil {
			writeStatus(w, backendStatus(err))
			return
		}
		if revs == nil {
			revs = []Revision{}
		}
		writeJSON(w, http.StatusOK, RevisionList{Items: revs})
		return
	}
	var do func(context.Context) (string, error)
	switch action {
	case "undo":
		var body UndoRequest
		if r.Method == http.MethodPost {
			data, ok := readBody(w, r)
			if !ok {
				return
			}
			if len(data) > 0 {
				if err := decodeStrict(data, &body); err != nil {
					writeStatus(w, badRequest("decoding the request body: %v", err))
					return
				}
			}
		}
		if body.ToRevision < 0 {
			writeStatus(w, badRequest("toRevision must be a positive revision, or 0 for the previous one"))
			return
		}
		do = func(ctx context.Context) (string, error) {
			return s.opts.Rollouts.Undo(ctx, kind, ns, name, body.ToRevision)
		}
	case "pause":
		do = func(ctx context.Context) (string, error) { return s.opts.Rollouts.Pause(ctx, kind, ns, name) }
	case "resume":
		do = func(ctx context.Context) (string, error) { return s.opts.Rollouts.Resume(ctx, kind, ns, name) }
	case "restart":
		do = func(ctx context.Context) (string, error) { return s.opts.Rollouts.Restart(ctx, kind, ns, name) }
	default:
		writeStatus(w, notFoundPath(r.URL.Path))
		return
	}
	if r.Method != http.MethodPost {
		writeStatus(w, methodNotAllowed(r.Method, r.URL.Path))
		return
	}
	msg, err := do(ctx)
	if err != nil {
		writeStatus(w, backendStatus(err))
		return
	}
	writeJSON(w, http.StatusOK, ActionResult{Message: msg})
}

// serveSync serves POST /apis/berth.io/v1/sync.
func (s *Server) serveSync(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeStatus(w, methodNotAllowed(r.Method, r.URL.Path))
		return
	}
	if s.opts.Syncer == nil {
		writeStatus(w, notImplemented("sync"))
		return
	}
	var body SyncRequest
	data, ok := readBody(w, r)
	if !ok {
		return
	}
	if len(data) > 0 {
		if err := decodeStrict(data, &body); err != nil {
			writeStatus(w, badRequest("decoding the request body: %v", err))
			return
		}
	}
	if body.Revision != "" && body.Latest {
		writeStatus(w, badRequest("revision and latest contradict each other: pin a revision, or lift the pin with latest"))
		return
	}
	items, err := s.opts.Syncer.Sync(r.Context(), body.Source, body.Revision, body.Latest)
	if err != nil {
		writeStatus(w, backendStatus(err))
		return
	}
	if items == nil {
		items = []*sources.Resource{}
	}
	for _, it := range items {
		if it != nil {
			it.APIVersion, it.Kind = sources.APIVersion, sources.Kind
		}
	}
	writeJSON(w, http.StatusOK, SourceList{Items: items})
}

// serveDiff serves GET /apis/berth.io/v1/diff?source=NAME (a source's
// latest revision) and POST with files.
func (s *Server) serveDiff(w http.ResponseWriter, r *http.Request) {
	if s.opts.Syncer == nil {
		writeStatus(w, notImplemented("diff"))
		return
	}
	var diffs []ObjectDiff
	var err error
	switch r.Method {
	case http.MethodGet:
		diffs, err = s.opts.Syncer.Diff(r.Context(), r.URL.Query().Get("source"))
	case http.MethodPost:
		var body DiffRequest
		if !readJSON(w, r, &body) {
			return
		}
		files := make([]sources.File, len(body.Files))
		for i, f := range body.Files {
			files[i] = sources.File{Path: f.Path, Data: f.Data}
		}
		diffs, err = s.opts.Syncer.DiffFiles(r.Context(), files)
	default:
		writeStatus(w, methodNotAllowed(r.Method, r.URL.Path))
		return
	}
	if err != nil {
		writeStatus(w, backendStatus(err))
		return
	}
	if diffs == nil {
		diffs = []ObjectDiff{}
	}
	writeJSON(w, http.StatusOK, DiffList{Items: diffs})
}

// serveLogs serves GET /api/v1/namespaces/NS/pods/NAME/log as text,
// flushed as the backend writes it.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request, req request) {
	if r.Method != http.MethodGet {
		writeStatus(w, methodNotAllowed(r.Method, r.URL.Path))
		return
	}
	if req.namespace == "" {
		writeStatus(w, notFoundPath(r.URL.Path))
		return
	}
	if s.opts.Logs == nil {
		writeStatus(w, notImplemented("logs"))
		return
	}
	q := r.URL.Query()
	flag := func(name string) (bool, bool) {
		v := q.Get(name)
		if v == "" {
			return false, true
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeStatus(w, badRequest("%s=%q is not a boolean", name, v))
			return false, false
		}
		return b, true
	}
	previous, ok := flag("previous")
	if !ok {
		return
	}
	follow, ok := flag("follow")
	if !ok {
		return
	}
	lw := &logWriter{sw: s.newStreamWriter(w), header: w.Header()}
	err := s.opts.Logs.Logs(r.Context(), req.namespace, req.name, q.Get("container"), previous, follow, lw)
	if err != nil && r.Context().Err() == nil {
		if !lw.started {
			writeStatus(w, backendStatus(err))
			return
		}
		// The status line is gone; say it in the text, as kubectl
		// would print it.
		lw.Write([]byte("\nerror: " + err.Error() + "\n"))
	}
}

// logWriter sends the header with the first bytes, so an error before
// any can still be a Status.
type logWriter struct {
	sw      *streamWriter
	header  http.Header
	started bool
}

func (l *logWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.header.Set("Content-Type", "text/plain; charset=utf-8")
		l.header.Set("X-Content-Type-Options", "nosniff")
	}
	if len(p) == 0 {
		return 0, nil
	}
	return l.sw.Write(p)
}
