package workloads

import (
	"fmt"
	"strings"

	"github.com/berth-io/berth/workloads/yamltree"
)

// honouredFields is the one list of the fields berth honours. berth must
// never drop a field silently: a field a manifest sets that is not listed
// here is reported as a warning, "not honoured by berth" (an error under
// --strict). Kubernetes would act on it; berth will not.
//
// Each feature that starts honouring a field adds its line here, in the same
// change; a feature that stops honouring one removes it.
//
// The format, one field per line, nested by two spaces:
//   - a top-level name is a kind, and its lines are the fields of its object;
//   - a top-level "@name" defines a shape that several places share, and
//     "field: @name" gives a field that shape's fields;
//   - a field with nothing under it is honoured whole, every key and field
//     beneath it included (labels, selector, tolerations, ...);
//   - a list is written like the items it holds (containers lists the
//     fields of a container);
//   - "#" starts a comment.
//
// Only the outermost field that is not honoured is reported. Fields set to
// null, {} or [] are not reported: they ask for nothing. A field whose name
// the kind does not have is not reported either; decoding rejects it.
const honouredFields = `
@metadata
  name
  namespace
  labels
  annotations
  generateName
  # uid, resourceVersion, ownerReferences, finalizers, ... are the server's
  # or berth's own to set.

@templateMetadata
  labels
  annotations

@podTemplate
  metadata: @templateMetadata
  spec: @podSpec

@podSpec
  containers: @container
  initContainers: @container
  volumes
    name
    emptyDir
      medium
      sizeLimit
    hostPath
    configMap
      name
      items
      defaultMode
      optional
    secret
      secretName
      items
      defaultMode
      optional
  restartPolicy
  terminationGracePeriodSeconds
  activeDeadlineSeconds
  nodeName
  nodeSelector
  affinity
    nodeAffinity
    podAffinity
    podAntiAffinity
  tolerations
  hostNetwork
  # The container's UTS hostname. subdomain is not here: it only names DNS
  # records, and berth has no cluster DNS.
  hostname
  imagePullSecrets

@container
  name
  image
  imagePullPolicy
  command
  args
  workingDir
  env
    name
    value
    valueFrom
      configMapKeyRef
      secretKeyRef
      fieldRef
  envFrom
    configMapRef
    secretRef
    prefix
  ports
    name
    containerPort
    hostPort
    protocol
  resources
    limits
    requests
  volumeMounts
    name
    mountPath
    readOnly
    subPath
  livenessProbe: @probe
  readinessProbe: @probe
  startupProbe: @probe
  lifecycle
    postStart: @handler
    preStop: @handler

@probe
  exec
  httpGet: @httpGet
  tcpSocket
  initialDelaySeconds
  periodSeconds
  timeoutSeconds
  successThreshold
  failureThreshold
  terminationGracePeriodSeconds

@handler
  exec
  httpGet: @httpGet

@httpGet
  path
  port
  host
  scheme
  httpHeaders

@jobSpec
  parallelism
  completions
  completionMode
  backoffLimit
  activeDeadlineSeconds
  suspend
  ttlSecondsAfterFinished
  selector
  manualSelector
  template: @podTemplate

Namespace
  apiVersion
  kind
  metadata: @metadata

ConfigMap
  apiVersion
  kind
  metadata: @metadata
  data
  binaryData
  immutable

Secret
  apiVersion
  kind
  metadata: @metadata
  type
  data
  stringData
  immutable

Pod
  apiVersion
  kind
  metadata: @metadata
  spec: @podSpec

Service
  apiVersion
  kind
  metadata: @metadata
  spec
    type
    selector
    clusterIP
    ports
      name
      port
      targetPort
      protocol
      nodePort

Deployment
  apiVersion
  kind
  metadata: @metadata
  spec
    replicas
    selector
    template: @podTemplate
    strategy
      type
      rollingUpdate
        maxSurge
        maxUnavailable
    minReadySeconds
    revisionHistoryLimit
    progressDeadlineSeconds
    paused

ReplicaSet
  apiVersion
  kind
  metadata: @metadata
  spec
    replicas
    selector
    template: @podTemplate
    minReadySeconds

DaemonSet
  apiVersion
  kind
  metadata: @metadata
  spec
    selector
    template: @podTemplate
    updateStrategy
      type
      rollingUpdate
        maxUnavailable
        maxSurge
    minReadySeconds
    revisionHistoryLimit

StatefulSet
  apiVersion
  kind
  metadata: @metadata
  spec
    replicas
    selector
    serviceName
    template: @podTemplate
    updateStrategy
    podManagementPolicy
    revisionHistoryLimit
    minReadySeconds
    # volumeClaimTemplates: berth has no persistent volumes.

Job
  apiVersion
  kind
  metadata: @metadata
  spec: @jobSpec

CronJob
  apiVersion
  kind
  metadata: @metadata
  spec
    schedule
    timeZone
    concurrencyPolicy
    startingDeadlineSeconds
    suspend
    successfulJobsHistoryLimit
    failedJobsHistoryLimit
    jobTemplate
      metadata: @templateMetadata
      spec: @jobSpec
`

