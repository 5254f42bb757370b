package image

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// unauthorized reports whether err is the registry's 401.
func unauthorized(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusUnauthorized
}

// TestRegistryWithAuth pushes to a local docker-registry that demands a
// password and pulls the image back; anonymous and wrong-password pushes
// and pulls fail.
func TestRegistryWithAuth(t *testing.T) {
	addr, _ := StartRegistry(t, t.TempDir(), "berth", "s3cret-pw")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	img := helloImage(t, "v1")
	ref := addr + "/berth/hello:v1"
	good := &authn.Basic{Username: "berth", Password: "s3cret-pw"}
	bad := &authn.Basic{Username: "berth", Password: "wrong"}

	for _, tc := range []struct {
		name string
		auth *authn.Basic
	}{{"anonymous", nil}, {"wrong password", bad}} {
		if err := Push(ctx, img, ref, tc.auth, true); !unauthorized(err) {
			t.Errorf("%s push: %v, want 401 Unauthorized", tc.name, err)
		}
	}
	if err := Push(ctx, img, ref, good, true); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		auth *authn.Basic
	}{{"anonymous", nil}, {"wrong password", bad}} {
		if _, err := Pull(ctx, ref, tc.auth, true); !unauthorized(err) {
			t.Errorf("%s pull: %v, want 401 Unauthorized", tc.name, err)
		}
	}
	got, err := Pull(ctx, ref, good, true)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if d, err := got.Digest(); err != nil || d != want {
		t.Fatalf("pulled digest %s (%v), want %s", d, err, want)
	}
	cfg, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != "/hello" {
		t.Errorf("pulled entrypoint %v", cfg.Config.Entrypoint)
	}
}

// TestRegistryAnonymous: without a user the registry is open.
func TestRegistryAnonymous(t *testing.T) {
	addr, stop := StartRegistry(t, t.TempDir(), "", "")
	ctx := context.Background()
	img := helloImage(t, "v2")
	ref := addr + "/berth/hello:v2"
	if err := Push(ctx, img, ref, nil, true); err != nil {
		t.Fatal(err)
	}
	if _, err := Pull(ctx, ref, nil, true); err != nil {
		t.Fatal(err)
	}
	stop()
	stop() // idempotent, and t.Cleanup calls it once more
	if _, err := Pull(ctx, ref, nil, true); err == nil {
		t.Fatal("pull after stop succeeded")
	}
}
