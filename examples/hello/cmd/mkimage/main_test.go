package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-io/berth/examples/hello/image"
	"github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/google/go-containerregistry/pkg/authn"
)

func TestBadUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"nothing to do", nil, 1, "nothing to do"},
		{"empty version", []string{"--out", t.TempDir(), "--version", ","}, 1, "--version is empty"},
		{"unknown flag", []string{"--nope"}, 2, "nope"},
		{"stray argument", []string{"build"}, 2, "unexpected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			if code := run(context.Background(), tc.args, &strings.Builder{}, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
				t.Fatalf("exit %d, stderr %q; want %d mentioning %q", code, stderr.String(), tc.code, tc.msg)
			}
		})
	}
}

func TestIsLocal(t *testing.T) {
	for reg, want := range map[string]bool{
		"localhost:5000": true, "127.0.0.1:5000": true, "127.0.0.1": true, "[::1]:5000": true,
		"registry.example.com": false, "10.0.0.1:5000": false,
	} {
		if got := isLocal(reg); got != want {
			t.Errorf("isLocal(%q) = %v, want %v", reg, got, want)
		}
	}
}

// TestMakeImages does what `make images` does: tarballs, a containerd
// import and a push with credentials, for v1 and v2.
func TestMakeImages(t *testing.T) {
	socket := image.StartContainerd(t)
	addr, _ := image.StartRegistry(t, t.TempDir(), "berth", "pw")
	out := t.TempDir()
	var stdout, stderr strings.Builder
	args := []string{"--src", "../..", "--out", out, "--push", addr, "--user", "berth", "--password", "pw",
		"--containerd-socket", socket, "--namespace", "berth-test"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	client, err := containerd.New(socket)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := namespaces.WithNamespace(context.Background(), "berth-test")
	for _, v := range []string{"v1", "v2"} {
		if _, err := os.Stat(filepath.Join(out, "hello-"+v+".tar")); err != nil {
			t.Error(err)
		}
		for _, n := range names(v) {
			if _, err := client.GetImage(ctx, n); err != nil {
				t.Errorf("containerd lacks %s: %v", n, err)
			}
		}
		if _, err := image.Pull(ctx, addr+"/berth/hello:"+v, &authn.Basic{Username: "berth", Password: "pw"}, true); err != nil {
			t.Errorf("registry lacks %s: %v", v, err)
		}
	}
	if !strings.Contains(stdout.String(), "pushed "+addr+"/berth/hello:v2") {
		t.Errorf("output %q does not report the push", stdout.String())
	}
}
