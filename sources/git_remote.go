package sources

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/net/proxy"
)

// remoteInfo is how to reach a Git source's remote.
type remoteInfo struct {
	// url is the URL as go-git takes it (a local path made absolute).
	url string
	// auth is nil for file:// and for http(s) without an auth file.
	auth transport.AuthMethod
	// secrets are strings never to show in a message (the password of the
	// URL, the content of the auth file).
	secrets []string
	// hasCredentials: the URL or the auth file gives some.
	hasCredentials bool
	// ssh: the remote is reached over ssh (see dialOptions).
	ssh bool
	// keyscan is the command that prints an ssh server's host keys.
	keyscan string
}

func newRemoteInfo(opts GitOptions) (remoteInfo, error) {
	ep, err := transport.NewEndpoint(opts.URL)
	if err != nil {
		return remoteInfo{}, fmt.Errorf("cannot parse the URL: %s", RedactURL(err.Error()))
	}
	ri := remoteInfo{url: opts.URL}
	if ep.Password != "" {
		ri.secrets = append(ri.secrets, ep.Password)
		ri.hasCredentials = true
	}
	if ep.User != "" && ep.Password == "" && ep.Protocol != "ssh" && len(ep.User) >= minScrubbedSecret {
		// A bare user over http(s) is usually a token
		// (https://ghp_...@github.com/...): never show it either.
		ri.secrets = append(ri.secrets, ep.User)
	}
	switch ep.Protocol {
	case "file":
		abs, err := filepath.Abs(ep.Path)
		if err != nil {
			return remoteInfo{}, err
		}
		ri.url = abs
	case "http", "https":
		if ep.User != "" {
			// The URL's userinfo is the credentials (a token as the user
			// name, as GitHub takes it, or user:password). They are
			// passed as basic auth and kept out of the URL the cache's
			// configuration stores on disk.
			ri.auth = &githttp.BasicAuth{Username: ep.User, Password: ep.Password}
			ri.hasCredentials = true
			ri.url = stripUserinfo(opts.URL)
		}
		if opts.AuthFile != "" {
			auth, secret, err := readHTTPAuth(opts.AuthFile)
			if err != nil {
				return remoteInfo{}, err
			}
			ri.auth = auth // the auth file wins over the URL's userinfo
			ri.secrets = append(ri.secrets, secret)
			ri.hasCredentials = true
		}
	case "ssh":
		auth, err := sshAuth(opts, ep)
		if err != nil {
			return remoteInfo{}, err
		}
		ri.auth = auth
		ri.hasCredentials = true
		ri.ssh = true
		ri.keyscan = keyscanCommand(ep)
	default:
		return remoteInfo{}, fmt.Errorf("unsupported URL scheme %q; use https://, ssh://, git@host:path, file:// or a local path", ep.Protocol)
	}
	return ri, nil
}

// readHTTPAuth reads an auth file: "user:password", or a token (sent as
// basic auth with user "git", which GitHub, GitLab and Gitea accept).
func readHTTPAuth(file string) (transport.AuthMethod, string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("cannot read the auth file: %w", err)
	}
	line := strings.TrimSpace(string(data))
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		return nil, "", fmt.Errorf("auth file %s has more than one line; write a token, or user:password, on one line", file)
	}
	if line == "" {
		return nil, "", fmt.Errorf("auth file %s is empty; write a token, or user:password, on one line", file)
	}
	if user, pass, ok := strings.Cut(line, ":"); ok {
		return &githttp.BasicAuth{Username: user, Password: pass}, pass, nil
	}
	return &githttp.BasicAuth{Username: "git", Password: line}, line, nil
}

// sshAuth loads the key and the known hosts of an ssh URL. It refuses to
// go on without known hosts: an unchecked host key lets anyone on the
// path serve their own manifests.
func sshAuth(opts GitOptions, ep *transport.Endpoint) (transport.AuthMethod, error) {
	if opts.SSHKeyFile == "" {
		return nil, errors.New("an ssh URL needs a private key file; give one, or use an https URL")
	}
	user := ep.User
	if user == "" {
		user = "git"
	}
	keys, err := gitssh.NewPublicKeysFromFile(user, opts.SSHKeyFile, "")
	if err != nil {
		return nil, fmt.Errorf("cannot load the SSH key %s: %w (berth reads unencrypted keys only)", opts.SSHKeyFile, err)
	}
	if opts.InsecureIgnoreHostKey {
		keys.HostKeyCallback = ssh.InsecureIgnoreHostKey()
		return keys, nil
	}
	if opts.KnownHostsFile == "" {
		return nil, fmt.Errorf("refusing to connect to %s without a known_hosts file: give one (%s > known_hosts), or, for a test only, allow an insecure host key",
			ep.Host, keyscanCommand(ep))
	}
	if _, err := os.Stat(opts.KnownHostsFile); err != nil {
		return nil, fmt.Errorf("cannot read the known_hosts file: %w", err)
	}
	db, err := gitssh.NewKnownHostsDb(opts.KnownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read the known_hosts file %s: %w", opts.KnownHostsFile, err)
	}
	keys.HostKeyCallback = db.HostKeyCallback()
	// Offer only the key types known_hosts has for this host, or the
	// server may present another one and fail the check.
	keys.HostKeyAlgorithms = db.HostKeyAlgorithms(net.JoinHostPort(ep.Host, strconv.Itoa(portOr22(ep.Port))))
	return keys, nil
}

