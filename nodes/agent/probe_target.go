package agent

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// podHost is where probes and hooks reach a pod: its sandbox's IP, or
// loopback for a hostNetwork pod (it shares the node's network).
func podHost(pod *corev1.Pod, sandboxIP string) (string, error) {
	switch {
	case pod.Spec.HostNetwork:
		return "127.0.0.1", nil
	case sandboxIP != "":
		return sandboxIP, nil
	}
	return "", fmt.Errorf("pod %s/%s has no IP to probe", pod.Namespace, pod.Name)
}

// resolvePort turns a probe's or hook's port (a number, or the name of
// one of the container's ports) into a port number, as kubelet does.
func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	port := -1
	if p.Type == intstr.String {
		if n, err := strconv.Atoi(p.StrVal); err == nil {
			port = n
		} else {
			for _, cp := range c.Ports {
				if cp.Name == p.StrVal {
					port = int(cp.ContainerPort)
					break
				}
			}
			if port < 0 {
				return 0, fmt.Errorf("couldn't find port: %s in container %q", p.StrVal, c.Name)
			}
		}
	} else {
		port = int(p.IntVal)
	}
	if port <= 0 || port > 65535 {
		return 0, fmt.Errorf("invalid port number: %d", port)
	}
	return port, nil
}

// httpURL builds the URL and headers of an httpGet probe or hook.
func httpURL(pod *corev1.Pod, sandboxIP string, c *corev1.Container, h *corev1.HTTPGetAction) (*url.URL, http.Header, error) {
	host := h.Host
	if host == "" {
		var err error
		if host, err = podHost(pod, sandboxIP); err != nil {
			return nil, nil, err
		}
	}
	port, err := resolvePort(h.Port, c)
	if err != nil {
		return nil, nil, err
	}
	path := h.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u, err := url.Parse(path)
	if err != nil {
		return nil, nil, fmt.Errorf("bad httpGet path %q: %w", h.Path, err)
	}
	u.Scheme = strings.ToLower(string(h.Scheme))
	if u.Scheme == "" {
		u.Scheme = "http"
	}
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))
	hdr := http.Header{}
	for _, x := range h.HTTPHeaders {
		hdr.Add(x.Name, x.Value)
	}
	return u, hdr, nil
}

// tcpAddress is the host:port of a tcpSocket probe.
func tcpAddress(pod *corev1.Pod, sandboxIP string, c *corev1.Container, t *corev1.TCPSocketAction) (string, error) {
	host := t.Host
	if host == "" {
		var err error
		if host, err = podHost(pod, sandboxIP); err != nil {
			return "", err
		}
	}
	port, err := resolvePort(t.Port, c)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}
