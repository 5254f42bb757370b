package image

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestImportIntoContainerd imports the v1 tarball into a private containerd
// and checks the images it lists, their config and that they are unpacked.
func TestImportIntoContainerd(t *testing.T) {
	socket := StartContainerd(t)
	img := helloImage(t, "v1")
	tarPath := filepath.Join(t.TempDir(), "hello-v1.tar")
	refs := []string{"berth.local/hello:v1", "localhost:5000/berth/hello:v1"}
	if err := WriteTarball(img, tarPath, refs...); err != nil {
		t.Fatal(err)
	}

	client, err := containerd.New(socket)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ns = "berth-test"

	imported, err := Import(ctx, client, ns, tarPath, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range imported {
		names = append(names, i.Name)
	}
	sort.Strings(names)
	if !slices.Equal(names, refs) {
		t.Fatalf("imported %v, want %v", names, refs)
	}

	nctx := namespaces.WithNamespace(ctx, ns)
	listed, err := client.ImageService().List(nctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(refs) {
		t.Fatalf("containerd lists %d images, want %d: %+v", len(listed), len(refs), listed)
	}
	digest, _ := img.Digest()
	for _, ref := range refs {
		ci, err := client.GetImage(nctx, ref)
		if err != nil {
			t.Fatalf("containerd does not know %s: %v", ref, err)
		}
		if got := ci.Target().Digest.String(); got != digest.String() {
			t.Errorf("%s points at %s, want %s", ref, got, digest)
		}
		if ok, err := ci.IsUnpacked(nctx, DefaultSnapshotter); err != nil || !ok {
			t.Errorf("%s not unpacked for %s: %v", ref, DefaultSnapshotter, err)
		}
		cfg := imageConfig(t, nctx, client, ci.Target())
		if !slices.Equal(cfg.Config.Entrypoint, []string{"/hello"}) || !slices.Contains(cfg.Config.Env, "VERSION=v1") {
			t.Errorf("%s config: entrypoint %v env %v", ref, cfg.Config.Entrypoint, cfg.Config.Env)
		}
		if _, ok := cfg.Config.ExposedPorts["8080/tcp"]; !ok {
			t.Errorf("%s config does not expose 8080/tcp: %v", ref, cfg.Config.ExposedPorts)
		}
	}

	// Importing again is harmless: the agent's tests may import per test.
	if _, err := Import(ctx, client, ns, tarPath, ""); err != nil {
		t.Fatalf("second import: %v", err)
	}
	for _, ref := range refs {
		if err := client.ImageService().Delete(nctx, ref, images.SynchronousDelete()); err != nil {
			t.Errorf("deleting %s: %v", ref, err)
		}
	}
}

// imageConfig reads the image config that containerd stores for target.
func imageConfig(t *testing.T, ctx context.Context, client *containerd.Client, target ocispec.Descriptor) ocispec.Image {
	t.Helper()
	desc, err := images.Config(ctx, client.ContentStore(), target, platforms.Default())
	if err != nil {
		t.Fatal(err)
	}
	b, err := content.ReadBlob(ctx, client.ContentStore(), desc)
	if err != nil {
		t.Fatal(err)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestImportMissingFile says which file is missing.
func TestImportMissingFile(t *testing.T) {
	socket := StartContainerd(t)
	client, err := containerd.New(socket)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := Import(context.Background(), client, "berth-test", filepath.Join(t.TempDir(), "absent.tar"), ""); err == nil {
		t.Fatal("importing a missing file succeeded")
	}
}
