package containerd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
)

// sandboxRecord is what StateDir/sandboxes/<id>.json keeps of a sandbox: a
// file, not a containerd object, because a sandbox here is no process
// (the netns is a bind mount) and a file survives agent and containerd
// restarts alike.
type sandboxRecord struct {
	Info        nodes.PodSandbox
	NetNS       string `json:",omitempty"`
	HostNetwork bool   `json:",omitempty"`
	Hostname    string
	LogDir      string
	Pod         *corev1.Pod
}

func sandboxDir(stateDir string) string { return filepath.Join(stateDir, "sandboxes") }

func (r *Runtime) sandboxFile(id string) string {
	return filepath.Join(sandboxDir(r.opts.StateDir), id+".json")
}

// sandboxFiles is the directory of a sandbox's /etc/hosts, resolv.conf and
// hostname.
func (r *Runtime) sandboxFiles(id string) string {
	return filepath.Join(sandboxDir(r.opts.StateDir), id)
}

// RunPodSandbox sets up the pod's network (or uses the host's), writes its
// /etc files and records it.
func (r *Runtime) RunPodSandbox(ctx context.Context, config *nodes.PodSandboxConfig) (nodes.PodSandbox, error) {
	pod := config.Pod
	if pod == nil {
		return nodes.PodSandbox{}, errors.New("RunPodSandbox: no pod")
	}
	id := newID()
	rec := &sandboxRecord{
		Info: nodes.PodSandbox{
			ID: id, Name: pod.Name, Namespace: pod.Namespace, UID: string(pod.UID),
			Attempt: config.Attempt, State: nodes.SandboxReady, CreatedAt: time.Now(),
			Labels: maps.Clone(config.Labels), Annotations: maps.Clone(config.Annotations),
		},
		HostNetwork: pod.Spec.HostNetwork,
		Hostname:    podHostname(pod),
		LogDir:      config.LogDirectory,
		Pod:         pod,
	}
	if rec.LogDir == "" {
		rec.LogDir = filepath.Join(r.opts.LogDir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
	}
	if !rec.HostNetwork {
		if r.opts.Network == nil {
			return nodes.PodSandbox{}, errors.New("pod network is not configured on this node: only hostNetwork pods can run")
		}
		netns, ips, err := r.opts.Network.Setup(ctx, id, pod)
		if err != nil {
			return nodes.PodSandbox{}, fmt.Errorf("set up pod network: %w", err)
		}
		rec.NetNS, rec.Info.IPs = netns, ips
		if len(ips) > 0 {
			rec.Info.IP = ips[0]
		}
	}
	err := r.writeSandboxFiles(rec)
	if err == nil {
		err = r.saveSandbox(rec)
	}
	if err != nil {
		if !rec.HostNetwork {
			_ = r.opts.Network.Teardown(ctx, id, rec.NetNS, pod)
		}
		_ = os.RemoveAll(r.sandboxFiles(id))
		return nodes.PodSandbox{}, err
	}
	return rec.Info, nil
}

// writeSandboxFiles writes the hosts, resolv.conf and hostname files the
// pod's containers bind-mount (hostNetwork pods use the host's).
func (r *Runtime) writeSandboxFiles(rec *sandboxRecord) error {
	dir := r.sandboxFiles(rec.Info.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
	for _, ip := range rec.Info.IPs {
		hosts += ip + "\t" + rec.Hostname + "\n"
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		resolv = nil // no DNS on the host: the pod has none either
	}
	for name, data := range map[string][]byte{
		"hosts": []byte(hosts), "resolv.conf": resolv, "hostname": []byte(rec.Hostname + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write sandbox %s: %w", name, err)
		}
	}
	return nil
}

// podHostname is spec.hostname, else the pod's name, cut to 63 bytes.
func podHostname(pod *corev1.Pod) string {
	h := pod.Spec.Hostname
	if h == "" {
		h = pod.Name
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

// StopPodSandbox kills the sandbox's containers and tears its network
// down; the record stays, NotReady.
func (r *Runtime) StopPodSandbox(ctx context.Context, sandboxID string) error {
	rec, err := r.loadSandbox(sandboxID)
	if err != nil {
		return err
	}
	cs, err := r.ListContainers(ctx, nodes.ContainerFilter{SandboxID: sandboxID})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.State == nodes.ContainerRunning || c.State == nodes.ContainerUnknown {
			if err := r.killAndWait(ctx, c.ID); err != nil {
				return err
			}
		}
	}
	if rec.Info.State == nodes.SandboxNotReady {
		return nil
	}
	if !rec.HostNetwork && r.opts.Network != nil {
		if err := r.opts.Network.Teardown(ctx, sandboxID, rec.NetNS, rec.Pod); err != nil {
			return fmt.Errorf("tear down pod network: %w", err)
		}
	}
	rec.Info.State = nodes.SandboxNotReady
	return r.saveSandbox(rec)
}

// RemovePodSandbox stops the sandbox, removes its containers and forgets
// it. The pod's log directory goes with its last sandbox when the runtime
// chose it (kubelet removes a pod's logs once the pod is gone; a sandbox
// re-created for the same pod keeps them). Removing an unknown sandbox
// succeeds.
func (r *Runtime) RemovePodSandbox(ctx context.Context, sandboxID string) error {
	rec, err := r.loadSandbox(sandboxID)
	if errors.Is(err, nodes.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := r.StopPodSandbox(ctx, sandboxID); err != nil {
		if errors.Is(err, nodes.ErrNotFound) {
			return nil
		}
		return err
	}
	cs, err := r.ListContainers(ctx, nodes.ContainerFilter{SandboxID: sandboxID})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := r.RemoveContainer(ctx, c.ID); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(r.sandboxFiles(sandboxID)); err != nil {
		return err
	}
	if err := os.Remove(r.sandboxFile(sandboxID)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return r.removeLogDir(rec.LogDir)
}

// removeLogDir removes a pod's log directory if it is one the runtime made
// (under Options.LogDir) and no remaining sandbox writes there.
func (r *Runtime) removeLogDir(dir string) error {
	if filepath.Dir(dir) != filepath.Clean(r.opts.LogDir) {
		return nil // the caller's LogDirectory: theirs to manage
	}
	recs, err := r.loadSandboxes()
	if err != nil {
		return err
	}
	for _, other := range recs {
		if other.LogDir == dir {
			return nil
		}
	}
	return os.RemoveAll(dir)
}

// ListPodSandboxes lists the recorded sandboxes that match filter, oldest
// first.
func (r *Runtime) ListPodSandboxes(ctx context.Context, filter nodes.SandboxFilter) ([]nodes.PodSandbox, error) {
	if filter.ID != "" {
		rec, err := r.loadSandbox(filter.ID)
		if errors.Is(err, nodes.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return matchSandboxes([]*sandboxRecord{rec}, filter), nil
	}
	recs, err := r.loadSandboxes()
	if err != nil {
		return nil, err
	}
	return matchSandboxes(recs, filter), nil
}

func matchSandboxes(recs []*sandboxRecord, f nodes.SandboxFilter) []nodes.PodSandbox {
	var out []nodes.PodSandbox
	for _, rec := range recs {
		sb := rec.Info
		if (f.ID == "" || f.ID == sb.ID) && (f.State == "" || f.State == sb.State) && nodes.MatchLabels(sb.Labels, f.Labels) {
			out = append(out, sb)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

func (r *Runtime) saveSandbox(rec *sandboxRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	r.sbMu.Lock()
	defer r.sbMu.Unlock()
	tmp := r.sandboxFile(rec.Info.ID) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("record sandbox: %w", err)
	}
	return os.Rename(tmp, r.sandboxFile(rec.Info.ID))
}

func (r *Runtime) loadSandbox(id string) (*sandboxRecord, error) {
	if id == "" || strings.ContainsAny(id, "/.") {
		return nil, fmt.Errorf("sandbox %q: %w", id, nodes.ErrNotFound)
	}
	b, err := os.ReadFile(r.sandboxFile(id))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("sandbox %q: %w", id, nodes.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var rec sandboxRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("sandbox record %s: %w", r.sandboxFile(id), err)
	}
	return &rec, nil
}

func (r *Runtime) loadSandboxes() ([]*sandboxRecord, error) {
	ents, err := os.ReadDir(sandboxDir(r.opts.StateDir))
	if err != nil {
		return nil, err
	}
	var recs []*sandboxRecord
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		rec, err := r.loadSandbox(id)
		if errors.Is(err, nodes.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// newID is a random 32-hex-digit ID, for sandboxes and containers.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
