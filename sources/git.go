package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh/knownhosts"
	"k8s.io/utils/clock"
)

// Defaults of a Git source, as Flux's.
const (
	// DefaultInterval is how often a Git source polls (Flux bootstrap's 1m).
	DefaultInterval = time.Minute
	// DefaultTimeout bounds one fetch (Flux's spec.timeout default).
	DefaultTimeout = 60 * time.Second
	// retryMin is the first wait after a failed fetch; it doubles up to the
	// interval.
	retryMin = 5 * time.Second
	// jitterFraction spreads polls by ±5% so that many sources on one
	// server do not fetch in lockstep (Flux's --interval-jitter-percentage).
	jitterFraction = 0.05
)

// GitOptions configure a Git source.
type GitOptions struct {
	// Name of the source (default: derived from the URL, see NameFromURL).
	Name string
	// Spec, if given, supplies URL, Branch, Tag, Commit, Path, Interval
	// and Timeout where those fields are empty (the server builds sources
	// from their SourceSpec).
	Spec SourceSpec
	// URL of the repository: file://, a local path, http(s)://, ssh:// or
	// scp-like git@host:path.
	URL string
	// Branch, Tag or Commit to follow, at most one; none follows the
	// remote's default branch (its HEAD).
	Branch, Tag, Commit string
	// Path is the sub-folder holding the manifests ("" for the root).
	Path string
	// Interval between polls (default DefaultInterval), ±5% jitter.
	Interval time.Duration
	// Timeout of one fetch (default DefaultTimeout).
	Timeout time.Duration
	// CacheDir holds the source's local bare repository (the server passes
	// DATA_DIR/sources/<name>). Required.
	CacheDir string
	// AuthFile, for http(s) URLs, holds a token (one line: sent as basic
	// auth with user "git", as GitHub and GitLab accept) or
	// "user:password".
	AuthFile string
	// SSHKeyFile is the private key for ssh URLs (unencrypted).
	SSHKeyFile string
	// KnownHostsFile lists the ssh server's host keys (ssh-keyscan HOST
	// > FILE). Required for ssh URLs unless InsecureIgnoreHostKey.
	KnownHostsFile string
	// InsecureIgnoreHostKey connects to an ssh server without checking
	// its host key. For tests and throwaway setups only.
	InsecureIgnoreHostKey bool
	// Limits bound a snapshot (zero: the defaults).
	Limits Limits
	// Clock paces polls and retries (default: the real clock).
	Clock clock.Clock
	// Log receives a debug line per new revision (default: discarded).
	// Errors go to Run's update, not here.
	Log *slog.Logger
}

// withSpec fills the empty fields from o.Spec.
func (o GitOptions) withSpec() GitOptions {
	s := o.Spec
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&o.URL, s.URL)
	fill(&o.Branch, s.Branch)
	fill(&o.Tag, s.Tag)
	fill(&o.Commit, s.Commit)
	fill(&o.Path, s.Path)
	if o.Interval <= 0 {
		o.Interval = s.Interval.Duration
	}
	if o.Timeout <= 0 {
		o.Timeout = s.Timeout.Duration
	}
	return o
}

// Git is a Source following a branch, tag or commit of a Git repository.
// It keeps a bare repository under CacheDir, fetches shallowly where the
// transport allows it, and reads snapshots straight from Git objects: no
// worktree is checked out, so no file outside the repository is ever
// read.
type Git struct {
	opts    GitOptions
	subPath string
	remote  remoteInfo
	clock   clock.Clock
	trigger chan struct{}

	// mu serialises use of the local repository (Run's fetches and At).
	mu   sync.Mutex
	repo *git.Repository
}

var _ Source = (*Git)(nil)

