package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ClientConfig is how a client reaches the server: what admin.conf holds.
// Package client calls it client.Config (an alias: client imports this
// package, so the type lives here for WriteAdminConfig to take it).
type ClientConfig struct {
	// Server is the base URL, https://HOST:PORT.
	Server string
	// CAData is the PEM of the CA the server's certificate must chain to;
	// the only CA a client trusts.
	CAData []byte
	// Token is the bearer token.
	Token string
}

// configFile is the YAML form of a ClientConfig.
type configFile struct {
	Server string `yaml:"server"`
	CAData string `yaml:"certificate-authority-data"`
	Token  string `yaml:"token"`
}

// MarshalClientConfig encodes cfg as admin.conf holds it:
//
//	server: https://127.0.0.1:6443
//	certificate-authority-data: <base64 of the CA PEM>
//	token: <hex>
func MarshalClientConfig(cfg ClientConfig) ([]byte, error) {
	return yaml.Marshal(configFile{
		Server: cfg.Server,
		CAData: base64.StdEncoding.EncodeToString(cfg.CAData),
		Token:  cfg.Token,
	})
}

// UnmarshalClientConfig decodes admin.conf's YAML, checking that each
// field is there and usable.
func UnmarshalClientConfig(data []byte) (*ClientConfig, error) {
	var f configFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	ca, err := base64.StdEncoding.DecodeString(strings.TrimSpace(f.CAData))
	if err != nil {
		return nil, fmt.Errorf("certificate-authority-data is not base64: %v", err)
	}
	cfg := &ClientConfig{Server: strings.TrimSpace(f.Server), CAData: ca, Token: strings.TrimSpace(f.Token)}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *ClientConfig) check() error {
	if c.Server == "" {
		return errors.New("server is missing")
	}
	if err := CheckServerURL(c.Server); err != nil {
		return err
	}
	if c.Token == "" {
		return errors.New("token is missing")
	}
	if len(c.CAData) > 0 {
		if _, err := CAHash(c.CAData); err != nil {
			return fmt.Errorf("certificate-authority-data: %w", err)
		}
	}
	return nil
}

// CheckServerURL checks that a server URL is https://HOST[:PORT].
func CheckServerURL(server string) error {
	u, err := url.Parse(server)
	if err != nil {
		return fmt.Errorf("server %q: %v", server, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("server %q: expected https://HOST:PORT", server)
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("server %q: expected https://HOST:PORT, without a path", server)
	}
	return nil
}

// WriteAdminConfig writes cfg to path (DATA_DIR/admin.conf), mode 0600:
// it holds the admin token.
func WriteAdminConfig(path string, cfg ClientConfig) error {
	if err := cfg.check(); err != nil {
		return fmt.Errorf("admin config: %w", err)
	}
	data, err := MarshalClientConfig(cfg)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data, 0o600)
}
