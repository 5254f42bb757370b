package image

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Annotations containerd's importer reads to name an image of an OCI
// layout: the full name, else the ref name (usually just the tag).
const (
	annotationImageName = "io.containerd.image.name"
	annotationRefName   = "org.opencontainers.image.ref.name"
)

// WriteTarball writes img to path as an OCI-layout tar (index.json,
// oci-layout, blobs/) naming it once per ref, e.g. "berth.local/hello:v1".
// containerd's Import (and `ctr images import`) takes it as is.
func WriteTarball(img v1.Image, path string, refs ...string) error {
	if len(refs) == 0 {
		return fmt.Errorf("WriteTarball %s: give at least one image name", path)
	}
	dir, err := os.MkdirTemp("", "hello-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	for _, r := range refs {
		ref, err := name.ParseReference(r, name.StrictValidation)
		if err != nil {
			return fmt.Errorf("image name %q: %v (want host/repo:tag)", r, err)
		}
		ann := map[string]string{annotationImageName: ref.Name(), annotationRefName: ref.Identifier()}
		if err := lp.AppendImage(img, layout.WithAnnotations(ann)); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	if err := tarDir(dir, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// tarDir writes the tree under dir to the tar file out, with paths
// relative to dir and fixed timestamps.
func tarDir(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.ModTime, hdr.Uname, hdr.Gname, hdr.Uid, hdr.Gid = epoch, "", "", 0, 0
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
