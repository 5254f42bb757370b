package image

import (
	"os"
	"os/exec"
	"testing"
)

// NeedRoot applies berth's skip rule for tests on real system tools: it
// skips t unless running as root with every binary on PATH, except in CI
// (CI=true), where the same condition fails the test instead.
func NeedRoot(t testing.TB, binaries ...string) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root"
	}
	for _, b := range binaries {
		if _, err := exec.LookPath(b); err != nil && why == "" {
			why = "needs " + b + " on PATH (apt-get install it)"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI may not skip this test", why)
	}
	t.Skip(why)
}