// sshDialScheme is the proxy scheme through which ssh connections are
// dialled, so that a fetch's context bounds them. go-git's ssh transport
// dials and shakes hands without the context: a server that accepts the
// connection and then says nothing (a tarpit, a wrong port) would hold a
// fetch, and the source with it, forever.
const sshDialScheme = "berth-ssh-ctx"

var (
	// sshDialCtxs maps the host of a sshDialScheme URL to the context
	// of the fetch under way.
	sshDialCtxs sync.Map
	sshDialSeq  atomic.Uint64
)

func init() {
	proxy.RegisterDialerType(sshDialScheme, func(u *url.URL, _ proxy.Dialer) (proxy.Dialer, error) {
		ctx, ok := sshDialCtxs.Load(u.Host)
		if !ok {
			return nil, errors.New("ssh connection requested after its fetch ended")
		}
		return ctxDialer{ctx.(context.Context)}, nil
	})
}

// ctxDialer dials as go-git would (honouring ALL_PROXY) and closes the
// connection when ctx ends.
type ctxDialer struct{ ctx context.Context }

func (d ctxDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

func (d ctxDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(d.ctx, cancel)()
	conn, err := proxy.Dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	context.AfterFunc(d.ctx, func() { conn.Close() })
	return conn, nil
}

// dialOptions returns the proxy options that make an ssh remote's
// connections end with ctx, and a function to call once they are no
// longer needed. Other remotes get none (go-git bounds them itself).
func (r remoteInfo) dialOptions(ctx context.Context) (transport.ProxyOptions, func()) {
	if !r.ssh {
		return transport.ProxyOptions{}, func() {}
	}
	id := strconv.FormatUint(sshDialSeq.Add(1), 10)
	sshDialCtxs.Store(id, ctx)
	return transport.ProxyOptions{URL: sshDialScheme + "://" + id}, func() { sshDialCtxs.Delete(id) }
}

// keyscanCommand is the ssh-keyscan command line for ep's server.
func keyscanCommand(ep *transport.Endpoint) string {
	if p := portOr22(ep.Port); p != 22 {
		return fmt.Sprintf("ssh-keyscan -p %d %s", p, ep.Host)
	}
	return "ssh-keyscan " + ep.Host
}

func portOr22(p int) int {
	if p == 0 {
		return 22
	}
	return p
}

// minScrubbedSecret: a bare URL user shorter than this is taken for a
// name, not a token, and is not scrubbed from messages as a substring
// (scrubbing "git" would mangle every message). RedactURL still drops it
// from http(s) URLs.
const minScrubbedSecret = 8

// scrub removes secrets from a message.
func (r remoteInfo) scrub(msg string) string {
	for _, s := range r.secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return RedactURL(msg)
}

// stripUserinfo returns rawURL without its userinfo.
func stripUserinfo(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return RedactURL(rawURL)
	}
	u.User = nil
	return u.String()
}

// RedactURL removes the userinfo of every URL in s ("https://u:p@host/x"
// and "https://TOKEN@host/x" → "https://host/x"), for messages and
// status: a bare user name may well be a token. Only ssh:// URLs keep a
// user without a password ("ssh://git@host/x"): ssh authenticates with
// keys, and the user name is part of what to check when one is refused.
func RedactURL(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		scheme := s[:i]
		if j := strings.LastIndexAny(scheme, " \"'\n\t(<=,;"); j >= 0 {
			scheme = scheme[j+1:]
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		// The authority ends at the first '/', space or quote; userinfo
		// is what precedes its last '@'.
		end := strings.IndexAny(s, "/ \"'\n\t?#")
		if end < 0 {
			end = len(s)
		}
		if at := strings.LastIndexByte(s[:end], '@'); at >= 0 {
			isSSH := strings.EqualFold(scheme, "ssh") || strings.EqualFold(scheme, "git+ssh") || strings.EqualFold(scheme, "ssh+git")
			if !isSSH || strings.Contains(s[:at], ":") {
				s = s[at+1:]
			}
		}
	}
}

// NameFromURL is a source's default name: the repository's or folder's
// last path element without ".git" ("https://host/org/web.git" → "web").
func NameFromURL(raw string) string {
	p := raw
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
		p = u.Path
	} else if i := strings.Index(raw, ":"); i > 0 && !strings.Contains(raw[:i], "/") {
		p = raw[i+1:] // scp-like git@host:org/web.git
	}
	p = strings.TrimRight(filepath.ToSlash(p), "/")
	name := strings.TrimSuffix(path.Base(p), ".git")
	if name == "" || name == "." || name == "/" {
		return "source"
	}
	return name
}
