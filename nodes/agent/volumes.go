package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Volumes live under Config.DataDir as kubelet's do under
// /var/lib/kubelet: pods/<uid>/volumes/<plugin>/<name>. Without a DataDir
// (the fake node, the simulator) nothing is written: volumes are checked
// for what needs no filesystem and mounts carry no host path.

// volumeSetupError is a volume that could not be set up (a missing
// ConfigMap, a hostPath of the wrong type): the containers wait in
// ContainerCreating with the message, as kubelet's FailedMount.
type volumeSetupError struct {
	volume string
	err    error
}

func (e volumeSetupError) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.volume, e.err)
}

func (e volumeSetupError) Unwrap() error { return e.err }

// podVolume is one set-up volume.
type podVolume struct {
	path     string // on the host ("" without a DataDir)
	readOnly bool   // always mounted read-only (configMap, secret)
	// unsupported, when set, says why the volume cannot be mounted; it
	// fails only the containers that mount it.
	unsupported string
}

const (
	pluginEmptyDir  = "kubernetes.io~empty-dir"
	pluginConfigMap = "kubernetes.io~configmap"
	pluginSecret    = "kubernetes.io~secret"
)

// podDir is the pod's own directory under the data dir.
func (a *Agent) podDir(uid string) string {
	return filepath.Join(a.opts.DataDir, "pods", uid)
}

func (a *Agent) volumeDir(uid, plugin, name string) string {
	return filepath.Join(a.podDir(uid), "volumes", plugin, name)
}

// setupVolumes makes every volume of the pod ready to mount: emptyDirs
// created (tmpfs for medium Memory when root), hostPaths checked against
// their type, configMap and secret files written atomically. It is
// idempotent and runs before containers start, so configMap and secret
// changes reach restarted containers.
func (a *Agent) setupVolumes(ctx context.Context, r *podRun) (map[string]podVolume, error) {
	vols := map[string]podVolume{}
	dry := a.opts.DataDir == ""
	src := a.sources(ctx, r.pod.Namespace)
	uid := string(r.pod.UID)
	for i := range r.pod.Spec.Volumes {
		v := &r.pod.Spec.Volumes[i]
		var pv podVolume
		var err error
		switch {
		case v.EmptyDir != nil:
			if !dry {
				pv.path = a.volumeDir(uid, pluginEmptyDir, v.Name)
				err = setupEmptyDir(pv.path, v.EmptyDir)
			}
		case v.HostPath != nil:
			pv.path = filepath.Clean(v.HostPath.Path)
			if !dry {
				err = checkHostPath(pv.path, v.HostPath.Type)
			}
		case v.ConfigMap != nil:
			pv.readOnly = true
			if !dry {
				pv.path = a.volumeDir(uid, pluginConfigMap, v.Name)
				err = a.setupConfigMap(src, pv.path, v.ConfigMap)
			}
		case v.Secret != nil:
			pv.readOnly = true
			if !dry {
				pv.path = a.volumeDir(uid, pluginSecret, v.Name)
				err = a.setupSecret(src, pv.path, v.Secret)
			}
		default:
			pv.unsupported = fmt.Sprintf("volume %q: berth supports emptyDir, hostPath, configMap and secret volumes only", v.Name)
		}
		if err != nil {
			return nil, volumeSetupError{volume: v.Name, err: err}
		}
		vols[v.Name] = pv
	}
	return vols, nil
}

func setupEmptyDir(dir string, ed *corev1.EmptyDirVolumeSource) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	// Like kubelet: world-writable, so that any container user can use it.
	if err := os.Chmod(dir, 0o777); err != nil {
		return err
	}
	if ed.Medium == corev1.StorageMediumMemory && os.Geteuid() == 0 {
		var size int64
		if ed.SizeLimit != nil {
			size = ed.SizeLimit.Value()
		}
		return mountTmpfs(dir, size)
	}
	return nil
}

