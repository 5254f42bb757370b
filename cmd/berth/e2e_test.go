package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// berthBinary is built once by TestMain; the end-to-end tests run it as a
// user or a CI job would.
var berthBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-e2e")
	if err != nil {
		panic(err)
	}
	berthBinary = filepath.Join(dir, "berth")
	// Built as `make build` builds the release binary (static, stripped), so
	// the tests and benchmarks see what users run.
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", berthBinary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building berth: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runBerth runs the binary and returns its stdout, stderr and exit code.
func runBerth(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(berthBinary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errOut.String(), "goroutine ") || strings.Contains(errOut.String(), "panic:") {
		t.Fatalf("berth crashed:\n%s", errOut.String())
	}
	return out.String(), errOut.String(), code
}

const corpus = "../../workloads/testdata/corpus/real-world"

var textLine = regexp.MustCompile(`^[^:]+(:\d+:\d+)?: (error|warning): .+ \[[a-z0-9-]+\]$`)

func TestE2EValidateExitCodes(t *testing.T) {
	dir := t.TempDir()
	warnOnly := filepath.Join(dir, "warn.yaml")
	os.WriteFile(warnOnly, []byte("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\n"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"examples validate", "", []string{"validate", "../../examples"}, 0, ""},
		{"real-world corpus validates", "", []string{"validate", corpus + "/istio__bookinfo.yaml", corpus + "/website__pod-with-toleration.yaml"}, 0, "warning: ServiceAccount is not served by berth; ignored"},
		{"removed API is refused with a hint", "", []string{"validate", corpus + "/removed-api"}, 1, "use apiVersion: batch/v1"},
		{"stdin", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", []string{"validate", "-"}, 0, ""},
		{"invalid stdin", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: Web}\n", []string{"validate", "-"}, 1, "<stdin>:3:"},
		{"warnings pass", "", []string{"validate", warnOnly}, 0, "warning:"},
		{"strict fails on warnings", "", []string{"validate", "--strict", warnOnly}, 1, "error: ServiceAccount is not served"},
		{"no documents is a failure", "", []string{"validate", empty}, 1, "no Kubernetes manifests found"},
		{"missing path is an I/O error", "", []string{"validate", filepath.Join(dir, "nope.yaml")}, 2, "nope.yaml"},
		{"unknown output format is a usage error", "", []string{"validate", "-o", "xml", "../../examples"}, 2, ""},
		{"unknown flag is a usage error", "", []string{"validate", "--frobnicate"}, 2, ""},
		{"summary", "", []string{"validate", "--summary", "../../examples"}, 0, "Summary:"},
		{"version", "", []string{"version"}, 0, "berth "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runBerth(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out+errOut, tt.wantOut) {
				t.Errorf("output lacks %q:\n%s%s", tt.wantOut, out, errOut)
			}
		})
	}
}

// Text output follows SPEC.md's line format exactly.
func TestE2ETextFormat(t *testing.T) {
	out, _, _ := runBerth(t, "", "validate", "../../workloads/testdata/rules")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 20 {
		t.Fatalf("expected many findings, got:\n%s", out)
	}
	for _, l := range lines {
		if !textLine.MatchString(l) {
			t.Errorf("line does not follow FILE:LINE:COL: error|warning: MESSAGE (FIELD.PATH) [RULE]:\n%s", l)
		}
	}
}

func TestE2EMachineFormats(t *testing.T) {
	input := "../../workloads/testdata/rules"
	t.Run("json", func(t *testing.T) {
		out, _, code := runBerth(t, "", "validate", "-o", "json", input)
		var doc struct {
			Valid   bool
			Summary struct{ Documents, Errors int }
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 1 || doc.Valid || doc.Summary.Errors == 0 {
			t.Errorf("exit %d, err %v, parsed %+v:\n%.500s", code, err, doc, out)
		}
	})
	t.Run("junit", func(t *testing.T) {
		out, _, code := runBerth(t, "", "validate", "-o", "junit", input)
		var suites struct {
			Suites []struct {
				Name string `xml:"name,attr"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(out), &suites); err != nil || code != 1 || len(suites.Suites) == 0 {
			t.Errorf("exit %d, err %v:\n%.500s", code, err, out)
		}
	})
	t.Run("sarif", func(t *testing.T) {
		out, _, code := runBerth(t, "", "validate", "-o", "sarif", input)
		var log struct {
			Version string
			Runs    []struct {
				Results []struct{ RuleID string }
			}
		}
		if err := json.Unmarshal([]byte(out), &log); err != nil || code != 1 || log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) == 0 {
			t.Errorf("exit %d, err %v:\n%.500s", code, err, out)
		}
	})
}
