package workloads

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/workloads/yamltree"
)

// honTree parses one YAML document into the tree notHonoured walks. It is a
// small stand-in for the real parser: scalars resolved by yaml.v3's tags,
// aliases expanded, no merge keys.
func honTree(t *testing.T, doc string) *yamltree.Node {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatalf("parsing test document: %v\n%s", err, doc)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		t.Fatalf("want exactly one document:\n%s", doc)
	}
	return honConvert(t, root.Content[0])
}

func honConvert(t *testing.T, n *yaml.Node) *yamltree.Node {
	t.Helper()
	if n.Kind == yaml.AliasNode {
		return honConvert(t, n.Alias)
	}
	out := &yamltree.Node{Pos: yamltree.Pos{Line: n.Line, Col: n.Column}, Text: n.Value}
	switch n.Kind {
	case yaml.MappingNode:
		out.Kind = yamltree.Map
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			out.Fields = append(out.Fields, yamltree.Field{
				Key: k.Value, KeyPos: yamltree.Pos{Line: k.Line, Col: k.Column}, Value: honConvert(t, n.Content[i+1]),
			})
		}
	case yaml.SequenceNode:
		out.Kind = yamltree.Seq
		for _, item := range n.Content {
			out.Items = append(out.Items, honConvert(t, item))
		}
	case yaml.ScalarNode:
		var err error
		switch n.ShortTag() {
		case "!!null":
			out.Kind = yamltree.Null
		case "!!bool":
			out.Kind = yamltree.Bool
			out.Bool, err = strconv.ParseBool(n.Value)
		case "!!int":
			out.Kind = yamltree.Int
			out.Int, err = strconv.ParseInt(n.Value, 0, 64)
		case "!!float":
			out.Kind = yamltree.Float
			out.Float, err = strconv.ParseFloat(n.Value, 64)
		default:
			out.Kind = yamltree.String
		}
		if err != nil {
			t.Fatalf("scalar %q: %v", n.Value, err)
		}
	}
	return out
}

// honPaths runs notHonoured and returns the paths it reported, checking
// that every finding is a well-formed not-honoured warning.
func honPaths(t *testing.T, kind, doc string) []string {
	t.Helper()
	var paths []string
	for _, f := range notHonoured(kind, honTree(t, doc)) {
		if f.Severity != SeverityWarning || f.Rule != RuleNotHonoured || f.Message != "not honoured by berth" || f.Path == nil {
			t.Errorf("malformed finding %+v", f)
			continue
		}
		paths = append(paths, f.Path.String())
	}
	return paths
}

const honServedDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  labels: {app: web}
  annotations: {note: x}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
    matchExpressions: [{key: tier, operator: In, values: [front]}]
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  minReadySeconds: 5
  revisionHistoryLimit: 4
  progressDeadlineSeconds: 120
  paused: false
  template:
    metadata:
      labels: {app: web}
      annotations: {checksum: abc}
    spec:
      restartPolicy: Always
      terminationGracePeriodSeconds: 10
      activeDeadlineSeconds: 100
      nodeName: n1
      nodeSelector: {disk: ssd}
      hostNetwork: false
      hostname: web
      imagePullSecrets: [{name: reg}]
      tolerations: [{key: k, operator: Exists, effect: NoSchedule}]
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 1
            podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}
      initContainers:
      - name: init
        image: busybox
        command: [sh, -c, "true"]
      containers:
      - name: web
        image: nginx:1.25
        imagePullPolicy: IfNotPresent
        command: [nginx]
        args: [-g, daemon off;]
        workingDir: /srv
        env:
        - {name: A, value: "1"}
        - name: B
          valueFrom: {configMapKeyRef: {name: cm, key: b}}
        - name: C
          valueFrom: {secretKeyRef: {name: s, key: c, optional: true}}
        - name: D
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        envFrom:
        - configMapRef: {name: cm}
        - secretRef: {name: s}
          prefix: S_
        ports: [{name: http, containerPort: 80, hostPort: 8080, protocol: TCP}]
        resources:
          limits: {cpu: "1", memory: 1Gi}
          requests: {cpu: 100m}
        volumeMounts:
        - {name: cfg, mountPath: /etc/nginx, readOnly: true, subPath: nginx.conf}
        livenessProbe:
          httpGet:
            path: /healthz
            port: http
            host: localhost
            scheme: HTTP
            httpHeaders: [{name: X, value: y}]
          initialDelaySeconds: 5
          periodSeconds: 10
          timeoutSeconds: 1
          successThreshold: 1
          failureThreshold: 3
          terminationGracePeriodSeconds: 5
        readinessProbe:
          tcpSocket: {port: 80}
        startupProbe:
          exec: {command: [cat, /ready]}
        lifecycle:
          postStart: {exec: {command: [touch, /started]}}
          preStop: {httpGet: {path: /quit, port: 80}}
      volumes:
      - {name: scratch, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
      - {name: host, hostPath: {path: /var/log, type: Directory}}
      - name: cfg
        configMap: {name: cm, items: [{key: a, path: a, mode: 0400}], defaultMode: 0644, optional: true}
      - name: sec
        secret: {secretName: s, items: [{key: b, path: b}], defaultMode: 0600, optional: false}
`

func TestNotHonoured(t *testing.T) {
	cases := []struct {
		name string
		kind string
		doc  string
		want []string
	}{
		{"fully served Deployment", "Deployment", honServedDeployment, nil},
		{"pod securityContext and serviceAccountName", "Pod", `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  serviceAccountName: sa
  securityContext:
    seccompProfile: {type: RuntimeDefault}
  containers: [{name: c, image: a}]
`, []string{"spec.serviceAccountName", "spec.securityContext"}},
		{"only the outermost field", "Deployment", `
spec:
  template:
    spec:
      securityContext:
        runAsUser: 1
        seccompProfile: {type: RuntimeDefault}
`, []string{"spec.template.spec.securityContext"}},
		{"indices of containers", "Deployment", `
spec:
  template:
    spec:
      initContainers:
      - {name: i, image: a, restartPolicy: Always}
      containers:
      - {name: a, image: a}
      - {name: b, image: b, tty: true, stdin: true}
`, []string{
			"spec.template.spec.initContainers[0].restartPolicy",
			"spec.template.spec.containers[1].tty",
			"spec.template.spec.containers[1].stdin",
		}},
		{"empty and null values ask for nothing", "Deployment", `
metadata:
  name: d
  creationTimestamp: null
  finalizers: []
spec:
  template:
    metadata: {creationTimestamp: null}
    spec:
      securityContext: {}
      tolerations: []
      dnsConfig: ~
      containers: [{name: a, image: a, resources: {}, securityContext: {}}]
status: {}
`, nil},
		{"a scalar equal to the default still counts", "Pod", `
spec:
  hostPID: false
  dnsPolicy: ClusterFirst
  enableServiceLinks: true
  containers: [{name: a, image: a, terminationMessagePath: /dev/termination-log}]
`, []string{"spec.hostPID", "spec.dnsPolicy", "spec.enableServiceLinks", "spec.containers[0].terminationMessagePath"}},
		{"metadata beyond the served fields", "ConfigMap", `
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  generateName: c-
  uid: 1234
  resourceVersion: "5"
  ownerReferences: [{apiVersion: v1, kind: Pod, name: p, uid: u}]
data: {a: b}
binaryData: {b: AA==}
immutable: true
`, []string{"metadata.uid", "metadata.resourceVersion", "metadata.ownerReferences"}},
		{"volume types other than the served ones", "Pod", `
spec:
  containers:
  - name: a
    image: a
    volumeMounts: [{name: data, mountPath: /d, mountPropagation: Bidirectional}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
  - {name: tok, projected: {sources: [{serviceAccountToken: {path: t}}]}}
  - {name: info, downwardAPI: {items: [{path: l, fieldRef: {fieldPath: metadata.labels}}]}}
  - {name: ok, emptyDir: {}}
`, []string{
			"spec.containers[0].volumeMounts[0].mountPropagation",
			"spec.volumes[0].persistentVolumeClaim",
			"spec.volumes[1].projected",
			"spec.volumes[2].downwardAPI",
		}},
		{"probe grpc and lifecycle sleep", "Pod", `
spec:
  containers:
  - name: a
    image: a
    livenessProbe: {grpc: {port: 9000}}
    lifecycle: {preStop: {sleep: {seconds: 5}}}
`, []string{"spec.containers[0].livenessProbe.grpc", "spec.containers[0].lifecycle.preStop.sleep"}},
		{"env valueFrom resourceFieldRef", "Pod", `
spec:
  containers:
  - name: a
    image: a
    env: [{name: M, valueFrom: {resourceFieldRef: {resource: limits.memory}}}]
`, []string{"spec.containers[0].env[0].valueFrom.resourceFieldRef"}},
		{"pod scheduling fields not served", "Pod", `
spec:
  priorityClassName: high
  topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]
  runtimeClassName: gvisor
  subdomain: web
  containers: [{name: a, image: a}]
`, []string{"spec.priorityClassName", "spec.topologySpreadConstraints", "spec.runtimeClassName", "spec.subdomain"}},
		{"StatefulSet volumeClaimTemplates", "StatefulSet", `
spec:
  serviceName: db
  podManagementPolicy: Parallel
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1}}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}
  volumeClaimTemplates: [{metadata: {name: data}}]
  template: {spec: {containers: [{name: a, image: a}]}}