// checkHostPath applies kubelet's hostPath type checks.
func checkHostPath(path string, typ *corev1.HostPathType) error {
	if typ == nil || *typ == corev1.HostPathUnset {
		return nil
	}
	fi, statErr := os.Stat(path)
	exists := statErr == nil
	switch *typ {
	case corev1.HostPathDirectoryOrCreate:
		if !exists {
			return os.MkdirAll(path, 0o755)
		}
		fallthrough
	case corev1.HostPathDirectory:
		if !exists || !fi.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", path)
		}
	case corev1.HostPathFileOrCreate:
		if !exists {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o644)
			if err != nil {
				return err
			}
			return f.Close()
		}
		fallthrough
	case corev1.HostPathFile:
		if !exists || !fi.Mode().IsRegular() {
			return fmt.Errorf("hostPath type check failed: %s is not a file", path)
		}
	case corev1.HostPathSocket:
		if !exists || fi.Mode()&os.ModeSocket == 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a socket file", path)
		}
	case corev1.HostPathCharDev:
		if !exists || fi.Mode()&os.ModeCharDevice == 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a character device", path)
		}
	case corev1.HostPathBlockDev:
		if !exists || fi.Mode()&os.ModeDevice == 0 || fi.Mode()&os.ModeCharDevice != 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a block device", path)
		}
	default:
		return fmt.Errorf("%s is an invalid volume type", *typ)
	}
	return nil
}

// projection is what to write into a configMap or secret volume.
type projection map[string]projectedFile

type projectedFile struct {
	data []byte
	mode os.FileMode
}

// project turns keys (or the items chosen) into files, as kubelet's
// configMap and secret volumes do.
func project(data map[string][]byte, items []corev1.KeyToPath, defaultMode *int32, optional bool, what, name string) (projection, error) {
	mode := os.FileMode(0o644)
	if defaultMode != nil {
		mode = os.FileMode(*defaultMode) & os.ModePerm
	}
	files := projection{}
	if len(items) == 0 {
		for k, v := range data {
			files[k] = projectedFile{data: v, mode: mode}
		}
		return files, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			if what == "secret" {
				return nil, fmt.Errorf("secret %q references non-existent secret key: %s", name, it.Key)
			}
			return nil, fmt.Errorf("configmap %q references non-existent config key: %s", name, it.Key)
		}
		if err := relativeNoBacksteps(it.Path); err != nil {
			return nil, fmt.Errorf("item path %q: %w", it.Path, err)
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(*it.Mode) & os.ModePerm
		}
		files[filepath.Clean(it.Path)] = projectedFile{data: v, mode: m}
	}
	return files, nil
}

func (a *Agent) setupConfigMap(src *envSources, dir string, v *corev1.ConfigMapVolumeSource) error {
	cm, err := src.configMap(v.Name, v.Optional)
	if err != nil {
		return err
	}
	data := map[string][]byte{}
	if cm != nil {
		for k, s := range cm.Data {
			data[k] = []byte(s)
		}
		for k, b := range cm.BinaryData {
			data[k] = b
		}
	}
	files, err := project(data, v.Items, v.DefaultMode, v.Optional != nil && *v.Optional, "configmap", v.Name)
	if err != nil {
		return err
	}
	return writeAtomic(dir, files)
}

func (a *Agent) setupSecret(src *envSources, dir string, v *corev1.SecretVolumeSource) error {
	sec, err := src.secret(v.SecretName, v.Optional)
	if err != nil {
		return err
	}
	var data map[string][]byte
	if sec != nil {
		data = sec.Data
	}
	files, err := project(data, v.Items, v.DefaultMode, v.Optional != nil && *v.Optional, "secret", v.SecretName)
	if err != nil {
		return err
	}
	return writeAtomic(dir, files)
}

// relativeNoBacksteps refuses an absolute path or one with a ".."
// element (kubelet's ValidatePathNoBacksteps).
func relativeNoBacksteps(p string) error {
	if filepath.IsAbs(p) {
		return fmt.Errorf("must be a relative path")
	}
	for _, part := range strings.Split(filepath.ToSlash(p), "/") {
		if part == ".." {
			return fmt.Errorf("must not contain '..'")
		}
	}
	return nil
}
