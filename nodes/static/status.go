package static

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/controller"
)

// statusWriter mirrors each pod, status included, to DIR/<ns>_<name>.json
// (written atomically: a reader never sees half a file), and removes the
// file when the pod is gone.
type statusWriter struct {
	dir  string
	pods controller.Lister
}

func (w *statusWriter) Name() string { return "status-files" }

func (w *statusWriter) Sync(_ context.Context, key string) error {
	ns, name, _ := strings.Cut(key, "/")
	obj, ok := w.pods.Get(ns, name)
	if !ok {
		err := os.Remove(filepath.Join(w.dir, ns+"_"+name+".json"))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	pod := obj.(*corev1.Pod)
	data, err := json.MarshalIndent(pod, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(w.dir, ".status-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), podFile(w.dir, pod))
}
