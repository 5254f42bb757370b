package image

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Push uploads img as ref (e.g. "127.0.0.1:5000/berth/hello:v1"). auth nil
// means anonymous; insecure speaks plain HTTP, as a local test registry
// needs.
func Push(ctx context.Context, img v1.Image, ref string, auth *authn.Basic, insecure bool) error {
	r, err := parseRef(ref, insecure)
	if err != nil {
		return err
	}
	if err := remote.Write(r, img, remote.WithContext(ctx), remote.WithAuth(authenticator(auth))); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

// Pull fetches ref from a registry, with the same auth and insecure
// meaning as Push.
func Pull(ctx context.Context, ref string, auth *authn.Basic, insecure bool) (v1.Image, error) {
	r, err := parseRef(ref, insecure)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithAuth(authenticator(auth)))
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	return img, nil
}

func parseRef(ref string, insecure bool) (name.Reference, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("image name %q: %v (want host:port/repo:tag)", ref, err)
	}
	return r, nil
}

func authenticator(auth *authn.Basic) authn.Authenticator {
	if auth == nil {
		return authn.Anonymous
	}
	return auth
}
