// Package gittest makes Git repositories for tests: a working repository
// with a bare "remote" beside it, driven by the git CLI, and an HTTP
// server for the bare one (git-http-backend), so that tests fetch over
// file:// and http:// on loopback only.
package gittest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Branch is the branch a new Repo starts on and pushes to.
const Branch = "main"

// Repo is a working repository (Dir) whose remote "origin" is a bare
// repository (Bare) in the same temporary folder.
type Repo struct {
	// Dir is the working tree.
	Dir string
	// Bare is the bare remote repository that Push updates and sources
	// fetch from.
	Bare string
	// Branch is the current branch (Checkout changes it).
	Branch string
	home   string
}

// NewRepo makes an empty working repository on branch main and its bare
// remote, both removed when the test ends. It skips the test when the git
// CLI is not installed.
func NewRepo(t testing.TB) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("the git CLI is not installed")
	}
	root := t.TempDir()
	r := &Repo{
		Dir:    filepath.Join(root, "work"),
		Bare:   filepath.Join(root, "remote.git"),
		Branch: Branch,
		home:   filepath.Join(root, "home"),
	}
	for _, d := range []string{r.Dir, r.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run(t, root, r.env(), "init", "--quiet", "--bare", "-b", Branch, r.Bare)
	r.Git(t, "init", "--quiet", "-b", Branch)
	r.Git(t, "remote", "add", "origin", r.Bare)
	return r
}

// BareDir is the bare remote's folder (Bare), for ServeHTTP.
func (r *Repo) BareDir() string { return r.Bare }

// URL is the file:// URL of the bare remote.
func (r *Repo) URL() string { return "file://" + filepath.ToSlash(r.Bare) }

// Git runs git with args in the working tree and returns its trimmed
// standard output; a failure fails the test.
func (r *Repo) Git(t testing.TB, args ...string) string {
	t.Helper()
	return run(t, r.Dir, r.env(), args...)
}

// Commit writes files (path → content; "" deletes the file), stages
// every change of the working tree (so files written by hand, such as
// symbolic links, go in too) and commits with msg. It returns the commit's
// SHA. It does not push.
func (r *Repo) Commit(t testing.TB, files map[string]string, msg string) string {
	t.Helper()
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(r.Dir, filepath.FromSlash(p))
		if files[p] == "" {
			if err := os.Remove(full); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(files[p]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.Git(t, "add", "--all")
	r.Git(t, "commit", "--quiet", "--allow-empty", "-m", msg)
	return r.Head(t)
}

// Head is the SHA of the working repository's HEAD.
func (r *Repo) Head(t testing.TB) string {
	t.Helper()
	return r.Git(t, "rev-parse", "HEAD")
}

// Push pushes the current branch and every tag to the bare remote.
func (r *Repo) Push(t testing.TB) {
	t.Helper()
	r.Git(t, "push", "--quiet", "origin", "HEAD:refs/heads/"+r.Branch)
	r.Git(t, "push", "--quiet", "--tags", "origin")
}

// ForcePush pushes the current branch over whatever the remote has (after
// Reset or an amend has rewritten history).
func (r *Repo) ForcePush(t testing.TB) {
	t.Helper()
	r.Git(t, "push", "--quiet", "--force", "origin", "HEAD:refs/heads/"+r.Branch)
}

// Reset moves the current branch to sha, discarding later commits from
// it (git reset --hard); ForcePush then rewrites the remote's history.
func (r *Repo) Reset(t testing.TB, sha string) {
	t.Helper()
	r.Git(t, "reset", "--quiet", "--hard", sha)
}

// Revert commits the revert of sha (git revert --no-edit) and returns
// the new commit's SHA. It does not push.
func (r *Repo) Revert(t testing.TB, sha string) string {
	t.Helper()
	r.Git(t, "revert", "--no-edit", sha)
	return r.Head(t)
}

// Tag tags HEAD with an annotated tag. Push sends it.
func (r *Repo) Tag(t testing.TB, name string) {
	t.Helper()
	r.Git(t, "tag", "-a", "-m", name, name)
}

// Checkout switches to branch, creating it at HEAD if it does not exist.
func (r *Repo) Checkout(t testing.TB, branch string) {
	t.Helper()
	if _, err := r.try("rev-parse", "--verify", "--quiet", "refs/heads/"+branch); err == nil {
		r.Git(t, "switch", "--quiet", branch)
	} else {
		r.Git(t, "switch", "--quiet", "-c", branch)
	}
	r.Branch = branch
}

// SetDefaultBranch makes branch the bare remote's HEAD (what a source
// without a branch follows).
func (r *Repo) SetDefaultBranch(t testing.TB, branch string) {
	t.Helper()
	run(t, r.Bare, r.env(), "symbolic-ref", "HEAD", "refs/heads/"+branch)
}

func (r *Repo) try(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = r.env()
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// env is a git environment that ignores the machine's and the user's
// configuration, so tests behave the same everywhere.
func (r *Repo) env() []string {
	return gitEnv(r.home)
}

func gitEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env,
		"HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=berth test", "GIT_AUTHOR_EMAIL=test@berth.invalid",
		"GIT_COMMITTER_NAME=berth test", "GIT_COMMITTER_EMAIL=test@berth.invalid",
	)
}

func run(t testing.TB, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}
