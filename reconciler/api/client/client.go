// Package client is the Go client of berth's API server, as the CLI and
// remote agents use it: Kubernetes-shaped objects of the kinds the store
// holds, watches, and berth's actions (rollout, sync, diff, logs).
package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/api"
)

// maxErrorBody caps how much of an error response is read.
const maxErrorBody = 1 << 20

// ReadIdleTimeout and PingTimeout are the HTTP/2 health check of the
// client's connections: a connection with nothing read for
// ReadIdleTimeout is pinged, and closed if the ping has no answer within
// PingTimeout (client-go's defaults).
const (
	ReadIdleTimeout = 30 * time.Second
	PingTimeout     = 15 * time.Second
)

// Client talks to one berth server. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New returns a client for cfg. It trusts only cfg's CA: no system roots,
// no skipping verification.
func New(cfg *Config) (*Client, error) {
	if cfg == nil {
		return nil, errors.New("client: no config")
	}
	if err := api.CheckServerURL(cfg.Server); err != nil {
		return nil, err
	}
	base, _ := url.Parse(strings.TrimSuffix(cfg.Server, "/"))
	if cfg.Token == "" {
		return nil, errors.New("the berth config has no token: set token in the config, or pass --token-file")
	}
	if len(cfg.CAData) == 0 {
		return nil, fmt.Errorf("the berth config has no certificate-authority-data, so %s cannot be verified: copy the server's DATA_DIR/admin.conf, or use its node-token", cfg.Server)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(cfg.CAData) {
		return nil, errors.New("the berth config's certificate-authority-data holds no PEM certificate")
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
		// A connection that goes quiet (the server's machine gone, a
		// partition that drops packets) is pinged after ReadIdleTimeout
		// and closed when no answer comes in PingTimeout, failing its
		// requests and watches, as client-go's transport does.
		HTTP2: &http.HTTP2Config{SendPingTimeout: ReadIdleTimeout, PingTimeout: PingTimeout},
	}
	return &Client{base: base, token: cfg.Token, http: &http.Client{Transport: tr}}, nil
}

// HTTPClient returns the client's *http.Client: it trusts only the
// config's CA and adds no token (for /hooks/... and other raw requests).
func (c *Client) HTTPClient() *http.Client { return c.http }

// Close releases the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// send makes one request and returns the response of a 2xx status; any
// other status is returned as a *StatusError.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	u := *c.base
	u.Path = path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, explainTransportError(err, c.base.Host)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	return resp, nil
}

// do makes one request and decodes the JSON answer into out (unless nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding the answer of %s %s: %w", method, path, err)
	}
	return nil
}

// readError turns a failed response into a *StatusError.
func readError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var st metav1.Status
	if json.Unmarshal(data, &st) == nil && st.Kind == "Status" {
		return statusError(resp.StatusCode, &st)
	}
	msg := strings.TrimSpace(string(data))
	if msg == "" {
		msg = fmt.Sprintf("the server answered %s", resp.Status)
	}
	return &StatusError{Code: resp.StatusCode, Reason: reasonForCode(resp.StatusCode), Message: msg}
}

// reasonForCode is Kubernetes' reason for a status sent without a Status
// body (by a proxy, say).
func reasonForCode(code int) metav1.StatusReason {
	switch code {
	case http.StatusUnauthorized:
		return metav1.StatusReasonUnauthorized
	case http.StatusForbidden:
		return metav1.StatusReasonForbidden
	case http.StatusNotFound:
		return metav1.StatusReasonNotFound
	case http.StatusConflict:
		return metav1.StatusReasonConflict
	case http.StatusGone:
		return metav1.StatusReasonGone
	case http.StatusUnprocessableEntity:
		return metav1.StatusReasonInvalid
	}
	return metav1.StatusReasonUnknown
}

// explainTransportError adds what to do to the usual connection failures.
func explainTransportError(err error, host string) error {
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &unknownCA):
		return fmt.Errorf("%w: the server's certificate is not signed by the config's CA (certificate-authority-data); was the server's data dir reset? copy its admin.conf again", err)
	case errors.As(err, &hostErr):
		return fmt.Errorf("%w: reach the server by a name its certificate holds, or restart the server with --tls-san %s", err, sanOf(hostErr.Host))
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return fmt.Errorf("%w: is the berth server running and listening at %s?", err, host)
	}
	return err
}

// sanOf is the --tls-san value for a host as dialled ("[::1]" → "::1").
func sanOf(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.Trim(host, "[]")
}

func certSHA256(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
