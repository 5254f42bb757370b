package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The tokens live beside the PKI, one file each.
const (
	adminTokenFile = "admin.token"
	nodeTokenFile  = "node.token"
	tokenBytes     = 32
	// NodeTokenPrefix starts a node token that pins the server's CA, as
	// k3s's K10 tokens do.
	NodeTokenPrefix = "K10"
)

// EnsureTokens returns the admin and node bearer tokens: 32 random bytes
// in hex each, created on first start in dataDir/pki (mode 0600) and
// reused afterwards, so admin.conf and joined agents survive restarts.
func EnsureTokens(dataDir string) (admin, node string, err error) {
	dir := filepath.Join(dataDir, pkiDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("creating the PKI folder: %w", err)
	}
	if admin, err = ensureToken(filepath.Join(dir, adminTokenFile)); err != nil {
		return "", "", err
	}
	if node, err = ensureToken(filepath.Join(dir, nodeTokenFile)); err != nil {
		return "", "", err
	}
	return admin, node, nil
}

func ensureToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		tok := strings.TrimSpace(string(data))
		if b, err := hex.DecodeString(tok); err != nil || len(b) != tokenBytes {
			return "", fmt.Errorf("%s does not hold a token (%d hex digits); remove it to make a new one (clients using the old one must then be given the new one)", path, 2*tokenBytes)
		}
		return tok, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(b)
	if err := writeFileAtomic(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	return tok, nil
}

// NodeToken is the secret an agent joins with: the bearer token, and the
// hash of the CA it must find the server's certificate signed by.
type NodeToken struct {
	// CAHash is the hex SHA-256 of the CA certificate (DER); "" for a
	// bare token, which pins nothing.
	CAHash string
	Token  string
}

// String is the token's file form: K10<CAHash>::<Token>, or the bare
// token when there is no CA hash.
func (t NodeToken) String() string {
	if t.CAHash == "" {
		return t.Token
	}
	return NodeTokenPrefix + t.CAHash + "::" + t.Token
}

// CAHash returns the hex SHA-256 of the first certificate in caPEM (its
// DER form, so re-encoding the PEM does not change it).
func CAHash(caPEM []byte) (string, error) {
	cert, err := parseCertPEM(caPEM)
	if err != nil {
		return "", fmt.Errorf("CA certificate: %w", err)
	}
	return certHash(cert), nil
}

func certHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// ParseNodeToken reads a node token: K10<sha256 hex>::<token>, or a bare
// token.
func ParseNodeToken(s string) (NodeToken, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return NodeToken{}, errors.New("the node token is empty; copy DATA_DIR/node-token from the server")
	}
	if !strings.HasPrefix(s, NodeTokenPrefix) {
		if strings.ContainsAny(s, " \t\r\n:") {
			return NodeToken{}, errors.New("the node token is malformed: expected K10<CA hash>::<token> as in the server's DATA_DIR/node-token")
		}
		return NodeToken{Token: s}, nil
	}
	hash, tok, ok := strings.Cut(strings.TrimPrefix(s, NodeTokenPrefix), "::")
	if !ok || tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return NodeToken{}, errors.New("the node token is malformed: expected K10<CA hash>::<token> as in the server's DATA_DIR/node-token")
	}
	if b, err := hex.DecodeString(hash); err != nil || len(b) != sha256.Size {
		return NodeToken{}, errors.New("the node token's CA hash is not a hex SHA-256; copy DATA_DIR/node-token from the server again")
	}
	return NodeToken{CAHash: strings.ToLower(hash), Token: tok}, nil
}

// WriteNodeToken writes DATA_DIR/node-token (mode 0600): the node token
// pinned to the CA of caPEM.
func WriteNodeToken(path string, caPEM []byte, token string) error {
	hash, err := CAHash(caPEM)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, []byte(NodeToken{CAHash: hash, Token: token}.String()+"\n"), 0o600)
}
