package gittest

import (
	"crypto/subtle"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// HTTPBackend is git's CGI program for smart HTTP.
const HTTPBackend = "/usr/lib/git-core/git-http-backend"

// ServeHTTP serves the bare repository bareDir over smart HTTP on
// 127.0.0.1 until the test ends, through git-http-backend, and returns its
// URL (without credentials). With user != "" every request needs basic
// auth with user and pass. Pushing is allowed, so the git CLI can push to
// it (put the credentials in the URL: see WithUserinfo). It skips the
// test when git-http-backend is not installed.
func ServeHTTP(t testing.TB, bareDir, user, pass string) string {
	t.Helper()
	if _, err := os.Stat(HTTPBackend); err != nil {
		t.Skipf("%s is not installed", HTTPBackend)
	}
	home := t.TempDir()
	run(t, bareDir, gitEnv(home), "config", "http.receivepack", "true")
	backend := &cgi.Handler{
		Path: HTTPBackend,
		Env: append([]string{
			"GIT_PROJECT_ROOT=" + filepath.Dir(bareDir),
			"GIT_HTTP_EXPORT_ALL=1",
		}, gitEnv(home)...),
	}
	var h http.Handler = backend
	if user != "" {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 ||
				subtle.ConstantTimeCompare([]byte(p), []byte(pass)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="gittest"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			backend.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(bareDir)
}

// WithUserinfo returns rawURL with user:pass in it, for the git CLI.
func WithUserinfo(rawURL, user, pass string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	u.User = url.UserPassword(user, pass)
	return u.String()
}
