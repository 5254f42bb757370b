package sources

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

const (
	remoteName = "origin"
	// unshallowDepth is what `git fetch --unshallow` asks for: everything.
	unshallowDepth = 1<<31 - 1
)

// open returns the cached bare repository, creating it (or recreating a
// damaged one) under CacheDir. The caller holds g.mu.
func (g *Git) open() (*git.Repository, error) {
	if g.repo != nil {
		return g.repo, nil
	}
	dir := g.opts.CacheDir
	repo, err := git.PlainOpen(dir)
	if err != nil {
		// Absent or damaged: it is only a cache, start afresh.
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("git source %s: cannot clear the cache folder: %w", g.opts.Name, err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("git source %s: cannot create the cache folder: %w", g.opts.Name, err)
		}
		if repo, err = git.PlainInit(dir, true); err != nil {
			return nil, fmt.Errorf("git source %s: cannot create the cache repository in %s: %w", g.opts.Name, dir, err)
		}
	}
	// The remote follows the configuration (the URL may have changed).
	if r, err := repo.Remote(remoteName); err == nil {
		if urls := r.Config().URLs; len(urls) != 1 || urls[0] != g.remote.url {
			if err := repo.DeleteRemote(remoteName); err != nil {
				return nil, fmt.Errorf("git source %s: %w", g.opts.Name, err)
			}
		}
	}
	if _, err := repo.Remote(remoteName); errors.Is(err, git.ErrRemoteNotFound) {
		if _, err := repo.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{g.remote.url}}); err != nil {
			return nil, fmt.Errorf("git source %s: %w", g.opts.Name, err)
		}
	}
	g.repo = repo
	return repo, nil
}

// reset throws the cache away; the next open starts afresh. The caller
// holds g.mu.
func (g *Git) reset() error {
	g.repo = nil
	return os.RemoveAll(g.opts.CacheDir)
}

// fetchRef lists the remote's references and, unless the commit the
// source follows is already here, fetches it shallowly. It returns the
// commit.
func (g *Git) fetchRef(ctx context.Context, repo *git.Repository) (plumbing.Hash, error) {
	remote, err := repo.Remote(remoteName)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	proxyOpts, done := g.remote.dialOptions(ctx)
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: g.remote.auth, PeelingOption: git.AppendPeeled, ProxyOptions: proxyOpts})
	done()
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return plumbing.ZeroHash, fmt.Errorf("git source %s: the repository at %s is empty; push a commit to it", g.opts.Name, RedactURL(g.opts.URL))
	}
	if err != nil {
		return plumbing.ZeroHash, g.remoteError(ctx, "cannot list", err)
	}
	src, want, err := g.pickRef(refs)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := repo.CommitObject(want); err == nil {
		return want, nil // nothing new (Flux's "no-op clone")
	}
	dst := localRef(src)
	// '+' lets a force-pushed branch replace what was fetched before.
	spec := config.RefSpec("+" + src.String() + ":" + dst.String())
	if err := g.fetch(ctx, &repo, []config.RefSpec{spec}, 1); err != nil {
		return plumbing.ZeroHash, g.remoteError(ctx, "cannot fetch", err)
	}
	return peelToCommit(repo, dst)
}

// pickRef finds what the source follows among the remote's references:
// the remote name and the commit it points to.
func (g *Git) pickRef(refs []*plumbing.Reference) (plumbing.ReferenceName, plumbing.Hash, error) {
	byName := map[plumbing.ReferenceName]*plumbing.Reference{}
	var branches []string
	for _, r := range refs {
		byName[r.Name()] = r
		if r.Name().IsBranch() {
			branches = append(branches, r.Name().Short())
		}
	}
	sort.Strings(branches)
	url := RedactURL(g.opts.URL)
	switch {
	case g.opts.Branch != "":
		name := plumbing.NewBranchReferenceName(g.opts.Branch)
		r, ok := byName[name]
		if !ok {
			return "", plumbing.ZeroHash, fmt.Errorf("git source %s: branch %q not found at %s (branches there: %s); check the source's branch",
				g.opts.Name, g.opts.Branch, url, listOrNone(branches))
		}
		return name, r.Hash(), nil
	case g.opts.Tag != "":
		name := plumbing.NewTagReferenceName(g.opts.Tag)
		r, ok := byName[name]
		if !ok {
			return "", plumbing.ZeroHash, fmt.Errorf("git source %s: tag %q not found at %s; check the source's tag, and that it was pushed (git push origin %s)",
				g.opts.Name, g.opts.Tag, url, g.opts.Tag)
		}
		if peeled, ok := byName[name+"^{}"]; ok {
			return name, peeled.Hash(), nil // an annotated tag's commit
		}
		return name, r.Hash(), nil
	}
	head, ok := byName[plumbing.HEAD]
	if !ok {
		return "", plumbing.ZeroHash, fmt.Errorf("git source %s: %s has no default branch (HEAD); set the source's branch (branches there: %s)",
			g.opts.Name, url, listOrNone(branches))
	}
	if head.Type() == plumbing.SymbolicReference {
		r, ok := byName[head.Target()]
		if !ok {
			return "", plumbing.ZeroHash, fmt.Errorf("git source %s: the default branch of %s, %s, has no commit; push one or set the source's branch",
				g.opts.Name, url, head.Target().Short())
		}
		return head.Target(), r.Hash(), nil
	}
	// A server that does not say which branch HEAD is: take the branch at
	// the same commit, preferring main and master.
	var match []plumbing.ReferenceName
	for _, b := range append([]string{"main", "master"}, branches...) {
		if r, ok := byName[plumbing.NewBranchReferenceName(b)]; ok && r.Hash() == head.Hash() {
			match = append(match, r.Name())
		}
	}
	if len(match) == 0 {
		return "", plumbing.ZeroHash, fmt.Errorf("git source %s: cannot tell the default branch of %s; set the source's branch", g.opts.Name, url)
	}
	return match[0], head.Hash(), nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 10 {
		names = append(names[:10:10], "...")
	}
	return strings.Join(names, ", ")
}

