package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/sources"
)

// e2eServer is `berth server` on the test's machine (its own containerd,
// bridge and subnet; the API on a loopback port), with a client for the
// test and the CLI pointed at its admin.conf.
type e2eServer struct {
	*e2eNode
	cmd    *exec.Cmd
	args   []string
	conf   string // admin.conf
	url    string
	client *client.Client
}

// newE2EServer starts `berth server` with the given source arguments
// ("--git", url, ...) and waits for its API.
func newE2EServer(t testing.TB, sourceArgs ...string) *e2eServer {
	n := newE2EMachine(t)
	s := &e2eServer{e2eNode: n, conf: filepath.Join(n.dataDir, "admin.conf")}
	s.args = append([]string{"server", "--data-dir", n.dataDir, "--containerd-socket", n.socket,
		"--listen", "127.0.0.1:0", "--name", "e2e", "--pod-cidr", n.subnet, "--bridge", n.bridge}, sourceArgs...)
	n.stopServer = s.stop
	s.start()
	return s
}

// restart stops the server and starts it again on the same data dir.
func (s *e2eServer) restart() {
	s.stop()
	s.start()
}

// start starts the server and waits for its API.
func (s *e2eServer) start() {
	t, n := s.t, s.e2eNode
	os.Remove(s.conf)
	s.cmd = exec.Command(berthBinary, s.args...)
	log, err := os.Create(filepath.Join(n.dataDir, fmt.Sprintf("agent-server-%d.log", time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if cfg, err := client.ReadConfig(s.conf); err == nil {
			if c, err := client.New(cfg); err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, _, err = c.List(ctx, "Node", "", "")
				cancel()
				if err == nil {
					s.client, s.url = c, cfg.Server
					return
				}
			}
		}
		if time.Now().After(deadline) || s.cmd.ProcessState != nil {
			t.Fatalf("berth server did not serve its API within 30s\nlog:\n%s", n.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop stops the server (SIGTERM, then SIGKILL after 15s).
func (s *e2eServer) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.t.Errorf("berth server did not stop within 15s of SIGTERM")
		s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// berth runs the CLI against the server (BERTH_CONFIG = its admin.conf).
func (s *e2eServer) berth(args ...string) (stdout, stderr string, code int) {
	cmd := exec.Command(berthBinary, args...)
	cmd.Env = append(os.Environ(), "BERTH_CONFIG="+s.conf)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		s.t.Fatalf("berth %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// waitFor polls cond every 100ms until it holds; t is the (sub)test
// that waits.
func (s *e2eServer) waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s\nserver log:\n%s", timeout, what, s.tail(80))
		}
	}
}

// tail is the end of the server's log.
func (s *e2eServer) tail(lines int) string {
	l := strings.Split(s.logs(), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func (s *e2eServer) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	s.t.Cleanup(cancel)
	return ctx
}

// deployment reads a Deployment; nil when there is none.
func (s *e2eServer) deployment(name string) *appsv1.Deployment {
	obj, err := s.client.Get(s.ctx(), "Deployment", "default", name)
	if err != nil {
		return nil
	}
	return obj.(*appsv1.Deployment)
}

// source reads a Source; nil when there is none.
func (s *e2eServer) source(name string) *sources.Resource {
	obj, err := s.client.Get(s.ctx(), "Source", "", name)
	if err != nil {
		return nil
	}
	return obj.(*sources.Resource)
}

// pods lists the pods that match a label selector.
func (s *e2eServer) pods(selector string) []*corev1.Pod {
	objs, _, err := s.client.List(s.ctx(), "Pod", "default", selector)
	if err != nil {
		s.t.Fatalf("list pods: %v", err)
	}
	out := make([]*corev1.Pod, len(objs))
	for i, o := range objs {
		out[i] = o.(*corev1.Pod)
	}
	return out
}

// replicaSets lists the ReplicaSets that match a label selector.
func (s *e2eServer) replicaSets(selector string) []*appsv1.ReplicaSet {
	objs, _, err := s.client.List(s.ctx(), "ReplicaSet", "default", selector)
	if err != nil {
		s.t.Fatalf("list replicasets: %v", err)
	}
	out := make([]*appsv1.ReplicaSet, len(objs))
	for i, o := range objs {
		out[i] = o.(*appsv1.ReplicaSet)
	}
	return out
}

// rolledOut reports whether a Deployment's rollout is complete: the
// controller saw its generation and every replica is updated and
// available, with no old one left.
func rolledOut(d *appsv1.Deployment) bool {
	if d == nil || d.Status.ObservedGeneration < d.Generation {
		return false
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	return d.Status.UpdatedReplicas == want && d.Status.Replicas == want && d.Status.AvailableReplicas == want
}

// readyCount counts pods that are Ready and not terminating.
func readyCount(pods []*corev1.Pod) (active, ready int) {
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		active++
		if podReady(p) {
			ready++
		}
	}
	return active, ready
}
