package sources

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// snapshot reads commit h's manifest files from Git objects (no
// checkout). The caller holds g.mu.
func (g *Git) snapshot(h plumbing.Hash) (Snapshot, error) {
	commit, err := g.repo.CommitObject(h)
	if err != nil {
		return Snapshot{}, fmt.Errorf("git source %s: commit %s: %w", g.opts.Name, h, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return Snapshot{}, fmt.Errorf("git source %s: the tree of commit %s: %w", g.opts.Name, h, err)
	}
	if g.subPath != "" {
		tree, err = tree.Tree(g.subPath)
		if errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
			return Snapshot{}, fmt.Errorf("git source %s: commit %s has no folder %q; check the source's path", g.opts.Name, h.String()[:7], g.subPath)
		}
		if err != nil {
			return Snapshot{}, fmt.Errorf("git source %s: folder %q of commit %s: %w", g.opts.Name, g.subPath, h, err)
		}
	}
	c := newCollector(g.opts.Limits, "repository")
	if err := walkTree(tree, "", c); err != nil {
		return Snapshot{}, fmt.Errorf("git source %s: commit %s: %w", g.opts.Name, h.String()[:7], err)
	}
	files, skipped := c.result()
	return Snapshot{
		Source:    g.opts.Name,
		Revision:  h.String(),
		Message:   subject(commit.Message),
		Files:     files,
		Skipped:   skipped,
		FetchedAt: g.clock.Now(),
	}, nil
}

// walkTree collects the manifest files of tree, whose path is prefix.
// Symbolic links and submodules are never followed: the snapshot holds
// only what the commit itself holds.
func walkTree(tree *object.Tree, prefix string, c *collector) error {
	for i := range tree.Entries {
		e := &tree.Entries[i]
		p := path.Join(prefix, e.Name)
		switch e.Mode {
		case filemode.Dir:
			if skipDir(e.Name) {
				continue
			}
			sub, err := tree.Tree(e.Name)
			if err != nil {
				return fmt.Errorf("folder %s: %w", p, err)
			}
			if err := walkTree(sub, p, c); err != nil {
				return err
			}
		case filemode.Submodule:
			c.skip(p, "a Git submodule; submodules are not fetched, put the manifests in this repository")
		case filemode.Symlink:
			c.skip(p, "a symbolic link; links are not followed in a Git source")
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			if !IsManifestName(e.Name) {
				continue
			}
			f, err := tree.TreeEntryFile(e)
			if err != nil {
				return fmt.Errorf("file %s: %w", p, err)
			}
			if c.tooBig(p, f.Size) {
				continue
			}
			r, err := f.Reader()
			if err != nil {
				return fmt.Errorf("file %s: %w", p, err)
			}
			data, err := io.ReadAll(io.LimitReader(r, f.Size+1))
			r.Close()
			if err != nil {
				return fmt.Errorf("file %s: %w", p, err)
			}
			if err := c.add(p, data); err != nil {
				return err
			}
		}
	}
	return nil
}

// subject is a commit message's first line.
func subject(msg string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	return strings.TrimSpace(line)
}