// NewGit checks the options and returns a Git source; it does not touch
// the network.
func NewGit(opts GitOptions) (*Git, error) {
	opts = opts.withSpec()
	if opts.URL == "" {
		return nil, errors.New("git source: no URL; give the repository's URL (https://, ssh://, git@host:path, file:// or a local path)")
	}
	if opts.CacheDir == "" {
		return nil, errors.New("git source: no cache folder (GitOptions.CacheDir)")
	}
	refs := 0
	for _, r := range []string{opts.Branch, opts.Tag, opts.Commit} {
		if r != "" {
			refs++
		}
	}
	if refs > 1 {
		return nil, fmt.Errorf("git source %s: give at most one of branch, tag and commit", RedactURL(opts.URL))
	}
	if opts.Commit != "" && !isHex(opts.Commit, 40) {
		return nil, fmt.Errorf("git source %s: commit %q is not a full 40-digit SHA", RedactURL(opts.URL), opts.Commit)
	}
	sub, err := cleanSubPath(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("git source %s: %w", RedactURL(opts.URL), err)
	}
	if opts.Name == "" {
		opts.Name = NameFromURL(opts.URL)
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	remote, err := newRemoteInfo(opts)
	if err != nil {
		return nil, fmt.Errorf("git source %s: %w", RedactURL(opts.URL), err)
	}
	return &Git{
		opts:    opts,
		subPath: sub,
		remote:  remote,
		clock:   opts.Clock,
		trigger: make(chan struct{}, 1),
	}, nil
}

// Name implements Source.
func (g *Git) Name() string { return g.opts.Name }

// Spec implements Source: the configured spec (GitOptions.Spec, with
// AllowPruneAll and whatever else it carries) with the options filled in.
// The URL is given without credentials.
func (g *Git) Spec() SourceSpec {
	o := g.opts
	s := o.Spec
	s.Type, s.URL = TypeGit, RedactURL(o.URL)
	s.Branch, s.Tag, s.Commit, s.Path = o.Branch, o.Tag, o.Commit, g.subPath
	s.Interval.Duration = o.Interval
	s.Timeout.Duration = o.Timeout
	return s
}

// Trigger implements Source: Run fetches at once. Triggers that arrive
// while one is pending are coalesced.
func (g *Git) Trigger() {
	select {
	case g.trigger <- struct{}{}:
	default:
	}
}

// Run implements Source: it fetches now, then every Interval (±5%) or on
// Trigger. After a failure it retries after 5s, doubling up to Interval;
// the last good revision stands meanwhile. A source pinned to a Commit
// stops polling once it has it.
func (g *Git) Run(ctx context.Context, update func(Snapshot, error)) {
	var last string
	retry := time.Duration(0)
	for {
		snap, err := g.latest(ctx)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		switch {
		case err != nil:
			update(Snapshot{}, err)
			last = "" // the next good snapshot clears the error, even if unchanged
			retry = nextRetry(retry, g.opts.Interval)
			wait = retry
		default:
			retry = 0
			if snap.Revision != last {
				last = snap.Revision
				g.opts.Log.Debug("git source: new revision", "source", g.opts.Name, "revision", snap.Revision, "files", len(snap.Files))
				update(snap, nil)
			}
			wait = jitter(g.opts.Interval)
		}
		if err == nil && g.opts.Commit != "" {
			wait = 0 // a commit never moves: only a Trigger refetches
		}
		if !g.wait(ctx, wait) {
			return
		}
	}
}

// wait returns after d (0: never), on Trigger (true) or when ctx ends
// (false).
func (g *Git) wait(ctx context.Context, d time.Duration) bool {
	var fire <-chan time.Time
	if d > 0 {
		t := g.clock.NewTimer(d)
		defer t.Stop()
		fire = t.C()
	}
	select {
	case <-ctx.Done():
		return false
	case <-g.trigger:
		return true
	case <-fire:
		return true
	}
}

func nextRetry(prev, ceiling time.Duration) time.Duration {
	next := 2 * prev
	if prev == 0 {
		next = retryMin
	}
	return min(next, ceiling)
}

func jitter(d time.Duration) time.Duration {
	f := 1 + jitterFraction*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// At implements Source: the snapshot of any commit the remote has,
// fetched if need be; a short SHA (7 hex digits or more) is resolved
// among the commits fetched so far, then after a full fetch.
func (g *Git) At(ctx context.Context, revision string) (Snapshot, error) {
	if len(revision) < 7 || len(revision) > 40 || !isHex(revision, len(revision)) {
		return Snapshot{}, fmt.Errorf("git source %s: revision %q is not a commit SHA (7 to 40 hex digits)", g.opts.Name, revision)
	}
	ctx, cancel := context.WithTimeout(ctx, g.opts.Timeout)
	defer cancel()
	g.mu.Lock()
	defer g.mu.Unlock()
	repo, err := g.open()
	if err != nil {
		return Snapshot{}, err
	}
	h, err := g.ensureCommit(ctx, repo, revision)
	if err != nil {
		return Snapshot{}, err
	}
	return g.snapshot(h)
}

// Latest implements Source.
func (g *Git) Latest(ctx context.Context) (Snapshot, error) { return g.latest(ctx) }

// latest fetches what the source follows and returns its snapshot.
func (g *Git) latest(ctx context.Context) (Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, g.opts.Timeout)
	defer cancel()
	g.mu.Lock()
	defer g.mu.Unlock()
	repo, err := g.open()
	if err != nil {
		return Snapshot{}, err
	}
	var h plumbing.Hash
	if g.opts.Commit != "" {
		h, err = g.ensureCommit(ctx, repo, g.opts.Commit)
	} else {
		h, err = g.fetchRef(ctx, repo)
	}
	if err != nil {
		return Snapshot{}, err
	}
	return g.snapshot(h)
}

// refDescription names what the source follows, for messages.
func (g *Git) refDescription() string {
	switch {
	case g.opts.Branch != "":
		return fmt.Sprintf("branch %q", g.opts.Branch)
	case g.opts.Tag != "":
		return fmt.Sprintf("tag %q", g.opts.Tag)
	case g.opts.Commit != "":
		return "commit " + g.opts.Commit
	}
	return "the default branch (HEAD)"
}

// remoteError explains a failed conversation with the remote without
// leaking credentials.
func (g *Git) remoteError(ctx context.Context, action string, err error) error {
	url := RedactURL(g.opts.URL)
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		// The ssh transport's connection was closed under it.
		err = fmt.Errorf("%w (%v)", cerr, err)
	}
	var hint string
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		hint = fmt.Sprintf("no answer within %s; check that the host is reachable, or raise the source's timeout", g.opts.Timeout)
	case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
		hint = fmt.Sprintf("the server's host key is not in the known_hosts file %s; add it (%s >> %s), after checking that it is the server's",
			g.opts.KnownHostsFile, g.remote.keyscan, g.opts.KnownHostsFile)
	case errors.As(err, &keyErr):
		hint = fmt.Sprintf("the server's host key does not match the known_hosts file %s: the server's key changed, or another machine answers in its place; check with the server's administrator before updating the file",
			g.opts.KnownHostsFile)
	case errors.As(err, &revoked):
		hint = fmt.Sprintf("the server's host key is marked revoked in the known_hosts file %s", g.opts.KnownHostsFile)
	case g.remote.ssh && strings.Contains(err.Error(), "ssh: unable to authenticate"):
		hint = fmt.Sprintf("the server refused the SSH key %s; check that its public key may read the repository (a deploy key, say) and the user name in the URL",
			g.opts.SSHKeyFile)
	case errors.Is(err, transport.ErrAuthenticationRequired) && g.remote.hasCredentials:
		// Servers answer 401 to wrong credentials as to none.
		hint = "the credentials were refused; check the auth file (or the credentials in the URL) and that it may read the repository"
	case errors.Is(err, transport.ErrAuthenticationRequired):
		hint = "the server asks for credentials; give a token or user:password in the source's auth file"
	case errors.Is(err, transport.ErrAuthorizationFailed):
		hint = "the credentials were refused; check the auth file (or the SSH key) and that it may read the repository"
	case errors.Is(err, transport.ErrRepositoryNotFound):
		hint = "no repository there; check the URL (for a private repository, also the credentials)"
	default:
		hint = "check the URL, that the host is reachable and the credentials"
	}
	return &fetchError{
		msg: fmt.Sprintf("git source %s: %s %s at %s: %s; %s",
			g.opts.Name, action, g.refDescription(), url, strings.TrimSpace(g.remote.scrub(err.Error())), hint),
		cause: err,
	}
}

// ErrFetch is in the chain of every error about a failed conversation
// with a source's remote (unreachable, refused credentials, no answer in
// time), so that callers can tell the remote's failures from the
// configuration's: the API answers them 502 Bad Gateway (504 Gateway
// Timeout when context.DeadlineExceeded is in the chain too).
var ErrFetch = errors.New("fetching from the source's remote failed")

// fetchError is a failed fetch: its message has the secrets scrubbed,
// while errors.Is and errors.As still see the cause (context deadlines,
// go-git's transport errors) and ErrFetch.
type fetchError struct {
	msg   string
	cause error
}

func (e *fetchError) Error() string   { return e.msg }
func (e *fetchError) Unwrap() []error { return []error{ErrFetch, e.cause} }

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
