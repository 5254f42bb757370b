package sources

import (
	"context"
	"time"
)

// File is one file of a snapshot.
type File struct {
	// Path is slash-separated and relative to the source's root (the
	// repository's --path, or the folder): "apps/web.yaml". Diagnostics
	// name files by it.
	Path string
	// Data is the file's content.
	Data []byte
}

// Snapshot is a source's manifest files at one revision: everything the
// sync decodes, held in memory so nothing outside it is ever read.
type Snapshot struct {
	// Source is the name of the source it came from.
	Source string
	// Revision is the Git commit SHA, or for a folder the hex SHA-256 of
	// its files' paths and contents.
	Revision string
	// Message is the commit's subject line (Git only).
	Message string
	// Files are the candidate manifest files under the source's path,
	// sorted by Path: *.yaml, *.yml and *.json, dot-folders skipped, as
	// `berth validate` picks them from a folder.
	Files []File
	// Skipped says what was left out and why ("docs/big.yaml: larger than
	// 4 MiB", "link.yaml: symlink to a path outside the source"), for the
	// source's status.
	Skipped []string
	// FetchedAt is when the snapshot was taken.
	FetchedAt time.Time
}

// Source is where desired state comes from: a Git repository or a folder.
// Each implementation is safe for concurrent use.
type Source interface {
	// Name is the source's name, unique on the server ("web", or by
	// default derived from the URL or folder).
	Name() string
	// Spec describes the source as it was configured.
	Spec() SourceSpec
	// Run fetches at once, then again on every change (folder), poll
	// interval (Git) or Trigger, and calls update with each snapshot whose
	// revision differs from the last one it passed, or with the error of a
	// failed fetch (update(Snapshot{}, err)). After a failure the last
	// good revision stands; Git retries with back-off. Run returns when
	// ctx ends.
	Run(ctx context.Context, update func(Snapshot, error))
	// Trigger asks Run for an immediate fetch (a webhook). It does not
	// block.
	Trigger()
	// Latest fetches what the source follows now and returns its snapshot
	// (`berth sync`, which applies it before it answers). Run still
	// delivers the revision as usual.
	Latest(ctx context.Context) (Snapshot, error)
	// At returns the snapshot of one revision (for `berth sync --revision
	// SHA`): for Git any commit the remote has (a short SHA of at least 7
	// hex digits is resolved); a folder has only its current content, so
	// it returns an error unless revision is the current one.
	At(ctx context.Context, revision string) (Snapshot, error)
}
