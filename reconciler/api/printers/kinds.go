package printers

import (
	"fmt"
	"strings"
)

// Kind is a kind the CLI names on the command line, with the names
// kubectl accepts for it.
type Kind struct {
	// Kind is the Kubernetes kind, as the store and API name it.
	Kind string
	// Resource is the plural lower-case name ("deployments").
	Resource string
	// Group is the API group ("apps"; "" for the core group).
	Group string
	// Namespaced is false for nodes, namespaces and sources.
	Namespaced bool
	// aliases are the singular and short names.
	aliases []string
}

// GroupResource is the name kubectl's errors use: "deployments.apps",
// "pods" (core kinds have no group suffix).
func (k Kind) GroupResource() string {
	if k.Group == "" {
		return k.Resource
	}
	return k.Resource + "." + k.Group
}

// Ref is "deployment.apps/web", the form kubectl prints after an action
// ("deployment.apps/web rolled back").
func (k Kind) Ref(name string) string {
	singular := strings.ToLower(k.Kind)
	if k.Group != "" {
		singular += "." + k.Group
	}
	return singular + "/" + name
}

// kinds are the kinds `berth get` serves, in the order kubectl's
// discovery would list them.
var kinds = []Kind{
	{Kind: "Node", Resource: "nodes", aliases: []string{"node", "no"}},
	{Kind: "Namespace", Resource: "namespaces", aliases: []string{"namespace", "ns"}},
	{Kind: "Pod", Resource: "pods", Namespaced: true, aliases: []string{"pod", "po"}},
	{Kind: "Service", Resource: "services", Namespaced: true, aliases: []string{"service", "svc"}},
	{Kind: "ConfigMap", Resource: "configmaps", Namespaced: true, aliases: []string{"configmap", "cm"}},
	{Kind: "Secret", Resource: "secrets", Namespaced: true, aliases: []string{"secret"}},
	{Kind: "Event", Resource: "events", Namespaced: true, aliases: []string{"event", "ev"}},
	{Kind: "Deployment", Resource: "deployments", Group: "apps", Namespaced: true, aliases: []string{"deployment", "deploy"}},
	{Kind: "ReplicaSet", Resource: "replicasets", Group: "apps", Namespaced: true, aliases: []string{"replicaset", "rs"}},
	{Kind: "DaemonSet", Resource: "daemonsets", Group: "apps", Namespaced: true, aliases: []string{"daemonset", "ds"}},
	{Kind: "StatefulSet", Resource: "statefulsets", Group: "apps", Namespaced: true, aliases: []string{"statefulset", "sts"}},
	{Kind: "Job", Resource: "jobs", Group: "batch", Namespaced: true, aliases: []string{"job"}},
	{Kind: "CronJob", Resource: "cronjobs", Group: "batch", Namespaced: true, aliases: []string{"cronjob", "cj"}},
	{Kind: "Source", Resource: "sources", Group: "berth.io", aliases: []string{"source", "src"}},
}

// LookupKind resolves a kind as kubectl does: plural, singular or short
// name, any case, optionally qualified by its group ("deployments.apps").
func LookupKind(name string) (Kind, error) {
	n := strings.ToLower(name)
	for _, k := range kinds {
		for _, candidate := range append([]string{k.Resource, strings.ToLower(k.Kind)}, k.aliases...) {
			if n == candidate || (k.Group != "" && n == candidate+"."+k.Group) {
				return k, nil
			}
		}
	}
	return Kind{}, fmt.Errorf("the server doesn't have a resource type %q; berth serves %s", name, kindNames())
}

// ParseKindName reads "KIND/NAME" (deploy/web) into its kind and name.
func ParseKindName(arg string) (Kind, string, error) {
	kind, name, ok := strings.Cut(arg, "/")
	if !ok || name == "" || kind == "" {
		return Kind{}, "", fmt.Errorf("expected KIND/NAME (for example deploy/web), got %q", arg)
	}
	if strings.Contains(name, "/") {
		return Kind{}, "", fmt.Errorf("arguments in resource/name form may not have more than one slash: %q", arg)
	}
	k, err := LookupKind(kind)
	return k, name, err
}

// NotFound is kubectl's message for a missing object:
// `Error from server (NotFound): deployments.apps "web" not found`.
func NotFound(k Kind, name string) string {
	return fmt.Sprintf("Error from server (NotFound): %s %q not found", k.GroupResource(), name)
}

func kindNames() string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Resource
	}
	return strings.Join(names, ", ")
}
