package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// built caches the hello binary: compiling it is the slow part.
var built struct {
	once sync.Once
	bin  []byte
	err  error
}

// helloImage builds the hello server once per test binary and wraps it
// as an image of version.
func helloImage(t *testing.T, version string) v1.Image {
	t.Helper()
	built.once.Do(func() { built.bin, built.err = BuildBinary(context.Background(), "..") })
	if built.err != nil {
		t.Fatal(built.err)
	}
	img, err := FromBinary(built.bin, version)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestImageConfig(t *testing.T) {
	img := helloImage(t, "v2")
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"os linux", cfg.OS == "linux"},
		{"architecture " + runtime.GOARCH, cfg.Architecture == runtime.GOARCH},
		{"entrypoint /hello", slices.Equal(cfg.Config.Entrypoint, []string{"/hello"})},
		{"env VERSION=v2", slices.Contains(cfg.Config.Env, "VERSION=v2")},
		{"port 8080/tcp", len(cfg.Config.ExposedPorts) == 1 && hasKey(cfg.Config.ExposedPorts, "8080/tcp")},
		{"one layer", len(cfg.RootFS.DiffIDs) == 1},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("config lacks %s: %+v", c.what, cfg)
		}
	}
	mt, err := img.MediaType()
	if err != nil || mt != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest media type %q (%v), want OCI", mt, err)
	}
}

func hasKey[V any](m map[string]V, k string) bool { _, ok := m[k]; return ok }

// TestImageRuns extracts /hello from the image and runs it: it must be a
// static executable that honours --exit-after and --exit-code.
func TestImageRuns(t *testing.T) {
	img := helloImage(t, "v1")
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	exe := filepath.Join(t.TempDir(), "hello")
	found := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		found[h.Name] = true
		if h.Name == "hello" {
			if h.Mode&0o777 != 0o755 {
				t.Errorf("/hello has mode %o, want 755", h.Mode)
			}
			f, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	for _, want := range []string{"hello", "etc/hello", "tmp"} {
		if !found[want] {
			t.Errorf("layer lacks %s; has %v", want, found)
		}
	}
	err := exec.Command(exe, "--listen=127.0.0.1:0", "--exit-after=10ms", "--exit-code=7").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("running the image's /hello: %v, want exit code 7", err)
	}
}

func TestBuildIsReproducible(t *testing.T) {
	a, b := helloImage(t, "v1"), helloImage(t, "v1")
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Fatalf("same binary and version gave digests %s and %s", da, db)
	}
	if d2, _ := helloImage(t, "v2").Digest(); d2 == da {
		t.Fatal("v1 and v2 have the same digest")
	}
}

func TestWriteTarball(t *testing.T) {
	img := helloImage(t, "v1")
	path := filepath.Join(t.TempDir(), "hello.tar")
	refs := []string{"berth.local/hello:v1", "localhost:5000/berth/hello:v1"}
	if err := WriteTarball(img, path, refs...); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var index struct {
		Manifests []struct {
			Digest      string
			Annotations map[string]string
		}
	}
	names := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
		if h.Name == "index.json" {
			if err := json.NewDecoder(tr).Decode(&index); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !names["oci-layout"] || !names["index.json"] {
		t.Fatalf("not an OCI layout: %v", names)
	}
	digest, _ := img.Digest()
	var got []string
	for _, m := range index.Manifests {
		if m.Digest != digest.String() {
			t.Errorf("index names %s, want %s", m.Digest, digest)
		}
		if !names["blobs/sha256/"+digest.Hex] {
			t.Errorf("manifest blob missing")
		}
		got = append(got, m.Annotations[annotationImageName])
	}
	if !slices.Equal(got, refs) {
		t.Errorf("image names %v, want %v", got, refs)
	}
	if err := WriteTarball(img, path); err == nil {
		t.Error("WriteTarball without a name succeeded")
	}
	if err := WriteTarball(img, path, "Not A Name"); err == nil {
		t.Error("WriteTarball with a bad name succeeded")
	}
}
