package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// The PKI lives in DATA_DIR/pki: the CA that agents and the CLI trust,
// and the serving certificate it signs.
const (
	pkiDir         = "pki"
	caCertFile     = "ca.crt"
	caKeyFile      = "ca.key"
	serverCertFile = "server.crt"
	serverKeyFile  = "server.key"

	caValidity     = 10 * 365 * 24 * time.Hour
	serverValidity = 365 * 24 * time.Hour
	// renewBefore: a serving certificate this close to expiry is replaced,
	// at start and while the server runs (checked at each handshake), so
	// a server never serves an expired one.
	renewBefore = 30 * 24 * time.Hour
	// renewRetry spaces attempts to renew after one failed (a full disk):
	// the old certificate is served meanwhile.
	renewRetry = time.Hour
	// clockSkew backdates NotBefore, so a client whose clock is a little
	// behind still accepts a fresh certificate.
	clockSkew = time.Hour
)

// EnsurePKI returns the server's TLS configuration and the CA certificate
// (PEM) clients must trust. On first start it creates, under
// dataDir/pki, a CA (ECDSA P-256, 10 years) and a serving certificate
// signed by it (1 year; SANs 127.0.0.1, ::1, localhost, the hostname and
// hosts), keys mode 0600. Later starts reuse them; the serving
// certificate alone is replaced when it is expired or about to be, or
// lacks one of the names asked for. hosts may be names, IPs or host:port.
// The configuration's GetCertificate renews the serving certificate while
// the server runs, once it is within 30 days of expiry.
func EnsurePKI(dataDir string, hosts []string) (*tls.Config, []byte, error) {
	return ensurePKI(dataDir, hosts, time.Now)
}

// servingCert is the serving certificate of a running server, renewed
// when it comes near expiry.
type servingCert struct {
	dir   string
	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
	caPEM []byte
	dns   []string
	ips   []net.IP
	now   func() time.Time

	mu       sync.Mutex
	cert     *tls.Certificate
	notAfter time.Time
	nextTry  time.Time // after a failed renewal
}

func ensurePKI(dataDir string, hosts []string, now func() time.Time) (*tls.Config, []byte, error) {
	dir := filepath.Join(dataDir, pkiDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("creating the PKI folder: %w", err)
	}
	caCert, caKey, caPEM, err := loadOrCreateCA(dir, now())
	if err != nil {
		return nil, nil, err
	}
	dns, ips := servingNames(hosts)
	sc := &servingCert{dir: dir, ca: caCert, caKey: caKey, caPEM: caPEM, dns: dns, ips: ips, now: now}
	certPEM, keyPEM, err := loadServingCert(dir, caCert, dns, ips, now())
	if err != nil {
		return nil, nil, err
	}
	if certPEM == nil {
		err = sc.renew(now())
	} else {
		err = sc.use(certPEM, keyPEM)
	}
	if err != nil {
		return nil, nil, err
	}
	cfg := &tls.Config{
		// No static Certificates: crypto/tls would serve them to every
		// client that sends no server name (one dialling an IP).
		GetCertificate: sc.get,
		MinVersion:     tls.VersionTLS12,
	}
	return cfg, caPEM, nil
}

// get is tls.Config.GetCertificate: the current certificate, renewed
// first when it is near expiry. A failed renewal serves the old one.
func (sc *servingCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	now := sc.now()
	if now.Add(renewBefore).After(sc.notAfter) && !now.Before(sc.nextTry) {
		if err := sc.renewLocked(now); err != nil {
			sc.nextTry = now.Add(renewRetry)
		}
	}
	return sc.cert, nil
}

func (sc *servingCert) renew(now time.Time) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.renewLocked(now)
}

// renewLocked makes, stores and serves a new serving certificate.
func (sc *servingCert) renewLocked(now time.Time) error {
	certPEM, keyPEM, err := createServingCert(sc.ca, sc.caKey, sc.dns, sc.ips, now)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(sc.dir, serverKeyFile), keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(sc.dir, serverCertFile), certPEM, 0o644); err != nil {
		return err
	}
	return sc.useLocked(certPEM, keyPEM)
}

