package containerd

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	ctrd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/reference/docker"
	"github.com/containerd/containerd/remotes"
	rdocker "github.com/containerd/containerd/remotes/docker"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
)

// PullImage makes image present per policy and unpacked, and returns its
// digest reference (repo@sha256:…), which containerd also stores as an
// image name so CreateContainer can use it.
func (r *Runtime) PullImage(ctx context.Context, image string, policy corev1.PullPolicy, auth *nodes.AuthConfig) (string, error) {
	ctx = r.nsCtx(ctx)
	named, err := docker.ParseDockerRef(image)
	if err != nil {
		return "", fmt.Errorf("%w: invalid image reference %q: %v", nodes.ErrImagePull, image, err)
	}
	name := named.String()
	if policy != corev1.PullAlways {
		img, err := r.client.GetImage(ctx, name)
		switch {
		case err == nil:
			if err := r.unpack(ctx, img); err != nil {
				return "", fmt.Errorf("%w: unpack %q: %v", nodes.ErrImagePull, image, err)
			}
			return r.digestRef(ctx, named, img.Target())
		case !errdefs.IsNotFound(err):
			return "", fmt.Errorf("%w: look up image %q: %v", nodes.ErrImagePull, image, err)
		case policy == corev1.PullNever:
			return "", fmt.Errorf("%w: container image %q is not present with pull policy of Never", nodes.ErrImageNeverPull, image)
		}
	}
	img, err := r.client.Pull(ctx, name,
		ctrd.WithPullUnpack,
		ctrd.WithPullSnapshotter(r.opts.Snapshotter),
		ctrd.WithResolver(r.resolver(ctx, auth)))
	if err != nil {
		return "", fmt.Errorf("%w: failed to pull image %q: %v", nodes.ErrImagePull, image, err)
	}
	return r.digestRef(ctx, named, img.Target())
}

// unpack unpacks an image that is present but not unpacked (imported).
func (r *Runtime) unpack(ctx context.Context, img ctrd.Image) error {
	ok, err := img.IsUnpacked(ctx, r.opts.Snapshotter)
	if err != nil || ok {
		return err
	}
	return img.Unpack(ctx, r.opts.Snapshotter)
}

// digestRef names the image by digest, as kubelet's imageID, and makes
// sure containerd knows it under that name too.
func (r *Runtime) digestRef(ctx context.Context, named docker.Named, target ocispec.Descriptor) (string, error) {
	ref := named.Name() + "@" + target.Digest.String()
	is := r.client.ImageService()
	_, err := is.Create(ctx, images.Image{Name: ref, Target: target})
	if errdefs.IsAlreadyExists(err) {
		_, err = is.Update(ctx, images.Image{Name: ref, Target: target})
	}
	if err != nil {
		return "", fmt.Errorf("%w: record image %q: %v", nodes.ErrImagePull, ref, err)
	}
	return ref, nil
}

// resolver resolves and fetches with auth's credentials, over plain HTTP
// for loopback and InsecureRegistries hosts.
func (r *Runtime) resolver(ctx context.Context, auth *nodes.AuthConfig) remotes.Resolver {
	creds := func(host string) (string, string, error) {
		return credentials(auth)
	}
	plainHTTP := func(host string) (bool, error) {
		if slices.Contains(r.opts.InsecureRegistries, host) {
			return true, nil
		}
		return rdocker.MatchLocalhost(host)
	}
	hosts := rdocker.ConfigureDefaultRegistries(
		rdocker.WithAuthorizer(rdocker.NewDockerAuthorizer(rdocker.WithAuthCreds(creds))),
		rdocker.WithPlainHTTP(plainHTTP))
	return rdocker.NewResolver(rdocker.ResolverOptions{Hosts: hosts})
}

// credentials turns an AuthConfig into the user/secret pair the registry
// authorizer wants (an identity token goes with an empty user).
func credentials(a *nodes.AuthConfig) (string, string, error) {
	switch {
	case a == nil:
		return "", "", nil
	case a.IdentityToken != "":
		return "", a.IdentityToken, nil
	case a.Username != "" || a.Password != "":
		return a.Username, a.Password, nil
	case a.Auth != "":
		b, err := base64.StdEncoding.DecodeString(a.Auth)
		if err != nil {
			return "", "", fmt.Errorf("registry auth is not base64 user:password: %w", err)
		}
		user, pass, ok := strings.Cut(string(b), ":")
		if !ok {
			return "", "", errors.New("registry auth is not user:password")
		}
		return user, pass, nil
	}
	return "", "", nil
}
