package image

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// RegistryBinary is Debian's docker/distribution registry
// (apt-get install docker-registry).
const RegistryBinary = "docker-registry"

// Registry is a docker-registry serving on 127.0.0.1, for tests.
type Registry struct {
	// Addr is host:port, e.g. "127.0.0.1:40123"; push to Addr+"/berth/hello:v1".
	Addr string
	proc *child
	once sync.Once
	auth bool
}

// RunRegistry starts docker-registry on a free 127.0.0.1 port, storing
// blobs under dir. With user set, it demands that user and password
// (htpasswd, bcrypt) for every request, pulls included. Call Stop.
func RunRegistry(ctx context.Context, dir, user, password string) (*Registry, error) {
	bin, err := exec.LookPath(RegistryBinary)
	if err != nil {
		return nil, fmt.Errorf("%s not found: apt-get install docker-registry", RegistryBinary)
	}
	authCfg := ""
	if user != "" {
		line, err := htpasswdLine(ctx, user, password)
		if err != nil {
			return nil, err
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(line+"\n"), 0o600); err != nil {
			return nil, err
		}
		authCfg = fmt.Sprintf("auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n", htpasswd)
	}
	// The registry reads REGISTRY_* variables over its config file: drop
	// any from the environment so the file below is the whole truth.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			env = append(env, kv)
		}
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // the free port may be taken meanwhile
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%s`, filepath.Join(dir, "data"), addr, authCfg)
		cfgPath := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			return nil, err
		}
		proc, err := startChild(filepath.Join(dir, "registry.log"), env, bin, "serve", cfgPath)
		if err != nil {
			return nil, err
		}
		r := &Registry{Addr: addr, proc: proc, auth: user != ""}
		if lastErr = proc.waitFor(20*time.Second, r.answers); lastErr == nil {
			return r, nil
		}
		proc.stop(5 * time.Second)
	}
	return nil, fmt.Errorf("starting %s: %w", RegistryBinary, lastErr)
}

// answers is nil once /v2/ answers as configured: 200, or 401 with auth.
func (r *Registry) answers() error {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + r.Addr + "/v2/")
	if err != nil {
		return err
	}
	resp.Body.Close()
	want := http.StatusOK
	if r.auth {
		want = http.StatusUnauthorized
	}
	if resp.StatusCode != want {
		return fmt.Errorf("GET /v2/: %s, want %d", resp.Status, want)
	}
	return nil
}

// Stop kills the registry and waits for it; it may be called again.
func (r *Registry) Stop() {
	r.once.Do(func() { r.proc.stop(5 * time.Second) })
}

// StartRegistry is RunRegistry for a test: it applies NeedRoot's skip
// rule for the binary, fails t on error and stops the registry when t
// ends. stop stops it earlier.
func StartRegistry(t testing.TB, dir, user, password string) (addr string, stop func()) {
	t.Helper()
	NeedRoot(t, RegistryBinary, "perl")
	r, err := RunRegistry(context.Background(), dir, user, password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r.Addr, r.Stop
}

// bcryptB64 is bcrypt's base64 alphabet, for the salt.
var bcryptB64 = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)

// htpasswdLine is "user:<bcrypt hash>", the only hash docker-registry
// takes. golang.org/x/crypto is not among berth's modules, so the hash
// comes from the C library's crypt(3) (libxcrypt knows bcrypt) through
// perl, which every Debian has.
func htpasswdLine(ctx context.Context, user, password string) (string, error) {
	if strings.ContainsAny(user, ":\n") || strings.Contains(password, "\n") {
		return "", fmt.Errorf("registry user %q: no ':' or newline allowed", user)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	setting := "$2b$05$" + bcryptB64.EncodeToString(salt)
	cmd := exec.CommandContext(ctx, "perl", "-e", `print crypt($ARGV[0], $ARGV[1])`, password, setting)
	out, err := cmd.Output()
	hash := string(out)
	if err != nil || !strings.HasPrefix(hash, "$2b$05$") || len(hash) != 60 {
		return "", fmt.Errorf("bcrypt via perl crypt(3) failed (%v, got %q): is perl installed and libcrypt recent enough for bcrypt?", err, hash)
	}
	return user + ":" + hash, nil
}
