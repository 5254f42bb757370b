package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/berth-io/berth/sources"
)

// buildSources makes the configured sources, each with a unique name and
// its cache under DataDir/sources/<name>.
func (cfg *Config) buildSources(log *slog.Logger) ([]sources.Source, error) {
	seen := map[string]bool{}
	var out []sources.Source
	for _, sc := range cfg.Sources {
		name := sc.Name
		if name == "" {
			name = DefaultSourceName(sc.Spec)
		}
		if !validName.MatchString(name) {
			return nil, fmt.Errorf("source name %q: use lowercase letters, digits and '-' (give one with --source-name)", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("two sources are named %q: give one of them another with --source-name", name)
		}
		seen[name] = true
		var (
			s   sources.Source
			err error
		)
		switch sc.Spec.Type {
		case sources.TypeGit:
			s, err = sources.NewGit(sources.GitOptions{
				Name: name, Spec: sc.Spec, CacheDir: filepath.Join(cfg.DataDir, "sources", name),
				AuthFile: sc.AuthFile, SSHKeyFile: sc.SSHKeyFile, KnownHostsFile: sc.KnownHostsFile, Log: log,
			})
		case sources.TypeDir:
			s, err = sources.NewDir(sources.DirOptions{Name: name, Spec: sc.Spec, Log: log})
		default:
			err = fmt.Errorf("unknown source type %q", sc.Spec.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

var validName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// DefaultSourceName names a source after its repository or folder:
// "https://github.com/acme/web.git" → "web", "/srv/manifests/" →
// "manifests"; with a sub-path its last element is added ("web-prod").
func DefaultSourceName(spec sources.SourceSpec) string {
	base := strings.TrimSuffix(strings.TrimRight(spec.URL, "/"), ".git")
	if i := strings.LastIndexAny(base, "/:"); i >= 0 {
		base = base[i+1:]
	}
	if spec.Type == sources.TypeGit && spec.Path != "" && path.Base(spec.Path) != "." {
		base += "-" + path.Base(strings.Trim(spec.Path, "/"))
	}
	base = strings.ToLower(base)
	base = invalidChars.ReplaceAllString(base, "-")
	base = strings.Trim(base, "-")
	if base == "" {
		base = "source"
	}
	if len(base) > 63 {
		base = strings.TrimRight(base[:63], "-")
	}
	return base
}

var invalidChars = regexp.MustCompile(`[^a-z0-9-]+`)

// readOrCreateSecret reads a secret file, creating it with 32 random bytes
// (hex) on first use.
func readOrCreateSecret(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err == nil {
		if s := strings.TrimSpace(string(data)); s != "" {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("webhook secret file %s is empty", file)
	}
	if !os.IsNotExist(err) {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	secret := hex.EncodeToString(b)
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	return []byte(secret), nil
}
