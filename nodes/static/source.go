package static

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/workloads"
)

// source keeps the store's Pods, ConfigMaps and Secrets equal to those of
// the folder.
type source struct {
	dir   string
	node  string
	store store.Store
	log   *slog.Logger
}

// servedHere are the kinds a standalone agent takes from the folder.
var servedHere = map[string]bool{"Pod": true, "ConfigMap": true, "Secret": true}

// sync reads the folder and applies it whole, or, if any document fails to
// validate, not at all.
func (s *source) sync(ctx context.Context) error {
	want, err := s.read()
	if err != nil {
		return err
	}
	for kind := range servedHere {
		have, _, err := s.store.List(ctx, kind, store.ListOptions{})
		if err != nil {
			return err
		}
		for _, obj := range have {
			m := metaOf(obj)
			key := workloads.Key{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName()}
			if _, ok := want[key]; !ok {
				if err := s.store.Delete(ctx, kind, key.Namespace, key.Name, store.DeleteOptions{}); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				s.log.Info("static pods: removed", "object", key.String())
			}
		}
	}
	for key, obj := range want {
		if err := s.apply(ctx, key, obj); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}

// read decodes and validates the folder; any error refuses all of it.
func (s *source) read() (map[workloads.Key]store.Object, error) {
	objs, diags, sum := workloads.Load([]string{s.dir})
	var problems []string
	for _, d := range diags {
		// An empty folder is a valid desired state here: no pods.
		if d.Severity == workloads.SeverityError && d.Rule != workloads.RuleNoDocuments {
			problems = append(problems, d.String())
		}
	}
	if sum.Unreadable > 0 || len(problems) > 0 {
		return nil, fmt.Errorf("the manifests do not validate:\n  %s", strings.Join(problems, "\n  "))
	}
	out := map[workloads.Key]store.Object{}
	for _, o := range objs {
		key := o.Key()
		if !servedHere[key.Kind] {
			s.log.Warn("static pods: only Pods, ConfigMaps and Secrets run without a server; ignored", "object", key.String(), "file", o.File)
			continue
		}
		if pod, ok := o.Obj.(*corev1.Pod); ok {
			pod.Spec.NodeName = s.node
		}
		out[key] = o.Obj
	}
	return out, nil
}

// apply creates obj, or replaces the stored one when the folder changed
// it. A pod whose spec changed is replaced (pods are immutable).
func (s *source) apply(ctx context.Context, key workloads.Key, obj store.Object) error {
	cur, err := s.store.Get(ctx, key.Kind, key.Namespace, key.Name)
	if errors.Is(err, store.ErrNotFound) {
		_, err = s.store.Create(ctx, obj)
		if err == nil {
			s.log.Info("static pods: added", "object", key.String())
		}
		return err
	}
	if err != nil {
		return err
	}
	if sameDesired(cur, obj) {
		return nil
	}
	if key.Kind == "Pod" {
		// Delete now; the next sync (after the node removed it) creates
		// the new one.
		return s.store.Delete(ctx, key.Kind, key.Namespace, key.Name, store.DeleteOptions{})
	}
	metaOf(obj).SetResourceVersion(metaOf(cur).GetResourceVersion())
	_, err = s.store.Update(ctx, obj)
	return err
}

// watch follows the folder (and new sub-folders) and re-syncs after each
// burst of changes; it also re-syncs every few seconds, so that a pod
// replaced because its manifest changed comes back once the old one is
// gone.
func (s *source) watch(ctx context.Context, debounce time.Duration) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	addTree := func() {
		filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				w.Add(p)
			}
			return nil
		})
	}
	addTree()
	resync := time.NewTicker(2 * time.Second)
	defer resync.Stop()
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Op&fsnotify.Create != 0 {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					addTree()
				}
			}
			fire = time.After(debounce)
		case err := <-w.Errors:
			s.log.Error("static pods: watching the folder", "dir", s.dir, "err", err)
		case <-fire:
			fire = nil
			if err := s.sync(ctx); err != nil {
				s.log.Error("static pods: change not applied; the last good manifests keep running", "err", err)
			}
		case <-resync.C:
			if err := s.sync(ctx); err != nil && ctx.Err() == nil {
				s.log.Debug("static pods: resync", "err", err)
			}
		}
	}
}

// sameDesired reports whether the stored object already has what the
// folder asks for.
func sameDesired(stored, desired store.Object) bool {
	return equality.Semantic.DeepEqual(desiredPart(stored), desiredPart(desired))
}

// desiredPart is a copy of obj holding only what a manifest sets: the
// server's metadata and the status are cleared.
func desiredPart(obj store.Object) store.Object {
	c := obj.DeepCopyObject()
	m := metaOf(c)
	m.SetUID("")
	m.SetResourceVersion("")
	m.SetGeneration(0)
	m.SetCreationTimestamp(metav1.Time{})
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetManagedFields(nil)
	if pod, ok := c.(*corev1.Pod); ok {
		pod.Status = corev1.PodStatus{}
	}
	return c
}

func metaOf(obj store.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic("static: object without metadata: " + err.Error())
	}
	return m
}
