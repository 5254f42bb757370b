package api

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources/webhook"
)

// Body limits: diff files carry a whole source's manifests; everything
// else is one object or a small action.
const (
	maxDiffBody    = 64 << 20
	maxRequestBody = 4 << 20
	// maxHookBody is GitHub's own cap on a webhook payload (the
	// receiver's default too): the signature covers the whole body, so a
	// hook needs all of it.
	maxHookBody = webhook.DefaultMaxBody
)

// Timeouts of one connection. Streams (watch, logs -f) have no overall
// write timeout; each of their writes gets streamWriteTimeout instead,
// so a client that stops reading is dropped rather than held forever.
const (
	readHeaderTimeout  = 10 * time.Second
	idleTimeout        = 120 * time.Second
	writeTimeout       = 5 * time.Minute // a sync or a diff may take this long
	streamWriteTimeout = 30 * time.Second
	shutdownTimeout    = 5 * time.Second
	// hookReadTimeout bounds how long an (unauthenticated) webhook
	// request may take to send its body: a per-request read deadline, as
	// an http.Server ReadTimeout would cut watches.
	hookReadTimeout = 30 * time.Second
)

// Options configure a Server.
type Options struct {
	// Store is what the resource URLs serve.
	Store store.Store
	// Rollouts, Syncer and Logs carry out the actions; a nil one answers
	// 501 Not Implemented.
	Rollouts Rollouts
	Syncer   Syncer
	Logs     Logs
	// Hooks serves /hooks/... without bearer authentication (webhooks
	// carry their own signatures). It gets the request with its full
	// path. nil: 404.
	Hooks http.Handler
	// AdminToken may do everything.
	AdminToken string
	// NodeToken is what agents use: it may read every object (GET, list,
	// watch), write Nodes and Events, update Pods' status and delete Pods
	// (an agent removes a pod once its containers have stopped, as kubelet
	// does). Anything else is 403. "" disables it.
	NodeToken string
	// TLS is the serving configuration (Serve); EnsurePKI makes one.
	TLS *tls.Config
	// Log gets one debug line per request; nil discards.
	Log *slog.Logger
	// Clock times requests; nil is the real clock.
	Clock clock.PassiveClock
}

// Server is berth's HTTPS API server.
type Server struct {
	opts    Options
	res     *resources
	handler http.Handler
	// streamTimeout is streamWriteTimeout, hookTimeout hookReadTimeout
	// and requestTimeout writeTimeout; tests shorten them.
	streamTimeout, hookTimeout, requestTimeout time.Duration
}

// NewServer checks opts and builds the server.
func NewServer(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("api: Options.Store is required")
	}
	if opts.AdminToken == "" {
		return nil, errors.New("api: Options.AdminToken is required (EnsureTokens makes one)")
	}
	if opts.NodeToken == opts.AdminToken {
		return nil, errors.New("api: the node token must differ from the admin token")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	res, err := newResources()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, res: res, streamTimeout: streamWriteTimeout, hookTimeout: hookReadTimeout, requestTimeout: writeTimeout}
	s.handler = s.logRequests(http.HandlerFunc(s.route))
	return s, nil
}

// Handler returns the server's handler, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves HTTPS on ln until ctx ends, then shuts down (giving
// in-flight requests a few seconds; streams end at once). It returns nil
// after a shutdown caused by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.opts.TLS == nil {
		return errors.New("api: Options.TLS is required to serve (EnsurePKI makes one)")
	}
	hs := &http.Server{
		Handler:           s.handler,
		TLSConfig:         s.opts.TLS.Clone(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.opts.Log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// principal is who a request authenticated as.
type principal int

const (
	anonymous principal = iota
	admin
	node
)

// authenticate compares the bearer token with both tokens in constant
// time.
func (s *Server) authenticate(r *http.Request) principal {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return anonymous
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return anonymous
	}
	isAdmin := subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.AdminToken)) == 1
	isNode := s.opts.NodeToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.NodeToken)) == 1
	switch {
	case isAdmin:
		return admin
	case isNode:
		return node
	}
	return anonymous
}

