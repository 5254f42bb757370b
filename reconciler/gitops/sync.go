package gitops

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-io/berth/sources"
)

// Sync implements api.Syncer (`berth sync`). Without revision it fetches
// the source now (Source.Latest) and applies what it should be at: the
// newest revision, or the pinned one. With revision it fetches that commit (Source.At), applies
// it and pins the source to it (spec.pinnedRevision, kept in the store)
// until latest lifts the pin, which applies the newest fetched revision.
// An invalid revision is refused with its file:line findings and pins
// nothing.
func (c *Controller) Sync(ctx context.Context, source, revision string, latest bool) ([]*sources.Resource, error) {
	if revision != "" && latest {
		return nil, errors.New("use either --revision (pin a commit) or --latest (lift the pin), not both")
	}
	names, err := c.namesFor(source)
	if err != nil {
		return nil, err
	}
	if revision != "" && len(names) != 1 {
		return nil, fmt.Errorf("--revision pins one source: name it (the server has %v)", c.names)
	}
	for _, name := range names {
		if revision != "" {
			err = c.pin(ctx, name, revision)
		} else {
			err = c.syncNow(ctx, name, latest)
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]*sources.Resource, 0, len(names))
	for _, name := range names {
		obj, err := c.st.Get(ctx, sources.Kind, "", name)
		if err != nil {
			return nil, err
		}
		out = append(out, obj.(*sources.Resource))
	}
	return out, nil
}

// pin applies one revision of a source and pins the source to it.
func (c *Controller) pin(ctx context.Context, name, revision string) error {
	snap, err := c.sources[name].At(ctx, revision)
	if err != nil {
		return fmt.Errorf("source %q: revision %s: %w", name, revision, err)
	}
	if _, err := decodeFiles(snap.Files); err != nil {
		return fmt.Errorf("source %q: revision %s not applied, nothing pinned: %w", name, shortRevision(snap.Revision), err)
	}
	c.mu.Lock()
	c.state[name].pinned = &snap
	latest := c.state[name].latest
	c.mu.Unlock()

	c.lock.Lock()
	defer c.lock.Unlock()
	res, err := c.ensureResource(ctx, name)
	if err != nil {
		return err
	}
	// The pin is stored only once the revision applied: res's spec is
	// changed here for the status message alone (writeStatus never
	// writes a spec), so a refused revision pins nothing.
	res.Spec.PinnedRevision = snap.Revision
	if _, err := c.applySnapshot(ctx, res, &snap, latest, nil); err != nil {
		return fmt.Errorf("source %q: revision %s not applied, nothing pinned: %w", name, shortRevision(snap.Revision), err)
	}
	return c.setPin(ctx, name, snap.Revision)
}

// syncNow lifts the pin (latest) and reconciles a source now.
func (c *Controller) syncNow(ctx context.Context, name string, latest bool) error {
	if latest {
		c.lock.Lock()
		err := c.setPin(ctx, name, "")
		c.lock.Unlock()
		if err != nil {
			return err
		}
	}
	// Fetch now, so the answer covers a push made just before.
	snap, err := c.sources[name].Latest(ctx)
	c.Update(name, snap, err)
	return c.reconcileSource(ctx, name)
}

// setPin stores spec.pinnedRevision of a source.
func (c *Controller) setPin(ctx context.Context, name, revision string) error {
	for {
		res, err := c.ensureResource(ctx, name)
		if err != nil {
			return err
		}
		if res.Spec.PinnedRevision == revision {
			return nil
		}
		res.Spec.PinnedRevision = revision
		_, err = c.st.Update(ctx, res)
		if err == nil || !isConflict(err) {
			return err
		}
	}
}
