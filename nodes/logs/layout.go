package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// PodDir is a pod's log directory under root.
func PodDir(root, namespace, name, uid string) string {
	return filepath.Join(root, fmt.Sprintf("%s_%s_%s", namespace, name, uid))
}

// RunPath is the log file of one run (attempt = restartCount) of a
// container, under its pod's log directory.
func RunPath(podDir, container string, attempt uint32) string {
	return filepath.Join(podDir, container, strconv.FormatUint(uint64(attempt), 10)+".log")
}

// attemptOf parses "<n>.log"; ok is false for any other name.
func attemptOf(base string) (uint64, bool) {
	num, found := strings.CutSuffix(base, ".log")
	if !found || num == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 32)
	return n, err == nil
}

// runs lists the attempts that have a log file in a container's log
// directory, oldest first.
func runs(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	seen := map[uint64]bool{}
	for _, e := range entries {
		// A run whose current file is being rotated may show only <n>.log.1.
		n, ok := attemptOf(strings.TrimSuffix(e.Name(), ".1"))
		if ok && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Prune removes the log files of the runs before the previous one of the
// container whose current run logs to path ("<dir>/<n>.log"): kubelet keeps
// only the current and the previous run of a container. A path of
// another shape is left alone.
func Prune(path string) error {
	n, ok := attemptOf(filepath.Base(path))
	if !ok || n < 2 {
		return nil
	}
	dir := filepath.Dir(path)
	attempts, err := runs(dir)
	if err != nil {
		return err
	}
	for _, a := range attempts {
		if a+1 >= n {
			break
		}
		base := filepath.Join(dir, strconv.FormatUint(a, 10)+".log")
		for _, f := range []string{base + ".1", base} {
			if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("prune old container log: %w", err)
			}
		}
	}
	return nil
}