// served is one field of the honoured list. A nil fields means the whole
// value is honoured; shapes are shared, so the tree is a DAG: read only.
type served struct {
	fields map[string]*served
}

// honouredKinds is honouredFields parsed, by kind. Built once; never mutated.
var honouredKinds = mustParseHonoured(honouredFields)

const notHonouredMessage = "not honoured by berth"

// notHonoured returns a warning for each field the document sets that berth
// does not honour, at the outermost such field. tree is the document as
// written, so a default never counts as set. Unknown kinds give nothing.
func notHonoured(kind string, tree *yamltree.Node) []Finding {
	root := honouredKinds[kind]
	if root == nil || tree == nil {
		return nil
	}
	var out []Finding
	walkHonoured(tree, root, nil, &out)
	return out
}

// walkHonoured reports the set fields of n that s does not list. The
// document has decoded already, so every field is one the kind has. The
// path is kept as a stack of keys and indices and only turned into a
// field.Path for a warning: this walk runs on every object of every sync.
func walkHonoured(n *yamltree.Node, s *served, path []pathSeg, out *[]Finding) {
	switch n.Kind {
	case yamltree.Seq:
		for i, item := range n.Items {
			walkHonoured(item, s, append(path, pathSeg{index: i}), out)
		}
	case yamltree.Map:
		for _, f := range n.Fields {
			sub, ok := s.fields[f.Key]
			switch {
			case !ok:
				if !setsNothing(f.Value) {
					*out = append(*out, warningAt(fieldPath(append(path, pathSeg{name: f.Key})), RuleNotHonoured, notHonouredMessage))
				}
			case sub.fields != nil:
				walkHonoured(f.Value, sub, append(path, pathSeg{name: f.Key}), out)
			}
		}
	}
}

// setsNothing: null, {} and [] set nothing (`securityContext: {}` is
// harmless); any scalar does, even one equal to the default.
func setsNothing(n *yamltree.Node) bool {
	if n == nil {
		return true
	}
	switch n.Kind {
	case yamltree.Null:
		return true
	case yamltree.Map:
		return len(n.Fields) == 0
	case yamltree.Seq:
		return len(n.Items) == 0
	}
	return false
}

// mustParseHonoured parses the list; a mistake in it is a programming error
// caught by any test of the package.
func mustParseHonoured(text string) map[string]*served {
	kinds, err := parseHonoured(text)
	if err != nil {
		panic("workloads: honouredFields: " + err.Error())
	}
	return kinds
}

// parseHonoured reads the indented list into a tree per kind, resolving
// "@shape" references (shared, not copied).
func parseHonoured(text string) (map[string]*served, error) {
	type reference struct {
		no     int
		name   string
		ref    string
		parent *served
	}
	shapes := map[string]*served{}
	kinds := map[string]*served{}
	var refs []reference // fields given a shape, resolved once all are read
	var stack []*served
	for no, raw := range strings.Split(text, "\n") {
		no++
		l, _, _ := strings.Cut(raw, "#")
		l = strings.TrimRight(l, " \t")
		if strings.TrimSpace(l) == "" {
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " "))
		if indent%2 != 0 || strings.ContainsRune(l, '\t') {
			return nil, fmt.Errorf("line %d: indent by two spaces", no)
		}
		depth := indent / 2
		if depth > len(stack) {
			return nil, fmt.Errorf("line %d: indented under nothing", no)
		}
		stack = stack[:depth]
		name, ref, hasRef := strings.Cut(strings.TrimSpace(l), ":")
		name, ref = strings.TrimSpace(name), strings.TrimSpace(ref)
		node := &served{}
		if depth == 0 {
			if hasRef {
				return nil, fmt.Errorf("line %d: a kind or shape cannot be a reference", no)
			}
			node.fields = map[string]*served{}
			table := kinds
			if strings.HasPrefix(name, "@") {
				table = shapes
			}
			if table[name] != nil {
				return nil, fmt.Errorf("line %d: %s defined twice", no, name)
			}
			table[name] = node
			stack = append(stack, node)
			continue
		}
		parent := stack[depth-1]
		if parent.fields == nil {
			parent.fields = map[string]*served{}
		}
		if parent.fields[name] != nil {
			return nil, fmt.Errorf("line %d: %s listed twice", no, name)
		}
		parent.fields[name] = node
		if hasRef {
			if !strings.HasPrefix(ref, "@") {
				return nil, fmt.Errorf("line %d: %q is not a shape (@name)", no, ref)
			}
			refs = append(refs, reference{no: no, name: name, ref: ref, parent: parent})
		}
		stack = append(stack, node)
	}
	for _, r := range refs {
		shape := shapes[r.ref]
		if shape == nil {
			return nil, fmt.Errorf("line %d: no shape %s", r.no, r.ref)
		}
		if r.parent.fields[r.name].fields != nil {
			return nil, fmt.Errorf("line %d: %s has both a shape and fields", r.no, r.name)
		}
		r.parent.fields[r.name] = shape
	}
	return kinds, nil
}
