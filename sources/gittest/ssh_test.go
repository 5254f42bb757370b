package gittest

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// OpenSSH's client fetches and pushes through ServeSSH, checking the host
// key against WriteKnownHosts' file; another key is refused.
func TestServeSSHWithOpenSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("the ssh client is not installed")
	}
	before := runtime.NumGoroutine()
	sub := t.Run("serve", func(t *testing.T) {
		repo := NewRepo(t)
		first := repo.Commit(t, map[string]string{"a.yaml": "a: 1\n"}, "first")
		repo.Push(t)
		key, pub := NewSSHKey(t)
		other, _ := NewSSHKey(t)
		url, hostKey := ServeSSH(t, repo.Bare, pub)
		knownHosts := WriteKnownHosts(t, url, hostKey)
		sshCommand := func(key string) string {
			return "ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes" +
				" -o UserKnownHostsFile=" + knownHosts + " -i " + key
		}
		gitSSH := func(key string, args ...string) (string, error) {
			cmd := exec.Command("git", args...)
			cmd.Dir = repo.Dir
			cmd.Env = append(repo.env(), "GIT_SSH_COMMAND="+sshCommand(key))
			out, err := cmd.CombinedOutput()
			return strings.TrimSpace(string(out)), err
		}

		if out, err := gitSSH(key, "ls-remote", url, "refs/heads/main"); err != nil || !strings.HasPrefix(out, first) {
			t.Fatalf("ls-remote: %v\n%s", err, out)
		}
		second := repo.Commit(t, map[string]string{"b.yaml": "b: 1\n"}, "second")
		if out, err := gitSSH(key, "push", "--quiet", url, "HEAD:refs/heads/main"); err != nil {
			t.Fatalf("push: %v\n%s", err, out)
		}
		if got := run(t, repo.Bare, repo.env(), "rev-parse", "main"); got != second {
			t.Errorf("the bare repository is at %s after the push, want %s", got, second)
		}
		if out, err := gitSSH(other, "ls-remote", url); err == nil || !strings.Contains(out, "Permission denied") {
			t.Errorf("ls-remote with another key: %v\n%s", err, out)
		}
		if out, err := gitSSH(key, "ls-remote", strings.TrimSuffix(url, ".git")+"-nope.git"); err == nil || !strings.Contains(out, "does not appear to be a git repository") {
			t.Errorf("ls-remote of another path: %v\n%s", err, out)
		}
	})
	if !sub {
		return
	}
	// Every goroutine of the server has ended with the subtest.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the server stopped, %d before", n, before)
	}
}

func TestShellUnquote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"'/srv/r.git'", "/srv/r.git"},
		{`'/srv/it'\''s.git'`, "/srv/it's.git"},
		{`'/a'\!'b'`, "/a!b"},
		{"/srv/r.git", "/srv/r.git"},
	}
	for _, tt := range tests {
		if got, err := shellUnquote(tt.in); err != nil || got != tt.want {
			t.Errorf("shellUnquote(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"'/unterminated", `'/a'x'b'`, "a b"} {
		if got, err := shellUnquote(bad); err == nil {
			t.Errorf("shellUnquote(%q) = %q, want an error", bad, got)
		}
	}
}
