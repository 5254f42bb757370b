package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStaticallyLinked: the release build (CGO_ENABLED=0) is static, a cgo
// build is not; releaseExecutablePages only runs on the first.
func TestStaticallyLinked(t *testing.T) {
	if testing.Short() {
		t.Skip("builds berth twice")
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		cgo    string
		static bool
	}{{"0", true}, {"1", false}} {
		bin := filepath.Join(dir, "berth-cgo"+tt.cgo)
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED="+tt.cgo)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build (CGO_ENABLED=%s): %v\n%s", tt.cgo, err, out)
		}
		if got := staticallyLinked(bin); got != tt.static {
			t.Errorf("staticallyLinked(CGO_ENABLED=%s build) = %v, want %v", tt.cgo, got, tt.static)
		}
		// Both run: the agent path releases the executable's pages first.
		if out, err := exec.Command(bin, "agent", "--static-pods", "/nonexistent-berth-dir").CombinedOutput(); err == nil || len(out) == 0 {
			t.Errorf("CGO_ENABLED=%s build: %v %s", tt.cgo, err, out)
		}
	}
}
