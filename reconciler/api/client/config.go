package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-io/berth/reconciler/api"
)

// Config is how the client reaches the server (admin.conf's content). It
// is api.ClientConfig, so that the server can write it without importing
// this package.
type Config = api.ClientConfig

// Where LoadConfig looks, in order, without --server.
const (
	// EnvConfig names a config file.
	EnvConfig = "BERTH_CONFIG"
	// UserConfig is under the user's home.
	UserConfig = ".config/berth/config"
	// ServerAdminConfig is a local server's admin.conf at the default
	// data dir.
	ServerAdminConfig = "/var/lib/berth/admin.conf"
)

// fetchCATimeout bounds the bootstrap dial that fetches a CA pinned by a
// node token.
const fetchCATimeout = 10 * time.Second

// ReadConfig reads a config file (admin.conf's YAML).
func ReadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("reading the berth config: %w (run as its owner, or copy it somewhere you can read it and set %s)", err, EnvConfig)
		}
		return nil, fmt.Errorf("reading the berth config: %w", err)
	}
	cfg, err := api.UnmarshalClientConfig(data)
	if err != nil {
		return nil, fmt.Errorf("the berth config %s: %w", path, err)
	}
	return cfg, nil
}

// LoadConfig finds the config: the first of $BERTH_CONFIG,
// ~/.config/berth/config and /var/lib/berth/admin.conf. server
// (--server) and tokenFile (--token-file) override its server and token;
// given both, no config file is needed. The token file holds a bare token
// or a node token (K10<CA hash>::<token>). The CA is the config file's
// (when a node token's hash matches it), else the one a node token pins,
// fetched from the server (FetchCA).
func LoadConfig(server, tokenFile string) (*Config, error) {
	home, _ := os.UserHomeDir()
	return configLoader{
		env:         os.Getenv(EnvConfig),
		home:        home,
		serverAdmin: ServerAdminConfig,
		fetchCA:     fetchCAWithTimeout,
	}.load(server, tokenFile)
}

// configLoader is LoadConfig with its environment spelled out, for tests.
type configLoader struct {
	env, home, serverAdmin string
	fetchCA                func(server, caHash string) ([]byte, error)
}

func fetchCAWithTimeout(server, caHash string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchCATimeout)
	defer cancel()
	return FetchCA(ctx, server, caHash)
}

func (l configLoader) load(server, tokenFile string) (*Config, error) {
	if server == "" && tokenFile == "" {
		path, err := l.find()
		if err != nil {
			return nil, err
		}
		return ReadConfig(path)
	}
	return l.explicit(server, tokenFile)
}

// find returns the first config file of the search order.
func (l configLoader) find() (string, error) {
	if l.env != "" {
		return l.env, nil // named on purpose: its absence is an error
	}
	var candidates []string
	if l.home != "" {
		candidates = append(candidates, filepath.Join(l.home, UserConfig))
	}
	candidates = append(candidates, l.serverAdmin)
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("no berth config found: pass --server and --token-file, set %s, or run on the server host (%s)", EnvConfig, l.serverAdmin)
}

// explicit builds the config from --server and/or --token-file, taking
// what is missing (and the CA) from the config file found, if any.
func (l configLoader) explicit(server, tokenFile string) (*Config, error) {
	var found *Config
	var foundErr error
	if path, err := l.find(); err != nil {
		foundErr = err
	} else {
		found, foundErr = ReadConfig(path)
	}
	cfg := &Config{Server: server}
	if server == "" {
		if found == nil {
			return nil, fmt.Errorf("--token-file needs --server too (https://HOST:PORT), or a config to take it from: %w", foundErr)
		}
		cfg.Server = found.Server
	}
	if err := api.CheckServerURL(cfg.Server); err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	var tok api.NodeToken
	if tokenFile == "" {
		if found == nil {
			return nil, fmt.Errorf("--server needs --token-file too (the admin token, or an agent's node-token), or a config to take the token from: %w", foundErr)
		}
		tok.Token = found.Token
	} else {
		data, err := os.ReadFile(tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		if tok, err = api.ParseNodeToken(string(data)); err != nil {
			return nil, fmt.Errorf("--token-file %s: %w", tokenFile, err)
		}
	}
	cfg.Token = tok.Token
	if found != nil && len(found.CAData) > 0 {
		hash, _ := api.CAHash(found.CAData)
		if tok.CAHash == "" || tok.CAHash == hash {
			cfg.CAData = found.CAData
			return cfg, nil
		}
	}
	if tok.CAHash == "" {
		return nil, fmt.Errorf("no CA to trust for %s: use the server's DATA_DIR/node-token (K10..., it pins the CA) as --token-file, or set %s to a config with certificate-authority-data", cfg.Server, EnvConfig)
	}
	var err error
	if cfg.CAData, err = l.fetchCA(cfg.Server, tok.CAHash); err != nil {
		return nil, err
	}
	return cfg, nil
}

// FetchCA connects to server and returns the CA certificate (PEM) it
// presents whose SHA-256 is caHash, having checked that the server's
// certificate is signed by that CA and names the host. It is how a node
// token's pin becomes a trusted CA; crypto/tls cannot verify against a
// CA it does not hold yet, so the handshake's default verification is
// replaced by this one, which is as strict.
func FetchCA(ctx context.Context, server, caHash string) ([]byte, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("server %q: expected https://HOST:PORT", server)
	}
	host := u.Hostname()
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(host, "443")
	}
	var ca *x509.Certificate
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: host,
		// Verification is VerifyConnection's, below.
		InsecureSkipVerify: true, //nolint:gosec
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the server sent no certificate")
			}
			for _, c := range cs.PeerCertificates[1:] {
				if c.IsCA && certSHA256(c) == caHash {
					ca = c
				}
			}
			if ca == nil {
				return fmt.Errorf("the server at %s does not present the CA the node token pins (sha256 %s): wrong server, or the server's CA was replaced; get the current DATA_DIR/node-token", addr, caHash)
			}
			roots := x509.NewCertPool()
			roots.AddCert(ca)
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: host, Roots: roots})
			return err
		},
	}
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fetching the server's CA from %s: %w", addr, err)
	}
	conn.Close()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), nil
}
