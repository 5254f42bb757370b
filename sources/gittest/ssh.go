package gittest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHUser is the user name in the URLs ServeSSH returns (any user name
// is accepted; only the key matters).
const SSHUser = "git"

// ServeSSH serves the bare repository bareDir over SSH on 127.0.0.1 until
// the test ends, with an in-process server that accepts only
// authorizedKey and runs git-upload-pack (fetch) and git-receive-pack
// (push) on bareDir for "exec" requests naming it. It returns the
// repository's ssh:// URL and the server's host key (for WriteKnownHosts).
// It skips the test when the git CLI is not installed.
func ServeSSH(t testing.TB, bareDir string, authorizedKey ssh.PublicKey) (url string, hostKey ssh.PublicKey) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("the git CLI is not installed")
	}
	abs, err := filepath.Abs(bareDir)
	if err != nil {
		t.Fatal(err)
	}
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	want := authorizedKey.Marshal()
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), want) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("gittest: key not authorized")
		},
	}
	config.AddHostKey(hostSigner)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &sshServer{
		ctx:   ctx,
		repo:  filepath.ToSlash(abs),
		dir:   abs,
		home:  t.TempDir(),
		conns: map[net.Conn]struct{}{},
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed at cleanup
			}
			if !s.track(c) {
				c.Close()
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer s.untrack(c)
				s.serveConn(c, config)
			}()
		}
	}()
	t.Cleanup(func() {
		cancel() // kills running git processes
		ln.Close()
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return fmt.Sprintf("ssh://%s@%s%s", SSHUser, ln.Addr(), s.repo), hostSigner.PublicKey()
}

type sshServer struct {
	ctx  context.Context
	repo string // the path clients name, as in the URL
	dir  string // the bare repository
	home string // HOME of the git processes

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func (s *sshServer) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *sshServer) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

func (s *sshServer) serveConn(c net.Conn, config *ssh.ServerConfig) {
	sconn, chans, reqs, err := ssh.NewServerConn(c, config)
	if err != nil {
		return // a refused key or a closed connection: the client reports it
	}
	defer sconn.Close()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ssh.DiscardRequests(reqs)
	}()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveSession(ch, chReqs)
		}()
	}
}

// serveSession runs the first exec request of a session and refuses
// any other request (env, pty-req...).
func (s *sshServer) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			if req.WantReply {
				req.Reply(false, nil)
			}
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			req.Reply(false, nil)
			continue
		}
		req.Reply(true, nil)
		// Later requests are refused while the command runs.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for req := range reqs {
				if req.WantReply {
					req.Reply(false, nil)
				}
			}
		}()
		status := uint32(128)
		if service, err := s.parseCommand(payload.Command); err != nil {
			fmt.Fprintf(ch.Stderr(), "fatal: %v\n", err)
		} else {
			status = s.run(ch, service)
		}
		ch.CloseWrite()
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

// parseCommand checks that cmd is `git-upload-pack '<repo>'` (or
// git-receive-pack, or "git upload-pack") naming the served repository,
// and returns the git sub-command.
func (s *sshServer) parseCommand(cmd string) (string, error) {
	prog, arg, ok := strings.Cut(cmd, " ")
	if prog == "git" {
		prog, arg, ok = strings.Cut(arg, " ")
		prog = "git-" + prog
	}
	if !ok || (prog != "git-upload-pack" && prog != "git-receive-pack") {
		return "", fmt.Errorf("unsupported command %q", cmd)
	}
	path, err := shellUnquote(strings.TrimSpace(arg))
	if err != nil {
		return "", fmt.Errorf("command %q: %v", cmd, err)
	}
	if strings.TrimSuffix(path, "/") != s.repo {
		return "", fmt.Errorf("'%s' does not appear to be a git repository", path)
	}
	return strings.TrimPrefix(prog, "git-"), nil
}

// run runs `git service dir` with its standard streams wired to ch and
// returns its exit status.
func (s *sshServer) run(ch ssh.Channel, service string) uint32 {
	cmd := exec.CommandContext(s.ctx, "git", service, s.dir)
	cmd.Env = gitEnv(s.home)
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	// Not cmd.Stdin = ch: Wait would then wait for the client to close its
	// side, which a client waiting for the exit status never does.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		fmt.Fprintf(ch.Stderr(), "gittest: %v\n", err)
		return 128
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(ch.Stderr(), "gittest: %v\n", err)
		return 128
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		io.Copy(stdin, ch) // ends when the client closes stdin or the channel closes
		stdin.Close()
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return uint32(exit.ExitCode())
	default:
		return 128
	}
}

// shellUnquote undoes git's sq_quote (single quotes, with a quote or
// an exclamation mark inside written as backslash-quote between two
// quoted parts). A bare word is taken as it is.
func shellUnquote(s string) (string, error) {
	if !strings.HasPrefix(s, "'") {
		if strings.ContainsAny(s, "'\" \\") {
			return "", errors.New("unsupported quoting")
		}
		return s, nil
	}
	var b strings.Builder
	for len(s) > 0 {
		if s[0] != '\'' {
			return "", errors.New("unsupported quoting")
		}
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", errors.New("unterminated quote")
		}
		b.WriteString(s[1 : 1+end])
		s = s[2+end:]
		// Between quoted parts only \' and \! may appear.
		if len(s) >= 2 && s[0] == '\\' && (s[1] == '\'' || s[1] == '!') {
			b.WriteByte(s[1])
			s = s[2:]
		}
	}
	return b.String(), nil
}

// NewSSHKey generates an ed25519 key pair, writes the private key,
// unencrypted in OpenSSH format, to a file (mode 0600) in a temporary
// folder, and returns the file and the public key.
func NewSSHKey(t testing.TB) (keyFile string, pub ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "gittest")
	if err != nil {
		t.Fatal(err)
	}
	keyFile = filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return keyFile, signer.PublicKey()
}

// WriteKnownHosts writes a known_hosts file (in a temporary folder) that
// lists hostKeys for the host and port of rawURL, as ssh-keyscan would
// ("[127.0.0.1]:PORT ssh-ed25519 AAAA..."), and returns its path.
func WriteKnownHosts(t testing.TB, rawURL string, hostKeys ...ssh.PublicKey) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(host, "22")
	}
	var b strings.Builder
	for _, k := range hostKeys {
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(host)}, k))
		b.WriteByte('\n')
	}
	file := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
