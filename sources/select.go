package sources

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Limits bound what one snapshot may hold, so that a huge or hostile
// repository cannot exhaust the server's memory. The zero value means the
// defaults.
type Limits struct {
	// MaxFileSize: a larger file is skipped and listed in Snapshot.Skipped
	// (default 4 MiB, the size `berth validate` refuses a document at).
	MaxFileSize int64
	// MaxTotalSize: a snapshot whose files add up to more fails (default
	// 64 MiB).
	MaxTotalSize int64
	// MaxFiles: a snapshot with more manifest files fails (default 20,000).
	MaxFiles int
}

// Default limits.
const (
	DefaultMaxFileSize  = 4 << 20
	DefaultMaxTotalSize = 64 << 20
	DefaultMaxFiles     = 20000
)

func (l Limits) withDefaults() Limits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	return l
}

// IsManifestName reports whether a file name is a candidate manifest
// (*.yaml, *.yml, *.json), the rule `berth validate` applies to folders.
func IsManifestName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// skipDir reports whether a folder is left out: dot-folders (.git,
// .github) hold YAML that is not Kubernetes' (CI workflows).
func skipDir(name string) bool {
	return strings.HasPrefix(name, ".")
}

// collector gathers a snapshot's files within the limits.
type collector struct {
	limits  Limits
	files   []File
	skipped []string
	total   int64
	what    string // "repository", "folder": for error messages
}

func newCollector(l Limits, what string) *collector {
	return &collector{limits: l.withDefaults(), what: what}
}

// tooBig says whether a file of size bytes is skipped (and notes it).
func (c *collector) tooBig(p string, size int64) bool {
	if size > c.limits.MaxFileSize {
		c.skip(p, fmt.Sprintf("larger than %s (%s)", formatSize(c.limits.MaxFileSize), formatSize(size)))
		return true
	}
	return false
}

// add appends one file, failing once the snapshot outgrows the limits.
func (c *collector) add(p string, data []byte) error {
	c.total += int64(len(data))
	if c.total > c.limits.MaxTotalSize {
		return fmt.Errorf("huge %s: its manifest files add up to more than %s; point the source's path at the folder that holds the manifests",
			c.what, formatSize(c.limits.MaxTotalSize))
	}
	if len(c.files) >= c.limits.MaxFiles {
		return fmt.Errorf("huge %s: more than %d manifest files; point the source's path at the folder that holds the manifests",
			c.what, c.limits.MaxFiles)
	}
	c.files = append(c.files, File{Path: p, Data: data})
	return nil
}

func (c *collector) skip(p, why string) {
	c.skipped = append(c.skipped, p+": "+why)
}

// result returns the files sorted by path, and the skipped notes.
func (c *collector) result() ([]File, []string) {
	sort.Slice(c.files, func(i, j int) bool { return c.files[i].Path < c.files[j].Path })
	sort.Strings(c.skipped)
	return c.files, c.skipped
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// cleanSubPath turns a source's path into a clean slash path relative to
// its root ("" for the root), refusing one that climbs out of it.
func cleanSubPath(p string) (string, error) {
	p = strings.ReplaceAll(p, "\\", "/")
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", fmt.Errorf("path %q leaves the source's root; give a sub-folder such as deploy/prod", p)
		}
	}
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	return c, nil
}