// localRef is where a remote reference is kept in the cache.
func localRef(remote plumbing.ReferenceName) plumbing.ReferenceName {
	if remote.IsBranch() {
		return plumbing.NewRemoteReferenceName(remoteName, remote.Short())
	}
	return remote // tags as they are
}

// fetch fetches specs at depth (0: all history). A transport that cannot
// fetch shallowly gets a full fetch; a cache that go-git cannot update
// (a damaged or oddly shallow repository) is thrown away and fetched
// again once. *repo is replaced in that case.
func (g *Git) fetch(ctx context.Context, repo **git.Repository, specs []config.RefSpec, depth int) error {
	err := g.fetchOnce(ctx, *repo, specs, depth)
	if err != nil && depth == 1 && strings.Contains(err.Error(), "shallow") {
		err = g.fetchOnce(ctx, *repo, specs, 0)
	}
	if err == nil || ctx.Err() != nil || isTransportError(err) {
		return err
	}
	if rerr := g.reset(); rerr != nil {
		return err
	}
	fresh, oerr := g.open()
	if oerr != nil {
		return oerr
	}
	*repo = fresh
	return g.fetchOnce(ctx, fresh, specs, depth)
}

func (g *Git) fetchOnce(ctx context.Context, repo *git.Repository, specs []config.RefSpec, depth int) error {
	proxyOpts, done := g.remote.dialOptions(ctx)
	defer done()
	err := repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName:   remoteName,
		RefSpecs:     specs,
		Depth:        depth,
		Auth:         g.remote.auth,
		Force:        true,
		Tags:         git.NoTags,
		ProxyOptions: proxyOpts,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// isTransportError reports errors that a fresh cache would not cure.
func isTransportError(err error) bool {
	for _, e := range []error{
		transport.ErrAuthenticationRequired, transport.ErrAuthorizationFailed,
		transport.ErrRepositoryNotFound, transport.ErrEmptyRemoteRepository,
		git.ErrExactSHA1NotSupported, context.DeadlineExceeded, context.Canceled,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// peelToCommit resolves a local reference to its commit (through an
// annotated tag).
func peelToCommit(repo *git.Repository, name plumbing.ReferenceName) (plumbing.Hash, error) {
	ref, err := repo.Reference(name, true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("after fetching, %s is missing from the cache: %w", name, err)
	}
	h := ref.Hash()
	if tag, err := repo.TagObject(h); err == nil {
		c, err := tag.Commit()
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("tag %s does not point to a commit: %w", name.Short(), err)
		}
		return c.Hash, nil
	}
	return h, nil
}

// ensureCommit returns the commit rev (a full or short SHA), fetching it
// if the cache lacks it: by SHA where the server allows it, else every
// branch and tag with their whole history.
func (g *Git) ensureCommit(ctx context.Context, repo *git.Repository, rev string) (plumbing.Hash, error) {
	rev = strings.ToLower(rev)
	if h, ok := resolveCommit(repo, rev); ok {
		return h, nil
	}
	if len(rev) == 40 {
		spec := config.RefSpec(rev + ":refs/berth/commits/" + rev)
		if err := g.fetch(ctx, &repo, []config.RefSpec{spec}, 1); err == nil {
			if h, ok := resolveCommit(repo, rev); ok {
				return h, nil
			}
		} else if !errors.Is(err, git.ErrExactSHA1NotSupported) && isTransportError(err) {
			return plumbing.ZeroHash, g.remoteError(ctx, "cannot fetch commit "+rev+" for", err)
		}
	}
	all := []config.RefSpec{
		config.RefSpec("+refs/heads/*:refs/remotes/" + remoteName + "/*"),
		config.RefSpec("+refs/tags/*:refs/tags/*"),
	}
	if err := g.fetch(ctx, &repo, all, unshallowDepth); err != nil {
		return plumbing.ZeroHash, g.remoteError(ctx, "cannot fetch every branch and tag, looking for commit "+rev+", for", err)
	}
	if h, ok := resolveCommit(repo, rev); ok {
		return h, nil
	}
	return plumbing.ZeroHash, fmt.Errorf("git source %s: commit %s not found at %s (every branch and tag fetched); check the SHA, and that the commit was pushed",
		g.opts.Name, rev, RedactURL(g.opts.URL))
}

// resolveCommit finds a commit in the cache by full or short SHA.
func resolveCommit(repo *git.Repository, rev string) (plumbing.Hash, bool) {
	if len(rev) == 40 {
		h := plumbing.NewHash(rev)
		_, err := repo.CommitObject(h)
		return h, err == nil
	}
	h, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return plumbing.ZeroHash, false
	}
	if _, err := repo.CommitObject(*h); err != nil {
		return plumbing.ZeroHash, false
	}
	return *h, true
}
