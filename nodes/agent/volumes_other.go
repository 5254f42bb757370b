//go:build !linux

package agent

// mountTmpfs is Linux only: elsewhere a memory emptyDir is a directory.
func mountTmpfs(string, int64) error { return nil }

func unmountAll(string) {}
