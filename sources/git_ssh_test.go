package sources

import (
	"context"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-io/berth/sources/gittest"
)

func TestGitSSH(t *testing.T) {
	repo := gittest.NewRepo(t)
	sha := repo.Commit(t, map[string]string{"a.yaml": deployYAML, "deploy/web.yaml": deployYAML}, "one")
	repo.Push(t)
	key, pub := gittest.NewSSHKey(t)
	otherKey, _ := gittest.NewSSHKey(t)
	url, hostKey := gittest.ServeSSH(t, repo.Bare, pub)
	_, otherHostKey := gittest.ServeSSH(t, repo.Bare, pub)
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()

	knownHosts := gittest.WriteKnownHosts(t, url, hostKey)
	otherHost := gittest.WriteKnownHosts(t, "ssh://git@127.0.0.2:"+port+"/x.git", hostKey)
	changedKey := gittest.WriteKnownHosts(t, url, otherHostKey)
	secret, err := os.ReadFile(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	// The base64 body of the private key, which no message may show.
	secretBody := strings.Split(strings.TrimSpace(string(secret)), "\n")[1]

	tests := []struct {
		name    string
		opts    GitOptions
		wantErr []string
	}{
		{"key and known_hosts", GitOptions{SSHKeyFile: key, KnownHostsFile: knownHosts}, nil},
		{"sub-path", GitOptions{SSHKeyFile: key, KnownHostsFile: knownHosts, Path: "deploy"}, nil},
		{"insecure host key", GitOptions{SSHKeyFile: key, InsecureIgnoreHostKey: true}, nil},
		{"wrong key", GitOptions{SSHKeyFile: otherKey, KnownHostsFile: knownHosts},
			[]string{"at " + url + ":", "the server refused the SSH key " + otherKey}},
		{"host not in known_hosts", GitOptions{SSHKeyFile: key, KnownHostsFile: otherHost},
			[]string{"at " + url + ":", "not in the known_hosts file " + otherHost,
				"add it (ssh-keyscan -p " + port + " 127.0.0.1 >> " + otherHost + ")"}},
		{"host key changed", GitOptions{SSHKeyFile: key, KnownHostsFile: changedKey},
			[]string{"at " + url + ":", "does not match the known_hosts file " + changedKey}},
		{"no repository there", GitOptions{URL: strings.TrimSuffix(url, ".git") + "-missing.git", SSHKeyFile: key, KnownHostsFile: knownHosts},
			[]string{"-missing.git:", "no repository there"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.URL == "" {
				tt.opts.URL = url
			}
			g := newTestGit(t, tt.opts)
			snap, err := g.Latest(context.Background())
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"a.yaml", "deploy/web.yaml"}
				if tt.opts.Path != "" {
					want = []string{"web.yaml"}
				}
				if snap.Revision != sha || snap.Message != "one" || !reflect.DeepEqual(paths(snap.Files), want) {
					t.Errorf("snapshot %s %q %v, want %s %q %v", snap.Revision, snap.Message, paths(snap.Files), sha, "one", want)
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
			if strings.Contains(err.Error(), secretBody) {
				t.Errorf("error %q shows the private key", err)
			}
		})
	}
}

func TestNewGitSSHNeedsKnownHosts(t *testing.T) {
	key, _ := gittest.NewSSHKey(t)
	tests := []struct {
		name string
		opts GitOptions
		want []string // nil: accepted
	}{
		{"no known_hosts", GitOptions{URL: "ssh://git@example.com:2222/r.git"},
			[]string{"refusing to connect to example.com without a known_hosts file", "ssh-keyscan -p 2222 example.com > known_hosts", "insecure host key"}},
		{"no known_hosts, scp-like URL", GitOptions{URL: "git@example.com:org/r.git"},
			[]string{"refusing to connect to example.com without a known_hosts file", "(ssh-keyscan example.com > known_hosts)"}},
		{"missing known_hosts file", GitOptions{URL: "git@example.com:org/r.git", KnownHostsFile: filepath.Join(t.TempDir(), "nope")},
			[]string{"cannot read the known_hosts file"}},
		{"insecure host key", GitOptions{URL: "git@example.com:org/r.git", InsecureIgnoreHostKey: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.SSHKeyFile = key
			tt.opts.CacheDir = t.TempDir()
			_, err := NewGit(tt.opts)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
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

func TestGitSSHNewCommit(t *testing.T) {
	repo := gittest.NewRepo(t)
	a := repo.Commit(t, map[string]string{"a.yaml": deployYAML}, "a")
	repo.Push(t)
	key, pub := gittest.NewSSHKey(t)
	url, hostKey := gittest.ServeSSH(t, repo.Bare, pub)
	g := newTestGit(t, GitOptions{URL: url, SSHKeyFile: key, KnownHostsFile: gittest.WriteKnownHosts(t, url, hostKey)})

	if got := fetchLatest(t, g).Revision; got != a {
		t.Fatalf("revision %s, want %s", got, a)
	}
	b := repo.Commit(t, map[string]string{"b.yaml": deployYAML}, "b")
	repo.Push(t)
	snap := fetchLatest(t, g)
	if snap.Revision != b || !reflect.DeepEqual(paths(snap.Files), []string{"a.yaml", "b.yaml"}) {
		t.Fatalf("after a push: revision %s files %v, want %s [a.yaml b.yaml]", snap.Revision, paths(snap.Files), b)
	}
	// An older commit, from the shallow cache: a fetch by SHA over ssh.
	old, err := g.At(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if old.Revision != a || !reflect.DeepEqual(paths(old.Files), []string{"a.yaml"}) {
		t.Fatalf("At(%s): revision %s files %v", a, old.Revision, paths(old.Files))
	}
}

// A server that accepts the connection and never speaks: the fetch ends
// with its timeout, or when its context is cancelled.
func TestGitSSHSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(conns)
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range conns {
			c.Close()
		}
	})
	key, _ := gittest.NewSSHKey(t)
	url := "ssh://git@" + ln.Addr().String() + "/r.git"

	tests := []struct {
		name    string
		timeout time.Duration
		cancel  time.Duration // 0: not cancelled
		want    string
	}{
		{"timeout", 500 * time.Millisecond, 0, "no answer within 500ms"},
		{"cancelled", time.Minute, 200 * time.Millisecond, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGit(t, GitOptions{URL: url, SSHKeyFile: key, InsecureIgnoreHostKey: true, Timeout: tt.timeout})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel > 0 {
				time.AfterFunc(tt.cancel, cancel)
			}
			done := make(chan error, 1)
			go func() {
				_, err := g.Latest(ctx)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), url) {
					t.Fatalf("err %v, want %q naming %s", err, tt.want, url)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the fetch outlives its timeout and its context")
			}
		})
	}
}