func (sc *servingCert) use(certPEM, keyPEM []byte) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.useLocked(certPEM, keyPEM)
}

func (sc *servingCert) useLocked(certPEM, keyPEM []byte) error {
	// Serve the CA after the leaf: a client pinning the CA by its hash
	// (a node token) finds it in the handshake.
	pair, err := tls.X509KeyPair(append(append([]byte{}, certPEM...), sc.caPEM...), keyPEM)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(sc.dir, serverCertFile), err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return err
	}
	pair.Leaf = leaf
	sc.cert, sc.notAfter = &pair, leaf.NotAfter
	return nil
}

// loadOrCreateCA reads the CA, or creates it when there is none. A
// damaged CA is an error, never silently replaced: every agent and
// admin.conf trusts it.
func loadOrCreateCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	certPath, keyPath := filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	if errors.Is(certErr, fs.ErrNotExist) {
		// No certificate: no client can trust this CA yet (a lone key is
		// a first start that crashed half-way), so make it now.
		return createCA(certPath, keyPath, now)
	}
	broken := func(err error) error {
		return fmt.Errorf("the server's CA in %s is unusable: %w; restore it from a backup, or remove %s and %s to create a new CA (then every agent must rejoin with the new node-token)",
			dir, err, certPath, keyPath)
	}
	if certErr != nil {
		return nil, nil, nil, broken(certErr)
	}
	if keyErr != nil {
		return nil, nil, nil, broken(keyErr)
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, nil, nil, broken(err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, nil, nil, broken(err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, nil, broken(errors.New("ca.key does not match ca.crt"))
	}
	if now.After(cert.NotAfter) {
		return nil, nil, nil, broken(fmt.Errorf("the CA expired on %s", cert.NotAfter.Format(time.DateOnly)))
	}
	return cert, key, certPEM, nil
}

func createCA(certPath, keyPath string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: fmt.Sprintf("berth-ca@%d", now.Unix()), Organization: []string{"berth"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	keyPEM, err := marshalKeyPEM(key)
	if err != nil {
		return nil, nil, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// The key first: the certificate's presence says the pair is whole.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return nil, nil, nil, err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return nil, nil, nil, err
	}
	return cert, key, certPEM, nil
}

// loadServingCert returns the stored serving certificate and key if they
// can still be served: signed by ca, valid for a while, naming every host
// asked for. nil, nil, nil means "make a new one".
func loadServingCert(dir string, ca *x509.Certificate, dns []string, ips []net.IP, now time.Time) ([]byte, []byte, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, serverCertFile))
	if err != nil {
		return nil, nil, nil
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, serverKeyFile))
	if err != nil {
		return nil, nil, nil
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, nil, nil
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, nil
	}
	if cert.CheckSignatureFrom(ca) != nil || now.Add(renewBefore).After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return nil, nil, nil
	}
	for _, d := range dns {
		if !slices.Contains(cert.DNSNames, d) {
			return nil, nil, nil
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return nil, nil, nil
		}
	}
	return certPEM, keyPEM, nil
}

func createServingCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey, dns []string, ips []net.IP, now time.Time) ([]byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "berth-server", Organization: []string{"berth"}},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     now.Add(serverValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := marshalKeyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// servingNames are the serving certificate's SANs: the loopback names,
// this host's name, and hosts.
func servingNames(hosts []string) ([]string, []net.IP) {
	dns := []string{"localhost"}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	all := slices.Clone(hosts)
	if h, err := os.Hostname(); err == nil && h != "" {
		all = append(all, h)
	}
	for _, h := range all {
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			if !ip.IsUnspecified() && !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			continue
		}
		if !slices.Contains(dns, h) {
			dns = append(dns, h)
		}
	}
	return dns, ips
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func marshalKeyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM key block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, not ECDSA", k)
	}
	return key, nil
}

// writeFileAtomic replaces path with data (mode perm), so a crash leaves
// the old file or the new one, never half of one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
