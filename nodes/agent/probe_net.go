package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// NetProber performs the network checks of probes and lifecycle hooks:
// one HTTP GET or one TCP connect each. The agent decides timing,
// thresholds and what counts as success. NetProbes is the real one; the
// fake runtime has its own, so that simulations never touch the network.
type NetProber interface {
	// HTTPGet sends one GET and returns the response's status code; an
	// error means no response (refused, timed out, bad TLS...).
	HTTPGet(ctx context.Context, req HTTPProbe) (int, error)
	// TCPConnect opens and closes one TCP connection.
	TCPConnect(ctx context.Context, req TCPProbe) error
}

// HTTPProbe is one HTTP check.
type HTTPProbe struct {
	// ContainerID is the container checked (for fakes; the real prober
	// only uses URL).
	ContainerID string
	URL         *url.URL
	Header      http.Header
	Timeout     time.Duration
}

// TCPProbe is one TCP check.
type TCPProbe struct {
	ContainerID string
	// Address is host:port.
	Address string
	Timeout time.Duration
}

// probeUserAgent is what kubelet sends ("kube-probe/<major>.<minor>").
const probeUserAgent = "kube-probe/1.33"

// maxProbeBody is how much of a response body is read (kubelet's 10KiB).
const maxProbeBody = 10 << 10

// NetProbes is the real NetProber: kubelet's HTTP prober (no proxy, TLS
// unverified, redirects followed on the same host only, a non-local
// redirect taken as its 3xx answer) and TCP dialer.
type NetProbes struct{}

var _ NetProber = NetProbes{}

// HTTPGet implements NetProber.
func (NetProbes) HTTPGet(ctx context.Context, p HTTPProbe) (int, error) {
	if p.URL == nil {
		return 0, errors.New("no URL to probe")
	}
	ctx, cancel := context.WithTimeout(ctx, max(p.Timeout, time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL.String(), nil)
	if err != nil {
		return 0, err
	}
	for k, vs := range p.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", probeUserAgent)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "*/*")
	}
	tr := &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		// Probes check the app answers, not its certificate (kubelet too).
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if r.URL.Hostname() != p.URL.Hostname() {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeBody))
	return resp.StatusCode, nil
}

// TCPConnect implements NetProber.
func (NetProbes) TCPConnect(ctx context.Context, p TCPProbe) error {
	d := net.Dialer{Timeout: max(p.Timeout, time.Second)}
	conn, err := d.DialContext(ctx, "tcp", p.Address)
	if err != nil {
		return fmt.Errorf("dial tcp %s: %w", p.Address, unwrapOp(err))
	}
	return conn.Close()
}

// unwrapOp keeps the cause of a net.OpError ("connection refused"), whose
// own text repeats the address.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