// route is the whole URL space.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path == "/hooks" || strings.HasPrefix(path, "/hooks/") {
		if s.opts.Hooks == nil {
			writeStatus(w, notFoundPath(path))
			return
		}
		// The hook is read before it is authenticated (its signature
		// covers the body): bound the time a client may take to send it.
		// Connection deadlines are wall-clock time; the server resets
		// the connection's for the next request (left set, it also
		// bounds the discarding of an unread body).
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.hookTimeout))
		r.Body = http.MaxBytesReader(w, r.Body, maxHookBody)
		s.opts.Hooks.ServeHTTP(w, r)
		return
	}
	if path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok")
		return
	}
	who := s.authenticate(r)
	if who == anonymous {
		writeStatus(w, unauthorized())
		return
	}
	if r.Body != nil {
		limit := int64(maxRequestBody)
		if path == "/apis/berth.io/v1/diff" {
			limit = maxDiffBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	switch path {
	case "/apis/berth.io/v1/sync":
		s.allowAdmin(who, w, r, s.serveSync)
		return
	case "/apis/berth.io/v1/diff":
		s.allowAdmin(who, w, r, s.serveDiff)
		return
	}
	req, ok := s.res.parsePath(path)
	if !ok {
		writeStatus(w, notFoundPath(path))
		return
	}
	if req.group == "berth.io" && len(req.sub) >= 1 && req.sub[0] == "rollout" {
		s.allowAdmin(who, w, r, func(w http.ResponseWriter, r *http.Request) { s.serveRollout(w, r, req) })
		return
	}
	res := s.res.lookup(req)
	if res == nil || (req.namespace != "" && !res.namespaced) {
		writeStatus(w, notFoundPath(path))
		return
	}
	if res.kind == "Pod" && len(req.sub) == 1 && req.sub[0] == "log" {
		s.allowAdmin(who, w, r, func(w http.ResponseWriter, r *http.Request) { s.serveLogs(w, r, req) })
		return
	}
	if who == node && !nodeMayAccess(r.Method, res.kind, req.sub) {
		writeStatus(w, forbidden(r.Method, res, req))
		return
	}
	s.serveResource(w, r, res, req)
}

// nodeMayAccess is what the node token may do beyond reading.
func nodeMayAccess(method, kind string, sub []string) bool {
	if method == http.MethodGet || method == http.MethodHead {
		return true
	}
	switch kind {
	case "Node", "Event":
		return true
	case "Pod":
		status := len(sub) == 1 && sub[0] == "status"
		return (method == http.MethodPut && status) || (method == http.MethodDelete && len(sub) == 0)
	}
	return false
}

func (s *Server) allowAdmin(who principal, w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	if who != admin {
		writeStatus(w, newStatus(http.StatusForbidden, metav1.StatusReasonForbidden,
			fmt.Sprintf("the node token may not %s %s; use the admin token", r.Method, r.URL.Path)))
		return
	}
	h(w, r)
}

func forbidden(method string, res *resource, req request) *metav1.Status {
	what := res.qualified()
	if len(req.sub) > 0 {
		what += "/" + strings.Join(req.sub, "/")
	}
	verb := map[string]string{http.MethodPost: "create", http.MethodPut: "update", http.MethodDelete: "delete", http.MethodPatch: "patch"}[method]
	if verb == "" {
		verb = strings.ToLower(method)
	}
	msg := fmt.Sprintf("%s %q is forbidden: the node token may not %s %s", what, req.name, verb, what)
	if req.name == "" {
		msg = fmt.Sprintf("%s is forbidden: the node token may not %s %s", what, verb, what)
	}
	st := newStatus(http.StatusForbidden, metav1.StatusReasonForbidden, msg)
	st.Details = &metav1.StatusDetails{Name: req.name, Group: res.group, Kind: res.plural}
	return st
}

// writeJSON sends v with code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		data, _ = json.Marshal(newStatus(int32(code), metav1.StatusReasonInternalError, "encoding the response: "+err.Error()))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(data, '\n'))
}

// writeStatus sends a failure Status with its code.
func writeStatus(w http.ResponseWriter, st *metav1.Status) {
	writeJSON(w, int(st.Code), st)
}

// readJSON decodes a request body into v, answering the failure itself.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	data, ok := readBody(w, r)
	if !ok {
		return false
	}
	if len(data) == 0 {
		writeStatus(w, badRequest("the request body is empty; send a JSON object"))
		return false
	}
	if err := decodeStrict(data, v); err != nil {
		writeStatus(w, badRequest("decoding the request body: %v", err))
		return false
	}
	return true
}

// statusRecorder remembers the status code for the request log and
// passes Flush and deadlines through (http.ResponseController unwraps
// it).
type statusRecorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs each request at debug level once it is over.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.opts.Clock.Now()
		// Without an http.Server WriteTimeout (streams must outlive one),
		// a deadline set here would otherwise stay on a kept-alive
		// connection; every request sets its own. Connection deadlines
		// are wall-clock time.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.requestTimeout))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s.opts.Log.Debug("api request", "method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery,
			"code", rec.code, "bytes", rec.bytes, "remote", r.RemoteAddr, "duration", s.opts.Clock.Since(start))
	})
}