`, []string{"spec.persistentVolumeClaimRetentionPolicy", "spec.volumeClaimTemplates"}},
		{"Job fields", "Job", `
spec:
  parallelism: 2
  completions: 4
  completionMode: Indexed
  backoffLimit: 3
  backoffLimitPerIndex: 1
  activeDeadlineSeconds: 60
  suspend: false
  ttlSecondsAfterFinished: 100
  manualSelector: true
  selector: {matchLabels: {a: b}}
  podFailurePolicy: {rules: [{action: Ignore, onExitCodes: {operator: In, values: [1]}}]}
  template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}
`, []string{"spec.backoffLimitPerIndex", "spec.podFailurePolicy"}},
		{"CronJob fields and its job template", "CronJob", `
spec:
  schedule: "@hourly"
  timeZone: Europe/Paris
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 10
  suspend: false
  successfulJobsHistoryLimit: 1
  failedJobsHistoryLimit: 1
  jobTemplate:
    metadata: {labels: {a: b}, name: x}
    spec:
      backoffLimit: 1
      template:
        spec:
          restartPolicy: OnFailure
          serviceAccountName: sa
          containers: [{name: a, image: a}]
`, []string{"spec.jobTemplate.metadata.name", "spec.jobTemplate.spec.template.spec.serviceAccountName"}},
		{"Service", "Service", `
spec:
  type: NodePort
  selector: {app: a}
  clusterIP: 10.0.0.1
  sessionAffinity: ClientIP
  ports: [{name: http, port: 80, targetPort: http, protocol: TCP, nodePort: 30080, appProtocol: http}]
`, []string{"spec.sessionAffinity", "spec.ports[0].appProtocol"}},
		{"Secret", "Secret", `
apiVersion: v1
kind: Secret
metadata: {name: s}
type: Opaque
data: {a: YQ==}
stringData: {b: b}
immutable: false
`, nil},
		{"Namespace is metadata only", "Namespace", `
apiVersion: v1
kind: Namespace
metadata: {name: n, labels: {a: b}}
spec: {finalizers: [kubernetes]}
`, []string{"spec"}},
		{"DaemonSet spec is all served", "DaemonSet", `
spec:
  selector: {matchLabels: {a: b}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1, maxSurge: 0}}
  minReadySeconds: 1
  revisionHistoryLimit: 1
`, nil},
		{"ReplicaSet spec is all served", "ReplicaSet", `
spec:
  replicas: 2
  minReadySeconds: 1
  selector: {matchLabels: {a: b}}
  template: {metadata: {name: t, labels: {a: b}}, spec: {containers: [{name: a, image: a}]}}
`, []string{"spec.template.metadata.name"}},
		{"unserved kind", "ServiceAccount", `{metadata: {name: sa}, automountServiceAccountToken: false}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := honPaths(t, tc.kind, tc.doc)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("not honoured:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNotHonouredNodeExporter(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus", "real-world", "kube-prometheus__nodeExporter-daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"spec.template.spec.automountServiceAccountToken",
		"spec.template.spec.containers[0].securityContext",
		"spec.template.spec.containers[0].volumeMounts[0].mountPropagation",
		"spec.template.spec.containers[0].volumeMounts[1].mountPropagation",
		"spec.template.spec.containers[1].securityContext",
		"spec.template.spec.hostPID",
		"spec.template.spec.priorityClassName",
		"spec.template.spec.securityContext",
		"spec.template.spec.serviceAccountName",
	}
	if got := honPaths(t, "DaemonSet", string(raw)); !reflect.DeepEqual(got, want) {
		t.Errorf("not honoured:\n got %q\nwant %q", got, want)
	}
}

func TestNotHonouredNilTree(t *testing.T) {
	if got := notHonoured("Deployment", nil); got != nil {
		t.Errorf("nil tree gave %v", got)
	}
}

