package image

import (
	"context"
	"fmt"
	"os"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/platforms"
)

// DefaultSnapshotter is the snapshotter berth's agent unpacks images for.
const DefaultSnapshotter = "overlayfs"

// Import loads the tarball at tarPath (as WriteTarball writes it, or a
// docker-archive) into containerd's namespace and unpacks every image it
// names for snapshotter ("" means overlayfs), so a container can start
// from it without a pull.
func Import(ctx context.Context, client *containerd.Client, namespace, tarPath, snapshotter string) ([]images.Image, error) {
	if snapshotter == "" {
		snapshotter = DefaultSnapshotter
	}
	f, err := os.Open(tarPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ctx = namespaces.WithNamespace(ctx, namespace)
	imgs, err := client.Import(ctx, f, containerd.WithImportPlatform(platforms.Default()))
	if err != nil {
		return nil, fmt.Errorf("importing %s into containerd namespace %s: %w", tarPath, namespace, err)
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("importing %s: it names no image (write it with WriteTarball and a name)", tarPath)
	}
	for _, i := range imgs {
		img := containerd.NewImageWithPlatform(client, i, platforms.Default())
		if err := img.Unpack(ctx, snapshotter); err != nil {
			return nil, fmt.Errorf("unpacking %s for %s: %w", i.Name, snapshotter, err)
		}
	}
	return imgs, nil
}
