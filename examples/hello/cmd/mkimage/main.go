// Command mkimage builds the hello example server into OCI images (no
// Docker) and delivers them: as OCI-layout tarballs (--out), into a
// containerd (--containerd-socket) and to a registry (--push). `make
// images` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/berth-io/berth/examples/hello/image"
	"github.com/containerd/containerd"
	"github.com/google/go-containerregistry/pkg/authn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are mkimage's flags.
type options struct {
	src, versions, out          string
	push, user, password        string
	insecure                    bool
	socket, namespace, snapshot string
}

// names are the image names each version gets in tarballs and containerd:
// a berth-local one and the one the quickstart pulls.
func names(version string) []string {
	return []string{"berth.local/hello:" + version, "localhost:5000/berth/hello:" + version}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.src, "src", "examples/hello", "the hello server's source folder")
	fs.StringVar(&o.versions, "version", "v1,v2", "comma-separated versions to build; each becomes a tag and the image's VERSION")
	fs.StringVar(&o.out, "out", "", "write DIR/hello-<version>.tar (OCI layout) for each version")
	fs.StringVar(&o.push, "push", "", "push to REGISTRY/berth/hello:<version>, e.g. 127.0.0.1:5000")
	fs.StringVar(&o.user, "user", os.Getenv("REGISTRY_USER"), "registry user for --push (env REGISTRY_USER)")
	fs.StringVar(&o.password, "password", os.Getenv("REGISTRY_PASSWORD"), "registry password for --push (env REGISTRY_PASSWORD)")
	fs.BoolVar(&o.insecure, "insecure", false, "plain HTTP to the registry (implied for localhost and 127.0.0.1)")
	fs.StringVar(&o.socket, "containerd-socket", "", "import into the containerd listening on this socket")
	fs.StringVar(&o.namespace, "namespace", "berth", "containerd namespace for --containerd-socket")
	fs.StringVar(&o.snapshot, "snapshotter", image.DefaultSnapshotter, "snapshotter to unpack into")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mkimage: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if err := build(ctx, o, stdout); err != nil {
		fmt.Fprintln(stderr, "mkimage:", err)
		return 1
	}
	return 0
}

func build(ctx context.Context, o options, stdout io.Writer) error {
	if o.out == "" && o.push == "" && o.socket == "" {
		return fmt.Errorf("nothing to do: give --out DIR, --push REGISTRY and/or --containerd-socket PATH")
	}
	var versions []string
	for _, v := range strings.Split(o.versions, ",") {
		if v = strings.TrimSpace(v); v != "" {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		return fmt.Errorf("--version is empty: give e.g. v1,v2")
	}
	out := o.out
	if out == "" { // containerd imports from a tarball
		tmp, err := os.MkdirTemp("", "mkimage-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		out = tmp
	} else if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var client *containerd.Client
	if o.socket != "" {
		c, err := containerd.New(o.socket)
		if err != nil {
			return fmt.Errorf("connecting to containerd at %s: %w", o.socket, err)
		}
		defer c.Close()
		client = c
	}
	var auth *authn.Basic
	if o.user != "" {
		auth = &authn.Basic{Username: o.user, Password: o.password}
	}

	bin, err := image.BuildBinary(ctx, o.src)
	if err != nil {
		return err
	}
	for _, v := range versions {
		img, err := image.FromBinary(bin, v)
		if err != nil {
			return err
		}
		digest, err := img.Digest()
		if err != nil {
			return err
		}
		tarPath := filepath.Join(out, "hello-"+v+".tar")
		if err := image.WriteTarball(img, tarPath, names(v)...); err != nil {
			return err
		}
		if o.out != "" {
			fmt.Fprintf(stdout, "wrote %s (%s) %s\n", tarPath, strings.Join(names(v), ", "), digest)
		}
		if client != nil {
			if _, err := image.Import(ctx, client, o.namespace, tarPath, o.snapshot); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "imported %s into containerd namespace %s\n", strings.Join(names(v), ", "), o.namespace)
		}
		if o.push != "" {
			ref := strings.TrimSuffix(o.push, "/") + "/berth/hello:" + v
			if err := image.Push(ctx, img, ref, auth, o.insecure || isLocal(o.push)); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "pushed %s %s\n", ref, digest)
		}
	}
	return nil
}

// isLocal reports whether the registry host is on loopback, where plain
// HTTP is the norm.
func isLocal(registry string) bool {
	host, _, err := net.SplitHostPort(registry)
	if err != nil {
		host = registry
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
