package image

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Port is the port the hello server listens on by default.
const Port = 8080

// epoch is every file's and the config's timestamp: the same source gives
// the same image digest.
var epoch = time.Unix(0, 0).UTC()

// Build compiles the hello server in srcDir (the examples/hello folder) as
// a static linux binary for this machine's architecture and returns it as
// an image whose VERSION is version.
func Build(ctx context.Context, srcDir, version string) (v1.Image, error) {
	bin, err := BuildBinary(ctx, srcDir)
	if err != nil {
		return nil, err
	}
	return FromBinary(bin, version)
}

// BuildBinary compiles srcDir with CGO_ENABLED=0 and -trimpath and returns
// the executable's bytes.
func BuildBinary(ctx context.Context, srcDir string) ([]byte, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := os.MkdirTemp("", "hello-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	exe := filepath.Join(out, "hello")
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", exe, ".")
	cmd.Dir = srcDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the hello server in %s: %v\n%s", srcDir, err, msg)
	}
	return os.ReadFile(exe)
}

// FromBinary wraps a static hello executable into a one-layer image:
// /hello (0755), /etc/hello/ (the default --file-root) and /tmp, with
// Entrypoint ["/hello"], VERSION=version and port 8080 exposed.
func FromBinary(bin []byte, version string) (v1.Image, error) {
	layerTar, err := layerTar(bin)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	// empty.Image is Docker-typed; containerd and registries take OCI too.
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = runtime.GOARCH
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config.Entrypoint = []string{"/hello"}
	cfg.Config.Env = []string{"PATH=/", "VERSION=" + version}
	cfg.Config.WorkingDir = "/"
	cfg.Config.ExposedPorts = map[string]struct{}{fmt.Sprintf("%d/tcp", Port): {}}
	cfg.Config.StopSignal = "SIGTERM"
	cfg.Config.Labels = map[string]string{"org.opencontainers.image.version": version}
	return mutate.ConfigFile(img, cfg)
}

// layerTar is the uncompressed root filesystem of the image.
func layerTar(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	entries := []struct {
		hdr  tar.Header
		body []byte
	}{
		{hdr: tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "etc/hello/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}},
		{hdr: tar.Header{Name: "hello", Typeflag: tar.TypeReg, Mode: 0o755}, body: bin},
	}
	for _, e := range entries {
		h := e.hdr
		h.Size = int64(len(e.body))
		h.ModTime = epoch
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
