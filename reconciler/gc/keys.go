package gc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-io/berth/reconciler/store"
)

// Key returns the collector's queue key of an object: "Kind/namespace/name",
// or "Kind/name" for a cluster-scoped object. The kind is part of the key
// because the collector watches many kinds with one queue.
func Key(kind, namespace, name string) string {
	if namespace == "" {
		return kind + "/" + name
	}
	return kind + "/" + namespace + "/" + name
}

// parseKey splits a Key.
func parseKey(key string) (kind, namespace, name string, err error) {
	kind, rest, ok := strings.Cut(key, "/")
	if !ok || kind == "" || rest == "" {
		return "", "", "", fmt.Errorf("gc: malformed key %q", key)
	}
	if store.Namespaced(kind) {
		namespace, name, ok = strings.Cut(rest, "/")
		if !ok {
			return "", "", "", fmt.Errorf("gc: malformed key %q: %s is namespaced", key, kind)
		}
		return kind, namespace, name, nil
	}
	return kind, "", rest, nil
}

// parseRV parses a metadata.resourceVersion.
func parseRV(s string) (int64, error) {
	rv, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("gc: resourceVersion %q: %w", s, err)
	}
	return rv, nil
}
