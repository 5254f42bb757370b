package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes/logs"
)

// TestE2ELogs reads containers' logs back from a real node: a server's
// request lines (also while following), and the current and previous run
// of a container that exits and restarts, with older runs pruned.
func TestE2ELogs(t *testing.T) {
	n := newE2ENode(t)
	n.apply("web", `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: web, image: "berth.local/hello:v1", imagePullPolicy: Never}
`)
	n.apply("crash", `apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: "berth.local/hello:v1", imagePullPolicy: Never, args: ["--exit-after=1s", "--exit-code=1"]}
`)
	logDir := filepath.Join(n.dataDir, "logs")
	start := time.Now()

	web := n.waitPod("web", "running", time.Minute, running)
	ref := logs.Ref{Namespace: "default", Pod: "web", UID: string(web.UID), Container: "web"}
	if body := httpGet("http://" + web.Status.PodIP + ":8080/?from=logs-e2e-first"); !strings.Contains(body, "hello from") {
		t.Fatalf("GET on web: %s", body)
	}
	eventually(t, "the request line in web's log", func() (bool, string) {
		lines := readLines(t, logDir, ref, logs.Options{})
		return hasLine(lines, "stdout", "GET /?from=logs-e2e-first 200") && hasLine(lines, "stdout", "hello v1 listening on"), strings.Join(texts(lines), "\n")
	})
	for _, l := range readLines(t, logDir, ref, logs.Options{}) {
		if l.Time.Before(start.Add(-time.Minute)) || l.Time.After(time.Now()) {
			t.Errorf("line %q has time %v, not during the test", l.Text, l.Time)
		}
	}
	_, err := readLogs(logDir, ref, logs.Options{Previous: true})
	if want := `previous terminated container "web" in pod "web" not found`; err == nil || err.Error() != want || !errors.Is(err, logs.ErrNotFound) {
		t.Errorf("previous of a container that never restarted: %v, want %q", err, want)
	}

	// Following: a new request shows up while the read is under way.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	seen := make(chan struct{})
	followed := make(chan error, 1)
	go func() {
		followed <- logs.Read(ctx, logDir, ref, logs.Options{Follow: true, Poll: 100 * time.Millisecond}, func(l logs.Line) error {
			if strings.Contains(l.Text, "GET /?from=logs-e2e-followed 200") {
				close(seen)
				return errFound
			}
			return nil
		})
	}()
	go func() {
		for ctx.Err() == nil {
			httpGet("http://" + web.Status.PodIP + ":8080/?from=logs-e2e-followed")
			select {
			case <-seen:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	if err := <-followed; !errors.Is(err, errFound) {
		t.Fatalf("follow ended with %v before the request's line came", err)
	}

	// Restarts: the first exit restarts at once, the next after 10s of
	// back-off; by restartCount 2 the first run's log is pruned.
	crash := n.waitPod("crash", "restartCount 2", time.Minute, func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 2
	})
	rc := crash.Status.ContainerStatuses[0].RestartCount
	cref := logs.Ref{Namespace: "default", Pod: "crash", Container: "app"}
	eventually(t, "the previous run's exit in its log", func() (bool, string) {
		prev, err := readLogs(logDir, cref, logs.Options{Previous: true})
		if err != nil {
			return false, err.Error()
		}
		return hasLine(prev, "stdout", "hello v1 listening on") &&
			hasLine(prev, "stdout", "exiting with code 1 as told by --exit-after 1s") &&
			hasLine(prev, "stdout", "bye"), strings.Join(texts(prev), "\n")
	})
	eventually(t, "the current run's start in its log", func() (bool, string) {
		cur := readLines(t, logDir, cref, logs.Options{})
		return hasLine(cur, "stdout", "hello v1 listening on"), strings.Join(texts(cur), "\n")
	})
	runs, _ := filepath.Glob(filepath.Join(logs.PodDir(logDir, "default", "crash", string(crash.UID)), "app", "*"))
	for i := range runs {
		runs[i] = filepath.Base(runs[i])
	}
	// The status file may lag a restart behind the log files.
	want1 := []string{fmt.Sprintf("%d.log", rc-1), fmt.Sprintf("%d.log", rc)}
	want2 := []string{fmt.Sprintf("%d.log", rc), fmt.Sprintf("%d.log", rc+1)}
	if want := want1; !slices.Equal(runs, want1) && !slices.Equal(runs, want2) {
		t.Errorf("log files of the crashing container: %q, want %q (the current and previous run)", runs, want)
	}
}

var errFound = errors.New("found")

func readLogs(dir string, ref logs.Ref, opts logs.Options) ([]logs.Line, error) {
	var out []logs.Line
	err := logs.Read(context.Background(), dir, ref, opts, func(l logs.Line) error {
		out = append(out, l)
		return nil
	})
	return out, err
}

func readLines(t *testing.T, dir string, ref logs.Ref, opts logs.Options) []logs.Line {
	t.Helper()
	lines, err := readLogs(dir, ref, opts)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read logs of %s/%s: %v", ref.Pod, ref.Container, err)
	}
	return lines
}

func hasLine(lines []logs.Line, stream, text string) bool {
	for _, l := range lines {
		if l.Stream == stream && strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

func texts(lines []logs.Line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.Stream+" "+l.Text)
	}
	return out
}

// eventually retries cond for up to 10s.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last saw:\n%s", what, detail)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