// TestHonouredFieldsExist checks the list against the Go types: a misspelt
// field in honouredFields would otherwise silently honour nothing.
func TestHonouredFieldsExist(t *testing.T) {
	if len(honouredKinds) != len(honouredTypes) {
		t.Errorf("%d kinds listed, %d with a Go type", len(honouredKinds), len(honouredTypes))
	}
	var check func(path string, s *served, typ reflect.Type)
	check = func(path string, s *served, typ reflect.Type) {
		typ = typeDeref(typ)
		if typ.Kind() == reflect.Slice {
			typ = typeDeref(typ.Elem())
		}
		if typ.Kind() != reflect.Struct {
			t.Errorf("%s lists fields, but is a %s", path, typ)
			return
		}
		for name, sub := range s.fields {
			ft, ok := jsonStructField(typ, name)
			if !ok {
				t.Errorf("%s.%s: no such field in %s", path, name, typ)
				continue
			}
			if sub.fields != nil {
				check(path+"."+name, sub, ft)
			}
		}
	}
	for kind, s := range honouredKinds {
		typ, ok := honouredTypes[kind]
		if !ok {
			t.Errorf("kind %s has no Go type", kind)
			continue
		}
		check(kind, s, typ)
	}
}

func TestParseHonoured(t *testing.T) {
	cases := []struct {
		name, text, err string
	}{
		{"ok", "@s\n  a\nK\n  x: @s\n  y\n    z # comment\n", ""},
		{"odd indent", "K\n   a\n", "indent by two spaces"},
		{"tab", "K\n\ta\n", "indent by two spaces"},
		{"orphan", "K\n    a\n", "indented under nothing"},
		{"unknown shape", "K\n  a: @nope\n", "no shape @nope"},
		{"not a shape", "K\n  a: b\n", "is not a shape"},
		{"shape and fields", "@s\n  a\nK\n  x: @s\n    y\n", "both a shape and fields"},
		{"duplicate field", "K\n  a\n  a\n", "listed twice"},
		{"duplicate kind", "K\nK\n", "defined twice"},
		{"kind as reference", "K: @s\n", "cannot be a reference"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kinds, err := parseHonoured(tc.text)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error = %v, want one containing %q", err, tc.err)
			case tc.err == "":
				k := kinds["K"]
				if k == nil || k.fields["x"] == nil || k.fields["x"].fields["a"] == nil || k.fields["y"].fields["z"] == nil {
					t.Errorf("parsed tree wrong: %+v", k)
				}
				if k.fields["y"].fields["z"].fields != nil {
					t.Error("a leaf must be honoured whole (nil fields)")
				}
			}
		})
	}
}

// honouredTypes are the Go types of the kinds in honouredFields. The test
// checks that every field the list names exists in them.
var honouredTypes = map[string]reflect.Type{
	"Namespace":   reflect.TypeFor[corev1.Namespace](),
	"ConfigMap":   reflect.TypeFor[corev1.ConfigMap](),
	"Secret":      reflect.TypeFor[corev1.Secret](),
	"Pod":         reflect.TypeFor[corev1.Pod](),
	"Service":     reflect.TypeFor[corev1.Service](),
	"Deployment":  reflect.TypeFor[appsv1.Deployment](),
	"ReplicaSet":  reflect.TypeFor[appsv1.ReplicaSet](),
	"DaemonSet":   reflect.TypeFor[appsv1.DaemonSet](),
	"StatefulSet": reflect.TypeFor[appsv1.StatefulSet](),
	"Job":         reflect.TypeFor[batchv1.Job](),
	"CronJob":     reflect.TypeFor[batchv1.CronJob](),
}

func typeDeref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonFieldType returns the type of the field a JSON key names in a value of
// type t, and whether t has it. When the type is not known, or is a map,
// every key counts as known.
func jsonFieldType(t reflect.Type, key string) (reflect.Type, bool) {
	t = typeDeref(t)
	switch {
	case t == nil:
		return nil, true
	case t.Kind() == reflect.Map:
		return t.Elem(), true
	case t.Kind() != reflect.Struct:
		return nil, true
	}
	return jsonStructField(t, key)
}

func jsonStructField(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		// Inlined structs (TypeMeta, EphemeralContainerCommon) contribute
		// their fields to the enclosing object.
		if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
			if inner := typeDeref(f.Type); inner.Kind() == reflect.Struct {
				if ft, ok := jsonStructField(inner, key); ok {
					return ft, true
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f.Type, true
		}
	}
	return nil, false
}
