package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/reconciler/store"
)

// dockerAuth is one registry's entry in a docker config.
type dockerAuth struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Auth          string `json:"auth"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// pullAuth finds the credential for image among the pod's
// imagePullSecrets (kubernetes.io/dockerconfigjson or dockercfg), the
// first secret that names the image's registry winning; nil means an
// anonymous pull. A missing or unreadable secret is skipped (kubelet
// pulls anyway) and reported in the error.
func (a *Agent) pullAuth(ctx context.Context, pod *corev1.Pod, image string) (*nodes.AuthConfig, error) {
	if len(pod.Spec.ImagePullSecrets) == 0 {
		return nil, nil
	}
	registry := imageRegistry(image)
	var errs []error
	for _, ref := range pod.Spec.ImagePullSecrets {
		obj, err := a.opts.Store.Get(ctx, "Secret", pod.Namespace, ref.Name)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				err = fmt.Errorf("image pull secret %q not found", ref.Name)
			}
			errs = append(errs, err)
			continue
		}
		auths, err := dockerAuths(obj.(*corev1.Secret))
		if err != nil {
			errs = append(errs, fmt.Errorf("image pull secret %q: %w", ref.Name, err))
			continue
		}
		for server, au := range auths {
			if registryHost(server) != registry {
				continue
			}
			if au.Username == "" && au.Auth != "" {
				if raw, err := base64.StdEncoding.DecodeString(au.Auth); err == nil {
					au.Username, au.Password, _ = strings.Cut(string(raw), ":")
				}
			}
			return &nodes.AuthConfig{Username: au.Username, Password: au.Password, Auth: au.Auth,
				ServerAddress: server, IdentityToken: au.IdentityToken, RegistryToken: au.RegistryToken}, errors.Join(errs...)
		}
	}
	return nil, errors.Join(errs...)
}

// dockerAuths reads a pull secret's registries.
func dockerAuths(sec *corev1.Secret) (map[string]dockerAuth, error) {
	get := func(k string) []byte {
		if v, ok := sec.Data[k]; ok {
			return v
		}
		if v, ok := sec.StringData[k]; ok {
			return []byte(v)
		}
		return nil
	}
	if raw := get(corev1.DockerConfigJsonKey); raw != nil {
		var cfg struct {
			Auths map[string]dockerAuth `json:"auths"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("bad %s: %w", corev1.DockerConfigJsonKey, err)
		}
		return cfg.Auths, nil
	}
	if raw := get(corev1.DockerConfigKey); raw != nil {
		var cfg map[string]dockerAuth
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("bad %s: %w", corev1.DockerConfigKey, err)
		}
		return cfg, nil
	}
	return nil, fmt.Errorf("no %s or %s key", corev1.DockerConfigJsonKey, corev1.DockerConfigKey)
}

// imageRegistry is the registry host of an image reference (docker.io
// when it names none).
func imageRegistry(image string) string {
	first, _, ok := strings.Cut(image, "/")
	if !ok || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		return "docker.io"
	}
	return registryHost(first)
}

// registryHost normalises a docker config key ("https://index.docker.io/v1/",
// "localhost:5000") to a host.
func registryHost(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "index.docker.io", "registry-1.docker.io":
		return "docker.io"
	}
	return s
}
