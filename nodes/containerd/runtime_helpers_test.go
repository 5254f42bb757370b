package containerd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	ctrd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-io/berth/examples/hello/image"
	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/nodes/cni"
)

// toolImage is the image the tests run: a small static Go program at
// /hello with a mode per behaviour the tests need.
const toolImage = "berth.test/tool:v1"

const toolSource = `package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	args := append(os.Args[1:], "serve", "8080")
	switch args[0] {
	case "serve":
		port := args[1]
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		go func() { <-term; fmt.Println("got SIGTERM"); os.Exit(0) }()
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			fmt.Println("request " + r.URL.Path)
			fmt.Fprintf(w, "hello from %s\n", port)
		})
		fmt.Println("serving on " + port)
		fmt.Fprintln(os.Stderr, "a line on stderr")
		if err := http.ListenAndServe(":"+port, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ignoring SIGTERM")
		for {
			time.Sleep(time.Hour)
		}
	case "eat":
		var keep [][]byte
		for {
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = 1
			}
			keep = append(keep, b)
		}
	case "get":
		resp, err := http.Get(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.Copy(os.Stdout, resp.Body)
	case "echo":
		fmt.Println(strings.Join(args[1:len(args)-2], " "))
		fmt.Fprintln(os.Stderr, "to stderr")
		os.Exit(3)
	}
}
`

// testEnv is a private containerd, pod network and Runtime for one test.
type testEnv struct {
	opts    Options
	client  *ctrd.Client
	net     *cni.Network
	rt      *Runtime
	logDir  string
	snapper string
	img     v1.Image // the tool image, for pushing to a registry
}

// newTestEnv starts containerd and a CNI network of the test's own, imports
// the tool image and returns a Runtime over them; everything goes when the
// test ends, even if it fails.
func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	image.NeedRoot(t, "containerd", "runc", "iptables", "iptables-save", "ip", "go", "/usr/lib/cni/bridge")
	socket := image.StartContainerd(t)
	ctx := context.Background()
	client, err := ctrd.New(socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })

	tag := fmt.Sprintf("%06x", rand.IntN(1<<24))
	network, err := cni.New(cni.Config{
		StateDir: t.TempDir(), BridgeName: "bc" + tag, NetworkName: "berth-ctrd-" + tag, Subnet: freeSubnet(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := network.Cleanup(context.Background()); err != nil {
			t.Errorf("network cleanup: %v", err)
		}
	})

	srcDir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(srcDir, "go.mod"), []byte("module example.com/berthtool\n\ngo 1.22\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(srcDir, "main.go"), []byte(toolSource), 0o644))
	bin, err := image.BuildBinary(ctx, srcDir)
	must(t, err)
	img, err := image.FromBinary(bin, "test")
	must(t, err)
	tarPath := filepath.Join(t.TempDir(), "tool.tar")
	must(t, image.WriteTarball(img, tarPath, toolImage))
	_, err = image.Import(ctx, client, DefaultNamespace, tarPath, "")
	must(t, err)

	e := &testEnv{client: client, net: network, logDir: t.TempDir(), snapper: DefaultSnapshotter, img: img}
	e.opts = Options{
		Client: client, StateDir: t.TempDir(), Network: CNINetwork{Net: network},
		CgroupParent: "/berth-test-" + tag,
	}
	e.rt = e.newRuntime(t)
	t.Cleanup(func() { e.cleanup(t) })
	return e
}

// newRuntime starts a Runtime over the env's containerd and state.
func (e *testEnv) newRuntime(t *testing.T) *Runtime {
	t.Helper()
	rt, err := New(context.Background(), e.opts)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// cleanup removes every sandbox through the Runtime, then whatever is left
// in the namespace directly.
func (e *testEnv) cleanup(t *testing.T) {
	ctx := namespaces.WithNamespace(context.Background(), DefaultNamespace)
	rt := e.rt
	sbs, _ := rt.ListPodSandboxes(ctx, nodes.SandboxFilter{})
	for _, sb := range sbs {
		if err := rt.RemovePodSandbox(ctx, sb.ID); err != nil {
			t.Errorf("cleanup: remove sandbox: %v", err)
		}
	}
	cs, _ := e.client.Containers(ctx)
	for _, c := range cs {
		if task, err := c.Task(ctx, nil); err == nil {
			_, _ = task.Delete(ctx, ctrd.WithProcessKill)
		}
		_ = c.Delete(ctx, ctrd.WithSnapshotCleanup)
	}
	rt.Close()
	// runc removes each container's cgroup, not the parent made for it.
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", e.opts.CgroupParent))
	for _, d := range append(dirs, filepath.Join("/sys/fs/cgroup", e.opts.CgroupParent)) {
		_ = os.Remove(d)
	}
}

func freeSubnet(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	must(t, err)
	for range 100 {
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("10.88.%d.0/24", 1+rand.IntN(254)))
		used := false
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (subnet.Contains(ipn.IP) || ipn.Contains(subnet.IP)) {
				used = true
			}
		}
		if !used {
			return subnet.String()
		}
	}
	t.Fatal("no free 10.88.X.0/24 subnet")
	return ""
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
