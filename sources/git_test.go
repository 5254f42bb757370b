package sources

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-io/berth/sources/gittest"
)

const deployYAML = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"

func newTestGit(t *testing.T, opts GitOptions) *Git {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join(t.TempDir(), "cache")
	}
	if opts.Name == "" {
		opts.Name = "test"
	}
	g, err := NewGit(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func fetchLatest(t *testing.T, g *Git) Snapshot {
	t.Helper()
	snap, err := g.latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func paths(files []File) []string {
	out := []string{}
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

func TestGitRefs(t *testing.T) {
	repo := gittest.NewRepo(t)
	first := repo.Commit(t, map[string]string{"a.yaml": deployYAML, "deploy/prod/web.yaml": deployYAML}, "first\n\nbody")
	repo.Tag(t, "v1")
	second := repo.Commit(t, map[string]string{"b.yaml": deployYAML}, "second")
	repo.Push(t)
	repo.Checkout(t, "dev")
	dev := repo.Commit(t, map[string]string{"dev.yaml": deployYAML}, "on dev")
	repo.Push(t)

	tests := []struct {
		name      string
		opts      GitOptions
		wantRev   string
		wantMsg   string
		wantFiles []string
	}{
		{"default branch", GitOptions{}, second, "second", []string{"a.yaml", "b.yaml", "deploy/prod/web.yaml"}},
		{"branch", GitOptions{Branch: "dev"}, dev, "on dev", []string{"a.yaml", "b.yaml", "deploy/prod/web.yaml", "dev.yaml"}},
		{"annotated tag", GitOptions{Tag: "v1"}, first, "first", []string{"a.yaml", "deploy/prod/web.yaml"}},
		{"commit", GitOptions{Commit: first}, first, "first", []string{"a.yaml", "deploy/prod/web.yaml"}},
		{"sub-path", GitOptions{Path: "deploy"}, second, "second", []string{"prod/web.yaml"}},
		{"sub-path with slashes", GitOptions{Path: "./deploy/prod/"}, second, "second", []string{"web.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.URL = repo.URL()
			snap := fetchLatest(t, newTestGit(t, tt.opts))
			if snap.Revision != tt.wantRev || snap.Message != tt.wantMsg {
				t.Errorf("revision %s %q, want %s %q", snap.Revision, snap.Message, tt.wantRev, tt.wantMsg)
			}
			if got := paths(snap.Files); !reflect.DeepEqual(got, tt.wantFiles) {
				t.Errorf("files %v, want %v", got, tt.wantFiles)
			}
			if snap.Source != "test" || snap.FetchedAt.IsZero() {
				t.Errorf("source %q fetched at %v", snap.Source, snap.FetchedAt)
			}
		})
	}
}

func TestGitLocalPathURL(t *testing.T) {
	repo := gittest.NewRepo(t)
	sha := repo.Commit(t, map[string]string{"a.yaml": deployYAML}, "one")
	repo.Push(t)
	snap := fetchLatest(t, newTestGit(t, GitOptions{URL: repo.Bare}))
	if snap.Revision != sha {
		t.Fatalf("revision %s, want %s", snap.Revision, sha)
	}
}

func TestGitFileSelection(t *testing.T) {
	repo := gittest.NewRepo(t)
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(outside, []byte("password: hunter2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(repo.Dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	repo.Commit(t, map[string]string{
		"a.yaml":                   deployYAML,
		"b.YML":                    deployYAML,
		"c.json":                   `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`,
		"README.md":                "# docs",
		"logo.png":                 "\x89PNG\r\n\x1a\n\x00\x00binary",
		".github/workflows/ci.yml": "on: push\n",
		"apps/.hidden/x.yaml":      deployYAML,
		"apps/web.yaml":            deployYAML,
		"big.yaml":                 strings.Repeat("# padding\n", 200),
	}, "mixed")
	repo.Push(t)

	snap := fetchLatest(t, newTestGit(t, GitOptions{URL: repo.URL(), Limits: Limits{MaxFileSize: 1024}}))
	wantFiles := []string{"a.yaml", "apps/web.yaml", "b.YML", "c.json"}
	if got := paths(snap.Files); !reflect.DeepEqual(got, wantFiles) {
		t.Errorf("files %v, want %v", got, wantFiles)
	}
	if len(snap.Skipped) != 2 || !strings.HasPrefix(snap.Skipped[0], "big.yaml: larger than 1 KiB") ||
		!strings.HasPrefix(snap.Skipped[1], "link.yaml: a symbolic link") {
		t.Errorf("skipped %q, want big.yaml and link.yaml", snap.Skipped)
	}
	for _, f := range snap.Files {
		if strings.Contains(string(f.Data), "hunter2") {
			t.Errorf("%s holds the content of a file outside the repository", f.Path)
		}
	}
}

func TestGitHugeRepository(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit(t, map[string]string{"a.yaml": deployYAML, "b.yaml": deployYAML, "c.yaml": deployYAML}, "three")
	repo.Push(t)
	tests := []struct {
		name   string
		limits Limits
		want   string
	}{
		{"total size", Limits{MaxTotalSize: 2 * int64(len(deployYAML))}, "huge repository: its manifest files add up to more than"},
		{"file count", Limits{MaxFiles: 2}, "huge repository: more than 2 manifest files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGit(t, GitOptions{URL: repo.URL(), Limits: tt.limits})
			_, err := g.latest(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestGitForcePush(t *testing.T) {
	repo := gittest.NewRepo(t)
	a := repo.Commit(t, map[string]string{"a.yaml": deployYAML}, "a")
	b := repo.Commit(t, map[string]string{"b.yaml": deployYAML}, "b")
	repo.Push(t)
	g := newTestGit(t, GitOptions{URL: repo.URL(), Branch: "main"})
	if got := fetchLatest(t, g).Revision; got != b {
		t.Fatalf("revision %s, want %s", got, b)
	}
	if _, err := os.Stat(filepath.Join(g.opts.CacheDir, "shallow")); err != nil {
		t.Errorf("the cache is not a shallow clone: %v", err)
	}
	repo.Reset(t, a)
	c := repo.Commit(t, map[string]string{"c.yaml": deployYAML}, "c")
	repo.ForcePush(t)
	snap := fetchLatest(t, g)
	if snap.Revision != c {
		t.Fatalf("after a force-push: revision %s, want %s", snap.Revision, c)
	}
	if got, want := paths(snap.Files), []string{"a.yaml", "c.yaml"}; !reflect.DeepEqual(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
}

func TestGitHTTP(t *testing.T) {
	repo := gittest.NewRepo(t)
	sha := repo.Commit(t, map[string]string{"a.yaml": deployYAML}, "one")
	repo.Push(t)
	withPass := gittest.ServeHTTP(t, repo.Bare, "alice", "s3cret-pass")
	withToken := gittest.ServeHTTP(t, repo.Bare, "git", "tok3n-value")

	writeAuth := func(content string) string {
		f := filepath.Join(t.TempDir(), "auth")
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		name    string
		url     string
		auth    string
		wantErr []string
	}{
		{"user:password", withPass, "alice:s3cret-pass\n", nil},
		{"token", withToken, "tok3n-value\n", nil},
		{"password in the URL", gittest.WithUserinfo(withPass, "alice", "s3cret-pass"), "", nil},
		{"wrong password", withPass, "alice:wrong-pass", []string{withPass, "credentials were refused"}},
		{"no credentials", withPass, "", []string{withPass, "asks for credentials"}},
		{"wrong password in the URL", gittest.WithUserinfo(withPass, "alice", "wrong-pass"), "", []string{withPass, "credentials"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := GitOptions{URL: tt.url}
			if tt.auth != "" {
				opts.AuthFile = writeAuth(tt.auth)
			}
			g := newTestGit(t, opts)
			snap, err := g.latest(context.Background())
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if snap.Revision != sha {
					t.Fatalf("revision %s, want %s", snap.Revision, sha)
				}
				if strings.Contains(g.Spec().URL, "s3cret") {
					t.Errorf("Spec().URL %q holds the password", g.Spec().URL)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "wrong-pass") || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func TestGitAt(t *testing.T) {
	repo := gittest.NewRepo(t)
	a := repo.Commit(t, map[string]string{"a.yaml": deployYAML}, "a")
	b := repo.Commit(t, map[string]string{"b.yaml": deployYAML}, "b")
	repo.Commit(t, map[string]string{"c.yaml": deployYAML}, "c")
	repo.Push(t)
	httpURL := gittest.ServeHTTP(t, repo.Bare, "", "")

	for _, url := range []string{repo.URL(), httpURL} {
		tests := []struct {
			name, rev, want, wantErr string
		}{
			{"full SHA", a, a, ""},
			{"short SHA", b[:7], b, ""},
			{"unknown SHA", strings.Repeat("ab", 20), "", "not found"},
			{"not a SHA", "main", "", "not a commit SHA"},
		}
		for _, tt := range tests {
			t.Run(strings.SplitN(url, ":", 2)[0]+"/"+tt.name, func(t *testing.T) {
				g := newTestGit(t, GitOptions{URL: url})
				fetchLatest(t, g) // a shallow cache first, as a running source has
				snap, err := g.At(context.Background(), tt.rev)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("err %v, want %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if snap.Revision != tt.want {
					t.Fatalf("revision %s, want %s", snap.Revision, tt.want)
				}
			})
		}
	}
}

func TestGitErrors(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit(t, map[string]string{"a.yaml": deployYAML}, "a")
	repo.Push(t)
	missing := "file://" + filepath.Join(t.TempDir(), "nothing.git")
	tests := []struct {
		name string
		opts GitOptions
		want []string
	}{
		{"missing branch", GitOptions{URL: repo.URL(), Branch: "prod"}, []string{`branch "prod" not found at ` + repo.URL(), "branches there: main"}},
		{"missing tag", GitOptions{URL: repo.URL(), Tag: "v9"}, []string{`tag "v9" not found`}},
		{"missing path", GitOptions{URL: repo.URL(), Path: "deploy"}, []string{`no folder "deploy"`}},
		{"unreachable remote", GitOptions{URL: missing}, []string{"cannot list the default branch (HEAD) at " + missing}},
		{"refused port", GitOptions{URL: "http://127.0.0.1:1/x.git", Timeout: 5 * time.Second}, []string{"http://127.0.0.1:1/x.git", "check the URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newTestGit(t, tt.opts).latest(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestNewGitRefusesBadOptions(t *testing.T) {
	key := filepath.Join(t.TempDir(), "id")
	tests := []struct {
		name string
		opts GitOptions
		want string
	}{
		{"no URL", GitOptions{CacheDir: "x"}, "no URL"},
		{"two refs", GitOptions{URL: "/r", CacheDir: "x", Branch: "a", Tag: "b"}, "at most one"},
		{"short commit", GitOptions{URL: "/r", CacheDir: "x", Commit: "abc1234"}, "full 40-digit"},
		{"path out", GitOptions{URL: "/r", CacheDir: "x", Path: "../etc"}, "leaves the source's root"},
		{"ssh without key", GitOptions{URL: "git@example.com:org/r.git", CacheDir: "x"}, "private key"},
		{"ssh without known_hosts", GitOptions{URL: "ssh://git@example.com:2222/r.git", CacheDir: "x", SSHKeyFile: key}, "load the SSH key"},
		{"bad auth file", GitOptions{URL: "https://example.com/r.git", CacheDir: "x", AuthFile: "/nonexistent"}, "cannot read the auth file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewGit(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestGitRun(t *testing.T) {
	repo := gittest.NewRepo(t)
	a := repo.Commit(t, map[string]string{"a.yaml": deployYAML}, "a")
	repo.Push(t)
	g := newTestGit(t, GitOptions{URL: repo.URL(), Interval: time.Hour})

	type result struct {
		snap Snapshot
		err  error
	}
	results := make(chan result, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.Run(ctx, func(s Snapshot, err error) { results <- result{s, err} })
	}()
	defer func() { cancel(); <-done }()
	next := func() result {
		t.Helper()
		select {
		case r := <-results:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no update")
		}
		return result{}
	}

	if r := next(); r.err != nil || r.snap.Revision != a {
		t.Fatalf("first update %s %v, want %s", r.snap.Revision, r.err, a)
	}
	// Nothing new: a trigger sends nothing.
	g.Trigger()
	g.Trigger()
	select {
	case r := <-results:
		t.Fatalf("update without a new revision: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
	// The remote disappears: an error, the last revision stands.
	moved := repo.Bare + ".away"
	if err := os.Rename(repo.Bare, moved); err != nil {
		t.Fatal(err)
	}
	g.Trigger()
	if r := next(); r.err == nil || !strings.Contains(r.err.Error(), repo.URL()) || r.snap.Revision != "" {
		t.Fatalf("update %+v, want an error naming %s", r, repo.URL())
	}
	// It comes back with a new commit.
	if err := os.Rename(moved, repo.Bare); err != nil {
		t.Fatal(err)
	}
	b := repo.Commit(t, map[string]string{"b.yaml": deployYAML}, "b")
	repo.Push(t)
	g.Trigger()
	if r := next(); r.err != nil || r.snap.Revision != b {
		t.Fatalf("update %s %v, want %s", r.snap.Revision, r.err, b)
	}
}

func TestRetryAndJitter(t *testing.T) {
	var got []time.Duration
	d := time.Duration(0)
	for range 6 {
		d = nextRetry(d, time.Minute)
		got = append(got, d)
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("retries %v, want %v", got, want)
	}
	if d := nextRetry(0, 2*time.Second); d != 2*time.Second {
		t.Errorf("first retry %v with a 2s interval, want 2s", d)
	}
	for range 100 {
		if j := jitter(time.Minute); j < 57*time.Second || j > 63*time.Second {
			t.Fatalf("jitter(1m) = %v, want within ±5%%", j)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://host/org/r.git", "https://host/org/r.git"},
		{"https://alice:pw@host/org/r.git", "https://host/org/r.git"},
		{`Get "https://a:b@h:8080/x?y": refused, see http://u:p@other`, `Get "https://h:8080/x?y": refused, see http://other`},
		{"ssh://git@host/r.git", "ssh://git@host/r.git"},
		{"ssh://git:pw@host/r.git", "ssh://host/r.git"},
		{"https://ghp_SECRETTOKEN@github.com/acme/deploy.git", "https://github.com/acme/deploy.git"},
		{`fetch "https://ghp_SECRET@github.com/x": 401`, `fetch "https://github.com/x": 401`},
		{"https://oauth2:glpat-SECRET@gitlab.com/acme/deploy.git", "https://gitlab.com/acme/deploy.git"},
		{"git@host:org/r.git", "git@host:org/r.git"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNameFromURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com/org/web.git", "web"},
		{"https://github.com/org/web/", "web"},
		{"git@github.com:org/infra.git", "infra"},
		{"ssh://git@host:22/org/api", "api"},
		{"file:///srv/git/site.git", "site"},
		{"/srv/manifests", "manifests"},
		{"./deploy", "deploy"},
		{"/", "source"},
	}
	for _, tt := range tests {
		if got := NameFromURL(tt.in); got != tt.want {
			t.Errorf("NameFromURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGitOptionsFromSpec(t *testing.T) {
	spec := SourceSpec{Type: TypeGit, URL: "https://u:pw@example.com/org/web.git", Branch: "prod", Path: "deploy", AllowPruneAll: true}
	spec.Interval.Duration = 2 * time.Minute
	g, err := NewGit(GitOptions{Spec: spec, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got := g.Spec()
	if got.URL != "https://example.com/org/web.git" || got.Branch != "prod" || got.Path != "deploy" ||
		got.Interval.Duration != 2*time.Minute || got.Timeout.Duration != DefaultTimeout || g.Name() != "web" || !got.AllowPruneAll {
		t.Errorf("spec %+v name %q", got, g.Name())
	}
}

// A token given as the URL's user name (https://ghp_TOKEN@github.com/...)
// is the fetch's credentials, and shows nowhere: not in the spec, not in
// the cache's configuration, not in errors.
func TestGitTokenAsURLUser(t *testing.T) {
	const token = "ghp_t0ken1234567890"
	repo := gittest.NewRepo(t)
	sha := repo.Commit(t, map[string]string{"a.yaml": deployYAML}, "one")
	repo.Push(t)
	plain := gittest.ServeHTTP(t, repo.Bare, token, "")
	withToken := strings.Replace(plain, "http://", "http://"+token+"@", 1)
	cache := filepath.Join(t.TempDir(), "cache")

	g := newTestGit(t, GitOptions{URL: withToken, CacheDir: cache})
	if got := g.Spec().URL; got != plain {
		t.Errorf("Spec().URL = %q, want %q", got, plain)
	}
	snap, err := g.latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Revision != sha {
		t.Fatalf("revision %s, want %s", snap.Revision, sha)
	}
	cfg, err := os.ReadFile(filepath.Join(cache, "config"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), token) {
		t.Errorf("the cache's config holds the token:\n%s", cfg)
	}

	wrong := strings.Replace(plain, "http://", "http://ghp_wr0ngT0ken98765@", 1)
	_, err = newTestGit(t, GitOptions{URL: wrong}).latest(context.Background())
	if err == nil {
		t.Fatal("no error with a wrong token")
	}
	if strings.Contains(err.Error(), "wr0ngT0ken") {
		t.Errorf("error %q leaks the token", err)
	}
	if !strings.Contains(err.Error(), "credentials were refused") {
		t.Errorf("error %q does not say the credentials were refused", err)
	}
}

// A failed fetch keeps its cause in the chain (after the secrets are
// scrubbed from its text), so the API can answer a timeout 504 and any
// other failure of the remote 502.
func TestGitFetchErrorKeepsTheCause(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accept, never answer
		}
	}()
	const token = "ghp_silentT0ken12345"
	g := newTestGit(t, GitOptions{URL: "http://" + token + "@" + ln.Addr().String() + "/x.git", Timeout: 500 * time.Millisecond})
	_, err = g.latest(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrFetch) {
		t.Errorf("errors.Is(DeadlineExceeded, ErrFetch) = %v, %v for %v", errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrFetch), err)
	}
	if err != nil && strings.Contains(err.Error(), token) {
		t.Errorf("error %q leaks the token", err)
	}

	_, err = newTestGit(t, GitOptions{URL: "http://127.0.0.1:1/x.git", Timeout: 5 * time.Second}).latest(context.Background())
	if !errors.Is(err, ErrFetch) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("refused connection: %v (ErrFetch %v)", err, errors.Is(err, ErrFetch))
	}
}
