package api

import (
	"fmt"
	"strings"

	"github.com/berth-io/berth/reconciler/store"
)

// resource is one kind as the API serves it: where its URLs live.
type resource struct {
	kind       string // "Deployment"
	group      string // "apps"; "" for the core group
	version    string // "v1"
	apiVersion string // "apps/v1"; "v1" for the core group
	plural     string // "deployments"
	namespaced bool
}

// qualified is the resource as Kubernetes names it in messages:
// "deployments.apps", "pods".
func (r *resource) qualified() string {
	if r.group == "" {
		return r.plural
	}
	return r.plural + "." + r.group
}

// prefix is the root of the resource's URLs: "/api/v1", "/apis/apps/v1".
func (r *resource) prefix() string { return versionPrefix(r.group, r.version) }

func versionPrefix(group, version string) string {
	if group == "" {
		return "/api/" + version
	}
	return "/apis/" + group + "/" + version
}

// plurals are Kubernetes' resource names of the kinds the store holds.
// A kind missing here is served under its lowercased name plus "s", which
// is Kubernetes' rule for regular nouns.
var plurals = map[string]string{
	"Namespace":          "namespaces",
	"ConfigMap":          "configmaps",
	"Secret":             "secrets",
	"Pod":                "pods",
	"Service":            "services",
	"Node":               "nodes",
	"Event":              "events",
	"Deployment":         "deployments",
	"ReplicaSet":         "replicasets",
	"DaemonSet":          "daemonsets",
	"StatefulSet":        "statefulsets",
	"ControllerRevision": "controllerrevisions",
	"Job":                "jobs",
	"CronJob":            "cronjobs",
	"Source":             "sources",
}

// Plural returns Kubernetes' resource name of kind ("deployments").
func Plural(kind string) string {
	if p, ok := plurals[kind]; ok {
		return p
	}
	return strings.ToLower(kind) + "s"
}

// resources indexes the kinds the store holds.
type resources struct {
	byKind map[string]*resource
	// byPath is keyed by "group/version/plural" ("/v1/pods" for core).
	byPath map[string]*resource
	// byPlural ignores the group: rollout actions name the object's
	// plural under berth.io's own group.
	byPlural map[string]*resource
}

func newResources() (*resources, error) {
	rs := &resources{byKind: map[string]*resource{}, byPath: map[string]*resource{}, byPlural: map[string]*resource{}}
	for _, kind := range store.Kinds() {
		obj, err := store.New(kind)
		if err != nil {
			return nil, err
		}
		gvk := obj.GetObjectKind().GroupVersionKind()
		r := &resource{
			kind:       kind,
			group:      gvk.Group,
			version:    gvk.Version,
			apiVersion: gvk.GroupVersion().String(),
			plural:     Plural(kind),
			namespaced: store.Namespaced(kind),
		}
		rs.byKind[kind] = r
		rs.byPath[r.group+"/"+r.version+"/"+r.plural] = r
		if _, dup := rs.byPlural[r.plural]; dup {
			return nil, fmt.Errorf("api: two kinds share the plural %q", r.plural)
		}
		rs.byPlural[r.plural] = r
	}
	return rs, nil
}

// ResourcePath returns the URL path of kind's objects: one object when
// name is set, else the list (of namespace; of all namespaces when
// namespace is ""). Cluster-scoped kinds ignore namespace.
func ResourcePath(kind, namespace, name string) (string, error) {
	obj, err := store.New(kind)
	if err != nil {
		return "", err
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	p := versionPrefix(gvk.Group, gvk.Version)
	if store.Namespaced(kind) && namespace != "" {
		p += "/namespaces/" + namespace
	}
	p += "/" + Plural(kind)
	if name != "" {
		p += "/" + name
	}
	return p, nil
}

// ActionPath returns the URL path of a berth action on one object
// ("rollout/undo"): /apis/berth.io/v1/namespaces/NS/PLURAL/NAME/ACTION.
func ActionPath(kind, namespace, name, action string) string {
	p := "/apis/berth.io/v1"
	if store.Namespaced(kind) {
		p += "/namespaces/" + namespace
	}
	return p + "/" + Plural(kind) + "/" + name + "/" + action
}

// request is a parsed resource URL.
type request struct {
	group, version string
	// namespace is the {ns} of /namespaces/{ns}/...; "" when the path has
	// none.
	namespace string
	plural    string
	name      string
	// sub is what follows the name: ["status"], ["log"], ["rollout","undo"].
	sub []string
}

// parsePath splits a resource URL:
//
//	/api/v1/PLURAL[/NAME[/SUB...]]
//	/api/v1/namespaces/NS/PLURAL[/NAME[/SUB...]]
//	/apis/GROUP/VERSION/... likewise
//
// /api/v1/namespaces/NAME[/SUB] is the Namespace itself, unless the
// segment after NAME is the plural of a namespaced kind.
func (rs *resources) parsePath(path string) (request, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, s := range segs {
		if s == "" {
			return request{}, false
		}
	}
	var req request
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		req.version, segs = segs[1], segs[2:]
	case len(segs) >= 3 && segs[0] == "apis":
		req.group, req.version, segs = segs[1], segs[2], segs[3:]
	default:
		return request{}, false
	}
	if len(segs) >= 3 && segs[0] == "namespaces" {
		if _, ok := rs.byPlural[segs[2]]; ok {
			req.namespace, segs = segs[1], segs[2:]
		}
	}
	if len(segs) == 0 {
		return request{}, false
	}
	req.plural = segs[0]
	if len(segs) > 1 {
		req.name = segs[1]
		req.sub = segs[2:]
	}
	return req, true
}

// lookup finds the resource a parsed path names in its own group.
func (rs *resources) lookup(req request) *resource {
	return rs.byPath[req.group+"/"+req.version+"/"+req.plural]
}
