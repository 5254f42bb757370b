package workloads

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// The tests of validateObject build typed objects from YAML with
// sigs.k8s.io/yaml and apply by hand the few defaults the checks rely on,
// so that they do not depend on the decoder or on Default.

// valTestObject decodes one manifest of a served kind strictly.
func valTestObject(t *testing.T, doc string) runtime.Object {
	t.Helper()
	obj, err := valTestDecode([]byte(doc))
	if err != nil {
		t.Fatalf("decoding test manifest: %v\n%s", err, doc)
	}
	if obj == nil {
		t.Fatalf("test manifest is not of a served kind:\n%s", doc)
	}
	return obj
}

// valTestDecode returns nil, nil for kinds validateObject does not serve.
func valTestDecode(doc []byte) (runtime.Object, error) {
	var head struct{ APIVersion, Kind string }
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return nil, err
	}
	var obj runtime.Object
	switch head.APIVersion + "/" + head.Kind {
	case "v1/Namespace":
		obj = &corev1.Namespace{}
	case "v1/ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1/Secret":
		obj = &corev1.Secret{}
	case "v1/Pod":
		obj = &corev1.Pod{}
	case "v1/Service":
		obj = &corev1.Service{}
	case "apps/v1/Deployment":
		obj = &appsv1.Deployment{}
	case "apps/v1/ReplicaSet":
		obj = &appsv1.ReplicaSet{}
	case "apps/v1/DaemonSet":
		obj = &appsv1.DaemonSet{}
	case "apps/v1/StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "batch/v1/Job":
		obj = &batchv1.Job{}
	case "batch/v1/CronJob":
		obj = &batchv1.CronJob{}
	default:
		return nil, nil
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, err
	}
	valTestDefaults(obj)
	return obj, nil
}

// valTestDefaults applies the defaults the checks read: a pod's restart
// policy (Always, which a Job must override) and grace period, a
// Deployment's replicas.
func valTestDefaults(obj runtime.Object) {
	pod := func(s *corev1.PodSpec) {
		if s.RestartPolicy == "" {
			s.RestartPolicy = corev1.RestartPolicyAlways
		}
		if s.TerminationGracePeriodSeconds == nil {
			g := int64(corev1.DefaultTerminationGracePeriodSeconds)
			s.TerminationGracePeriodSeconds = &g
		}
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		pod(&o.Spec)
	case *appsv1.Deployment:
		if o.Spec.Replicas == nil {
			one := int32(1)
			o.Spec.Replicas = &one
		}
		pod(&o.Spec.Template.Spec)
	case *appsv1.ReplicaSet:
		pod(&o.Spec.Template.Spec)
	case *appsv1.DaemonSet:
		pod(&o.Spec.Template.Spec)
	case *appsv1.StatefulSet:
		pod(&o.Spec.Template.Spec)
	case *batchv1.Job:
		pod(&o.Spec.Template.Spec)
	case *batchv1.CronJob:
		pod(&o.Spec.JobTemplate.Spec.Template.Spec)
	}
}

// valTestErrors returns the error findings (warnings are allowed in valid
// manifests).
func valTestErrors(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Severity == SeverityError {
			out = append(out, f)
		}
	}
	return out
}

func valTestFormat(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n  %s %s [%s] %s", f.Severity, f.Path, f.Rule, f.Message)
	}
	return b.String()
}

// Manifests that must validate: small ones here, real-world ones in
// TestValidateRealWorldCorpus.
var valTestValid = map[string]string{
	"deployment": `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app.kubernetes.io/name: web}, annotations: {Example.COM/Owner: team-a}}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
    matchExpressions: [{key: tier, operator: In, values: [frontend]}]
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: "100%"}}
  progressDeadlineSeconds: 600
  minReadySeconds: 10
  template:
    metadata: {labels: {app: web, tier: frontend}}
    spec:
      initContainers:
      - {name: migrate, image: "app:1", command: [migrate]}
      - name: proxy
        image: envoy:1
        restartPolicy: Always
        readinessProbe: {tcpSocket: {port: 9901}}
      containers:
      - name: web
        image: nginx:1.27
        ports: [{name: http, containerPort: 80}, {name: metrics, containerPort: 9090, protocol: UDP}]
        env:
        - {name: A, value: x}
        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: TIER, valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}}
        - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory}}}
        - {name: PASS, valueFrom: {secretKeyRef: {name: db, key: password}}}
        envFrom: [{configMapRef: {name: web-config}, prefix: CFG_}]
        resources:
          requests: {cpu: 100m, memory: 64Mi, example.com/gpu: "1"}
          limits: {cpu: "1", memory: 128Mi, example.com/gpu: "1", hugepages-2Mi: 4Mi}
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: config, mountPath: /etc/web, readOnly: true}
        - {name: data, mountPath: /cache, subPath: cache}
        livenessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 5, successThreshold: 1}
        startupProbe: {exec: {command: ["true"]}, failureThreshold: 30}
        lifecycle: {preStop: {sleep: {seconds: 5}}}
      volumes:
      - {name: data, emptyDir: {sizeLimit: 1Gi}}
      - name: config
        projected:
          sources:
          - configMap: {name: web-config, items: [{key: nginx.conf, path: conf/nginx.conf}]}
          - secret: {name: web-tls}
      tolerations:
      - {operator: Exists}
      - {key: dedicated, operator: Equal, value: web, effect: NoExecute, tolerationSeconds: 60}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions: [{key: cpu-count, operator: Gt, values: ["4"]}, {key: gpu, operator: DoesNotExist}]
              matchFields: [{key: metadata.name, operator: NotIn, values: [node-1]}]
          preferredDuringSchedulingIgnoredDuringExecution:
          - {weight: 100, preference: {matchExpressions: [{key: zone, operator: In, values: [a]}]}}
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 1
            podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}}
      nodeSelector: {kubernetes.io/os: linux}
      hostname: web
      dnsPolicy: None
      dnsConfig: {nameservers: [10.0.0.10]}
`,
	"recreate deployment": `
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  selector: {matchLabels: {app: worker}}
  strategy: {type: Recreate}
  template:
    metadata: {labels: {app: worker}}
    spec: {containers: [{name: w, image: "worker:2"}]}
`,
	"pod with generateName": `
apiVersion: v1
kind: Pod
metadata: {generateName: debug-}
spec:
  restartPolicy: Never
  activeDeadlineSeconds: 60
  containers: [{name: sh, image: busybox:1.36, command: [sleep, "10"]}]
`,
	"daemonset surge": `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: "10%"}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers: [{name: agent, image: "agent:1", ports: [{containerPort: 9100, hostPort: 9100}]}]
`,
	"statefulset with claims": `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: db}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1, maxUnavailable: 2}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "postgres:16", volumeMounts: [{name: pgdata, mountPath: /var/lib/postgresql}]}]
  volumeClaimTemplates:
  - metadata: {name: pgdata}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`,
	"indexed job": `
apiVersion: batch/v1
kind: Job
metadata: {name: shard}
spec:
  completionMode: Indexed
  completions: 8
  parallelism: 4
  backoffLimitPerIndex: 1
  maxFailedIndexes: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: w, image: "worker:2"}]
`,
	"job with manual selector": `
apiVersion: batch/v1
kind: Job
metadata: {name: manual}
spec:
  manualSelector: true
  selector: {matchLabels: {run: manual}}
  template:
    metadata: {labels: {run: manual}}
    spec:
      restartPolicy: OnFailure
      containers: [{name: w, image: "worker:2"}]
`,
	"cronjob": `
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly-report}
spec:
  schedule: "@daily"
  timeZone: Europe/Paris
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 0
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: r, image: "report:1"}]
`,
	"cronjob every": `
apiVersion: batch/v1
kind: CronJob
metadata: {name: poll}
spec:
  schedule: "*/5 9-17 * JAN-DEC MON-FRI"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: r, image: "poll:1"}]
`,
	"services": `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http, nodePort: 30080}
  - {name: dns, port: 53, protocol: UDP, targetPort: 5353}
  - {name: dns-tcp, port: 53, protocol: TCP}
`,
	"headless service": `
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {clusterIP: None, selector: {app: db}}
`,
	"external name service": `
apiVersion: v1
kind: Service
metadata: {name: upstream}
spec: {type: ExternalName, externalName: api.example.com.}
`,
	"configmap": `
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {nginx.conf: "events {}", .hidden: x, KEY_1: y}
binaryData: {logo.png: aGVsbG8=}
`,
	"tls secret": `
apiVersion: v1
kind: Secret
metadata: {name: web-tls}
type: kubernetes.io/tls
data: {tls.crt: aGVsbG8=}
stringData: {tls.key: hello}
`,
	"docker secret": `
apiVersion: v1
kind: Secret
metadata: {name: pull}
type: kubernetes.io/dockerconfigjson
stringData: {.dockerconfigjson: '{"auths":{}}'}
`,
	"namespace": `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
`,
}

func TestValidateValidManifests(t *testing.T) {
	for name, doc := range valTestValid {
		t.Run(name, func(t *testing.T) {
			fs := validateObject(valTestObject(t, doc))
			if errs := valTestErrors(fs); len(errs) > 0 {
				t.Errorf("want no errors, got:%s", valTestFormat(errs))
			}
		})
	}
}

// valTestCase is a manifest with one mistake and the finding it must give.
type valTestCase struct {
	name string
	doc  string
	rule string
	path string
	msg  string // a substring of the message
}

// valTestDeployment is a valid Deployment with extra lines for its spec
// (indented 2 spaces) and for its container (indented 8 spaces).
func valTestDeployment(spec, container string) string {
	return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
` + container + `
` + spec
}

// valTestReplace replaces old, which must be there, in doc.
func valTestReplace(doc, old, repl string) string {
	if !strings.Contains(doc, old) {
		panic("valTestReplace: " + old + " not in test manifest")
	}
	return strings.Replace(doc, old, repl, 1)
}

func valTestPod(spec string) string {
	return `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
` + spec
}

var valTestCases = []valTestCase{
	// required
	{"no name", `{apiVersion: v1, kind: ConfigMap, metadata: {namespace: a}}`,
		RuleRequired, "metadata.name", "Required value: name or generateName is required"},
	{"no containers", valTestPod("  containers: []"), RuleRequired, "spec.containers", "Required value"},
	{"no image", valTestPod("  containers: [{name: a}]"), RuleRequired, "spec.containers[0].image", "Required value"},
	{"no container name", valTestPod("  containers: [{image: a}]"), RuleRequired, "spec.containers[0].name", "Required value"},
	{"no volume name", valTestPod("  containers: [{name: a, image: a}]\n  volumes: [{emptyDir: {}}]"),
		RuleRequired, "spec.volumes[0].name", "Required value"},
	{"no container port", valTestPod("  containers: [{name: a, image: a, ports: [{name: http}]}]"),
		RuleRequired, "spec.containers[0].ports[0].containerPort", "Required value"},
	{"no schedule", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}}
`, RuleRequired, "spec.schedule", "Required value"},
	{"cronjob without job template", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec: {schedule: "@hourly", jobTemplate: {spec: {template: {spec: {restartPolicy: Never}}}}}
`, RuleRequired, "spec.jobTemplate.spec.template.spec.containers", "Required value"},
	{"indexed job without completions", `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: {completionMode: Indexed, template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}
`, RuleRequired, "spec.completions", "Required value: when completion mode is Indexed"},
	{"secret type key", `
apiVersion: v1
kind: Secret
metadata: {name: pull}
type: kubernetes.io/dockerconfigjson
data: {config.json: e30=}
`, RuleRequired, "data[.dockerconfigjson]", "must hold the key .dockerconfigjson"},
	{"node selector terms", valTestPod(`  containers: [{name: a, image: a}]
  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}}`),
		RuleRequired, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
		"must have at least one node selector term"},

	// names
	{"subdomain name", `{apiVersion: v1, kind: ConfigMap, metadata: {name: My_Config}}`,
		RuleName, "metadata.name", `Invalid value: "My_Config": a lowercase RFC 1123 subdomain must consist of`},
	{"namespace name is a label", `{apiVersion: v1, kind: Namespace, metadata: {name: team.a}}`,
		RuleName, "metadata.name", "must not contain dots"},
	{"service name is a DNS-1035 label", `{apiVersion: v1, kind: Service, metadata: {name: 1web}, spec: {ports: [{port: 80}]}}`,
		RuleName, "metadata.name", "a DNS-1035 label must consist of lower case alphanumeric characters"},
	{"statefulset name is a label", `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db.main}
spec:
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: a, image: a}]}}
`, RuleName, "metadata.name", "must not contain dots"},
	{"namespace of object", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: Prod}}`,
		RuleName, "metadata.namespace", "a lowercase RFC 1123 label must consist of"},
	{"generateName", `{apiVersion: v1, kind: ConfigMap, metadata: {generateName: Cfg-}}`,
		RuleName, "metadata.generateName", `Invalid value: "Cfg-"`},
	{"container name", valTestPod("  containers: [{name: Web, image: a}]"),
		RuleName, "spec.containers[0].name", "a lowercase RFC 1123 label"},
	{"volume name", valTestPod("  containers: [{name: a, image: a}]\n  volumes: [{name: my_vol, emptyDir: {}}]"),
		RuleName, "spec.volumes[0].name", "a lowercase RFC 1123 label"},
	{"cronjob name length", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: a-very-long-cronjob-name-that-goes-past-fifty-two-chars}
spec:
  schedule: "@hourly"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}}
`, RuleName, "metadata.name", "must be no more than 52 characters"},
	{"indexed job host name", `
apiVersion: batch/v1
kind: Job
metadata: {name: a-job-name-that-is-exactly-sixty-three-characters-long-abcdefgh}
spec: {completionMode: Indexed, completions: 10, template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}
`, RuleName, "metadata.name", "will not able to create pod with invalid DNS label"},

	// labels and annotations
	{"label value", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, labels: {app: -web-}}}`,
		RuleLabels, "metadata.labels[app]", `Invalid value: "-web-": a valid label must be an empty string or consist of alphanumeric characters`},
	{"label key", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, labels: {"a/b/c": x}}}`,
		RuleLabels, "metadata.labels[a/b/c]", "a valid label key must consist of alphanumeric characters"},
	{"template label", valTestReplace(valTestDeployment("", ""), "{labels: {app: web}}", "{labels: {app: web, version: 1.0-}}"),
		RuleLabels, "spec.template.metadata.labels[version]", `Invalid value: "1.0-": a valid label must be an empty string or consist of`},
	{"annotation key", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, annotations: {"bad key": x}}}`,
		RuleLabels, "metadata.annotations[bad key]", `Invalid value: "bad key": name part must consist of alphanumeric characters`},
	{"annotations too large", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, annotations: {a: "` + strings.Repeat("x", 256*1024) + `"}}}`,
		RuleLabels, "metadata.annotations", "Too long: may not be more than 262144 bytes"},
	{"toleration value", valTestPod("  containers: [{name: a, image: a}]\n  tolerations: [{key: k, value: 'a b'}]"),
		RuleLabels, "spec.tolerations[0].value", "a valid label must be an empty string"},

	// selectors
	{"selector In without values", `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  selector: {matchLabels: {app: a}, matchExpressions: [{key: tier, operator: In}]}
  template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: a}]}}
`, RuleSelector, "spec.selector.matchExpressions[0].values", "Required value: must be specified when `operator` is 'In' or 'NotIn'"},
	{"selector Exists with values", `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  selector: {matchExpressions: [{key: app, operator: Exists, values: [a]}]}
  template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: a}]}}
`, RuleSelector, "spec.selector.matchExpressions[0].values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"},
	{"selector operator", `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  selector: {matchLabels: {app: a}, matchExpressions: [{key: tier, operator: in, values: [x]}]}
  template: {metadata: {labels: {app: a, tier: x}}, spec: {containers: [{name: a, image: a}]}}
`, RuleSelector, "spec.selector.matchExpressions[0].operator", "not a valid selector operator"},
	{"service selector value", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {selector: {app: "a b"}, ports: [{port: 80}]}}`,
		RuleSelector, "spec.selector[app]", "a valid label must be"},
	{"node selector key", valTestPod("  containers: [{name: a, image: a}]\n  nodeSelector: {'-bad': x}"),
		RuleSelector, "spec.nodeSelector[-bad]", "name part must consist of alphanumeric characters"},
	{"affinity label selector", valTestPod(`  containers: [{name: a, image: a}]
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {topologyKey: zone, labelSelector: {matchExpressions: [{key: app, operator: NotIn}]}}`),
		RuleSelector, "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values",
		"must be specified when `operator` is 'In' or 'NotIn'"},
	{"selector missing", `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec: {template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: a}]}}}
`, RuleSelectorMissing, "spec.selector", "Required value: apps/v1 DaemonSets need a selector"},
	{"manual job selector missing", `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: {manualSelector: true, template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}
`, RuleSelectorMissing, "spec.selector", "required when `manualSelector` is true"},
	{"selector mismatch", valTestReplace(valTestDeployment("", ""), "{matchLabels: {app: web}}", "{matchLabels: {app: api}}"),
		RuleSelectorMatch, "spec.template.metadata.labels", `Invalid value: {"app":"web"}: ` + "`selector` does not match template `labels`"},
	{"empty selector", valTestReplace(valTestDeployment("", ""), "{matchLabels: {app: web}}", "{}"),
		RuleSelectorMatch, "spec.selector", "empty selector is invalid for deployment"},
	{"statefulset selector mismatch", `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  selector: {matchExpressions: [{key: app, operator: In, values: [db]}]}
  template: {metadata: {labels: {app: cache}}, spec: {containers: [{name: a, image: a}]}}
`, RuleSelectorMatch, "spec.template.metadata.labels", "`selector` does not match template `labels`"},
	{"manual job selector mismatch", `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  manualSelector: true
  selector: {matchLabels: {run: j}}
  template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}
`, RuleSelectorMatch, "spec.template.metadata.labels", `Invalid value: {}: `},

	// rolling updates
	{"deployment surge and unavailable 0", valTestDeployment("  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}", ""),
		RuleSurgeUnavail, "spec.strategy.rollingUpdate.maxUnavailable", "Invalid value: 0: may not be 0 when `maxSurge` is 0"},
	{"deployment surge and unavailable 0%", valTestDeployment(`  strategy: {rollingUpdate: {maxSurge: "0%", maxUnavailable: "0%"}}`, ""),
		RuleSurgeUnavail, "spec.strategy.rollingUpdate.maxUnavailable", "may not be 0 when `maxSurge` is 0"},
	{"daemonset both 0", `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: a}}
  updateStrategy: {rollingUpdate: {maxUnavailable: 0}}
  template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: a}]}}
`, RuleSurgeUnavail, "spec.updateStrategy.rollingUpdate.maxUnavailable", "Required value: cannot be 0 when maxSurge is 0"},
	{"daemonset both set", `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: a}}
  updateStrategy: {rollingUpdate: {maxUnavailable: 1, maxSurge: 1}}
  template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: a}]}}
`, RuleSurgeUnavail, "spec.updateStrategy.rollingUpdate.maxSurge", "may not be set when maxUnavailable is non-zero"},
	{"percent without %", valTestDeployment(`  strategy: {rollingUpdate: {maxUnavailable: "25"}}`, ""),
		RuleIntOrPercent, "spec.strategy.rollingUpdate.maxUnavailable", `Invalid value: "25": a valid percent string must be a numeric string followed by an ending '%'`},
	{"percent over 100", valTestDeployment(`  strategy: {rollingUpdate: {maxUnavailable: "150%"}}`, ""),
		RuleIntOrPercent, "spec.strategy.rollingUpdate.maxUnavailable", "must not be greater than 100%"},
	{"negative surge", valTestDeployment(`  strategy: {rollingUpdate: {maxSurge: -1}}`, ""),
		RuleIntOrPercent, "spec.strategy.rollingUpdate.maxSurge", "Invalid value: -1: must be greater than or equal to 0"},
	{"daemonset surge over 100", `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: a}}
  updateStrategy: {rollingUpdate: {maxUnavailable: 0, maxSurge: "101%"}}
  template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: a}]}}
`, RuleIntOrPercent, "spec.updateStrategy.rollingUpdate.maxSurge", "must not be greater than 100%"},

	// non-negative
	{"replicas", valTestDeployment("  replicas: -1", ""), RuleNonNegative, "spec.replicas", "Invalid value: -1: must be greater than or equal to 0"},
	{"minReadySeconds", valTestDeployment("  minReadySeconds: -5", ""), RuleNonNegative, "spec.minReadySeconds", "must be greater than or equal to 0"},
	{"revisionHistoryLimit", valTestDeployment("  revisionHistoryLimit: -1", ""), RuleNonNegative, "spec.revisionHistoryLimit", "must be greater than or equal to 0"},
	{"backoffLimit", `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: {backoffLimit: -1, template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}
`, RuleNonNegative, "spec.backoffLimit", "must be greater than or equal to 0"},
	{"history limit", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "@hourly"
  failedJobsHistoryLimit: -1
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}}
`, RuleNonNegative, "spec.failedJobsHistoryLimit", "must be greater than or equal to 0"},
	{"probe period", valTestPod("  containers: [{name: a, image: a, readinessProbe: {exec: {command: [x]}, periodSeconds: -1}}]"),
		RuleNonNegative, "spec.containers[0].readinessProbe.periodSeconds", "must be greater than or equal to 0"},
	{"grace period", valTestPod("  terminationGracePeriodSeconds: -1\n  containers: [{name: a, image: a}]"),
		RuleNonNegative, "spec.terminationGracePeriodSeconds", "must be greater than or equal to 0"},
	{"pod deadline", valTestPod("  activeDeadlineSeconds: -1\n  containers: [{name: a, image: a}]"),
		RuleNonNegative, "spec.activeDeadlineSeconds", "must be between 1 and 2147483647, inclusive"},

	// cron
	{"schedule out of range", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "61 * * * *"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}}
`, RuleCronSchedule, "spec.schedule", `Invalid value: "61 * * * *": end of range (61) above maximum (59): 61`},
	{"schedule fields", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "0 0 * * * *"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}}
`, RuleCronSchedule, "spec.schedule", "expected exactly 5 fields, found 6"},
	{"schedule with TZ", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "CRON_TZ=UTC 0 * * * *"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}}
`, RuleCronSchedule, "spec.schedule", "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"},
	{"unknown time zone", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "@hourly"
  timeZone: Mars/Olympus_Mons
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}}
`, RuleCronTimeZone, "spec.timeZone", "unknown time zone Mars/Olympus_Mons"},
	{"local time zone", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "@hourly"
  timeZone: Local
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}}
`, RuleCronTimeZone, "spec.timeZone", "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"},
	{"empty time zone", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "@hourly"
  timeZone: ""
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}}
`, RuleCronTimeZone, "spec.timeZone", "timeZone must be nil or non-empty string"},
	{"time zone charset", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "@hourly"
  timeZone: "Europe/Paris "
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}}
`, RuleCronTimeZone, "spec.timeZone", "unknown time zone Europe/Paris "},

	// enums
	{"pull policy", valTestPod("  containers: [{name: a, image: a, imagePullPolicy: Sometimes}]"),
		RuleEnum, "spec.containers[0].imagePullPolicy", `Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"`},
	{"deployment restart policy", valTestReplace(valTestDeployment("", ""), "      containers:", "      restartPolicy: OnFailure\n      containers:"),
		RuleEnum, "spec.template.spec.restartPolicy", `Unsupported value: "OnFailure": supported values: "Always"`},
	{"pod restart policy", valTestPod("  restartPolicy: Sometimes\n  containers: [{name: a, image: a}]"),
		RuleEnum, "spec.restartPolicy", `supported values: "Always", "OnFailure", "Never"`},
	{"job restart always", `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: {template: {spec: {restartPolicy: Always, containers: [{name: a, image: a}]}}}
`, RuleEnum, "spec.template.spec.restartPolicy", `Required value: valid values: "OnFailure", "Never"`},
	{"job restart defaulted", `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: {template: {spec: {containers: [{name: a, image: a}]}}}
`, RuleEnum, "spec.template.spec.restartPolicy", `valid values: "OnFailure", "Never"`},
	{"cronjob restart", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "@hourly"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Always, containers: [{name: a, image: a}]}}}}
`, RuleEnum, "spec.jobTemplate.spec.template.spec.restartPolicy", `valid values: "OnFailure", "Never"`},
	{"concurrency policy", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "@hourly"
  concurrencyPolicy: Queue
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}}
`, RuleEnum, "spec.concurrencyPolicy", `Unsupported value: "Queue": supported values: "Allow", "Forbid", "Replace"`},
	{"protocol", valTestPod("  containers: [{name: a, image: a, ports: [{containerPort: 80, protocol: HTTP}]}]"),
		RuleEnum, "spec.containers[0].ports[0].protocol", `Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`},
	{"toleration effect", valTestPod("  containers: [{name: a, image: a}]\n  tolerations: [{key: k, operator: Exists, effect: NoRun}]"),
		RuleEnum, "spec.tolerations[0].effect", `Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`},
	{"toleration operator", valTestPod("  containers: [{name: a, image: a}]\n  tolerations: [{key: k, operator: Contains}]"),
		RuleEnum, "spec.tolerations[0].operator", `Unsupported value: "Contains": supported values: "Equal", "Exists"`},
	{"toleration exists with value", valTestPod("  containers: [{name: a, image: a}]\n  tolerations: [{key: k, operator: Exists, value: v}]"),
		RuleEnum, "spec.tolerations[0].operator", "value must be empty when `operator` is 'Exists'"},
	{"toleration empty key", valTestPod("  containers: [{name: a, image: a}]\n  tolerations: [{operator: Equal}]"),
		RuleEnum, "spec.tolerations[0].operator", "operator must be Exists when `key` is empty"},
	{"toleration seconds", valTestPod("  containers: [{name: a, image: a}]\n  tolerations: [{key: k, operator: Exists, effect: NoSchedule, tolerationSeconds: 30}]"),
		RuleEnum, "spec.tolerations[0].effect", "effect must be 'NoExecute' when `tolerationSeconds` is set"},
	{"strategy type", valTestDeployment("  strategy: {type: BlueGreen}", ""),
		RuleEnum, "spec.strategy.type", `Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"`},
	{"daemonset strategy type", `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: a}}
  updateStrategy: {type: Recreate}
  template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: a}]}}
`, RuleEnum, "spec.updateStrategy.type", `Unsupported value: "Recreate": supported values: "RollingUpdate", "OnDelete"`},
	{"completion mode", `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: {completionMode: Ordered, template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}
`, RuleEnum, "spec.completionMode", `Unsupported value: "Ordered": supported values: "NonIndexed", "Indexed"`},
	{"service type", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: Internal, ports: [{port: 80}]}}`,
		RuleEnum, "spec.type", `Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`},
	{"pod failure policy restart", `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  podFailurePolicy: {rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget}]}]}
  template: {spec: {restartPolicy: OnFailure, containers: [{name: a, image: a}]}}
`, RuleEnum, "spec.template.spec.restartPolicy", `only "Never" is supported when podFailurePolicy is specified`},

	// node selector operators
	{"Gt with two values", valTestPod(`  containers: [{name: a, image: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: cores, operator: Gt, values: ["2", "4"]}]}]`),
		RuleNodeSelectorOp, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
		"must be specified single value when `operator` is 'Lt' or 'Gt'"},
	{"Lt with a word", valTestPod(`  containers: [{name: a, image: a}]
  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - {weight: 1, preference: {matchExpressions: [{key: cores, operator: Lt, values: [many]}]}}`),
		RuleNodeSelectorOp, "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values[0]",
		"must be an integer"},
	{"In without values", valTestPod(`  containers: [{name: a, image: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In}]}]`),
		RuleNodeSelectorOp, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
		"must be specified when `operator` is 'In' or 'NotIn'"},
	{"Exists with values", valTestPod(`  containers: [{name: a, image: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: Exists, values: [a]}]}]`),
		RuleNodeSelectorOp, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
		"may not be specified when `operator` is 'Exists' or 'DoesNotExist'"},
	{"bad node operator", valTestPod(`  containers: [{name: a, image: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: Equals, values: [a]}]}]`),
		RuleNodeSelectorOp, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator",
		`Invalid value: "Equals": not a valid selector operator`},

	// ports
	{"container port range", valTestPod("  containers: [{name: a, image: a, ports: [{containerPort: 70000}]}]"),
		RulePort, "spec.containers[0].ports[0].containerPort", "Invalid value: 70000: must be between 1 and 65535, inclusive"},
	{"host port range", valTestPod("  containers: [{name: a, image: a, ports: [{containerPort: 80, hostPort: -1}]}]"),
		RulePort, "spec.containers[0].ports[0].hostPort", "must be between 1 and 65535, inclusive"},
	{"host port conflict", valTestPod("  containers:\n  - {name: a, image: a, ports: [{containerPort: 80, hostPort: 8080}]}\n  - {name: b, image: b, ports: [{containerPort: 81, hostPort: 8080}]}"),
		RulePort, "spec.containers[1].ports[0].hostPort", `Duplicate value: "TCP//8080"`},
	{"host network port", valTestPod("  hostNetwork: true\n  containers: [{name: a, image: a, ports: [{containerPort: 80, hostPort: 8080}]}]"),
		RulePort, "spec.containers[0].ports[0].hostPort", "must match `containerPort` when `hostNetwork` is true"},
	{"service port", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{port: 70000}]}}`,
		RulePort, "spec.ports[0].port", "Invalid value: 70000: must be between 1 and 65535, inclusive"},
	{"no service port", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{targetPort: 80}]}}`,
		RuleRequired, "spec.ports[0].port", "Required value"},
	{"service target port", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{port: 80, targetPort: 65536}]}}`,
		RulePort, "spec.ports[0].targetPort", "must be between 1 and 65535, inclusive"},
	{"probe port", valTestPod("  containers: [{name: a, image: a, livenessProbe: {tcpSocket: {port: 65536}}}]"),
		RulePort, "spec.containers[0].livenessProbe.tcpSocket.port", "must be between 1 and 65535, inclusive"},
	{"no probe port", valTestPod("  containers: [{name: a, image: a, livenessProbe: {httpGet: {path: /}}}]"),
		RuleRequired, "spec.containers[0].livenessProbe.httpGet.port", "Required value"},
	{"grpc port", valTestPod("  containers: [{name: a, image: a, startupProbe: {grpc: {port: -1}}}]"),
		RulePort, "spec.containers[0].startupProbe.grpc.port", "must be between 1 and 65535, inclusive"},
	{"node port on ClusterIP", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{port: 80, nodePort: 30001}]}}`,
		RulePort, "spec.ports[0].nodePort", "may not be used when `type` is 'ClusterIP'"},
	{"duplicate service port", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{name: a, port: 80}, {name: b, port: 80}]}}`,
		RulePort, "spec.ports[1]", `Duplicate value: "TCP/80"`},

	// port names
	{"container port name", valTestPod("  containers: [{name: a, image: a, ports: [{name: HTTP_port, containerPort: 80}]}]"),
		RulePortName, "spec.containers[0].ports[0].name", "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"},
	{"container port name too long", valTestPod("  containers: [{name: a, image: a, ports: [{name: very-long-port-name, containerPort: 80}]}]"),
		RulePortName, "spec.containers[0].ports[0].name", "must be no more than 15 characters"},
	{"duplicate container port name", valTestPod("  containers: [{name: a, image: a, ports: [{name: http, containerPort: 80}, {name: http, containerPort: 81}]}]"),
		RulePortName, "spec.containers[0].ports[1].name", `Duplicate value: "http"`},
	{"duplicate service port name", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{name: web, port: 80}, {name: web, port: 443}]}}`,
		RulePortName, "spec.ports[1].name", `Duplicate value: "web"`},
	{"unnamed service ports", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{port: 80}, {name: tls, port: 443}]}}`,
		RulePortName, "spec.ports[0].name", "Required value"},
	{"service port name syntax", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{name: Web, port: 80}]}}`,
		RulePortName, "spec.ports[0].name", "a lowercase RFC 1123 label"},
	{"named target port", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{port: 80, targetPort: web_http}]}}`,
		RulePortName, "spec.ports[0].targetPort", "must contain only alpha-numeric characters"},

	// quantities, requests and limits
	{"negative request", valTestPod("  containers: [{name: a, image: a, resources: {requests: {memory: -1Mi}}}]"),
		RuleQuantity, "spec.containers[0].resources.requests[memory]", `Invalid value: "-1Mi": must be greater than or equal to 0`},
	{"resource name", valTestPod("  containers: [{name: a, image: a, resources: {limits: {cpus: 1}}}]"),
		RuleQuantity, "spec.containers[0].resources.limits[cpus]", "must be a standard resource for containers"},
	{"fractional extended resource", valTestPod("  containers: [{name: a, image: a, resources: {limits: {example.com/gpu: 500m}}}]"),
		RuleQuantity, "spec.containers[0].resources.limits[example.com/gpu]", "must be an integer"},
	{"empty dir size", valTestPod("  containers: [{name: a, image: a}]\n  volumes: [{name: v, emptyDir: {sizeLimit: -1Gi}}]"),
		RuleQuantity, "spec.volumes[0].emptyDir.sizeLimit", "must be greater than or equal to 0"},
	{"requests over limits", valTestPod("  containers: [{name: a, image: a, resources: {requests: {cpu: '2'}, limits: {cpu: 500m}}}]"),
		RuleRequestsLimits, "spec.containers[0].resources.requests[cpu]", `Invalid value: "2": must be less than or equal to cpu limit of 500m`},
	{"extended resource request without limit", valTestPod("  containers: [{name: a, image: a, resources: {requests: {example.com/gpu: 1}}}]"),
		RuleRequestsLimits, "spec.containers[0].resources.limits", "Limit must be set for non overcommitable resources"},
	{"hugepages request below limit", valTestPod("  containers: [{name: a, image: a, resources: {requests: {memory: 1Gi, hugepages-2Mi: 2Mi}, limits: {memory: 1Gi, hugepages-2Mi: 4Mi}}}]"),
		RuleRequestsLimits, "spec.containers[0].resources.requests[hugepages-2Mi]", "must be equal to hugepages-2Mi limit of 4Mi"},

	// volume mounts
	{"undeclared volume", valTestPod("  containers: [{name: a, image: a, volumeMounts: [{name: data, mountPath: /data}]}]"),
		RuleVolumeMount, "spec.containers[0].volumeMounts[0].name", `Not found: "data": must be the name of a volume in spec.volumes`},
	{"mount path required", valTestPod("  containers: [{name: a, image: a, volumeMounts: [{name: data}]}]\n  volumes: [{name: data, emptyDir: {}}]"),
		RuleVolumeMount, "spec.containers[0].volumeMounts[0].mountPath", "Required value"},
	{"duplicate mount path", valTestPod("  containers: [{name: a, image: a, volumeMounts: [{name: a, mountPath: /d}, {name: b, mountPath: /d}]}]\n  volumes: [{name: a, emptyDir: {}}, {name: b, emptyDir: {}}]"),
		RuleVolumeMount, "spec.containers[0].volumeMounts[1].mountPath", `Invalid value: "/d": must be unique`},
	{"sub path escapes", valTestPod("  containers: [{name: a, image: a, volumeMounts: [{name: a, mountPath: /d, subPath: ../etc}]}]\n  volumes: [{name: a, emptyDir: {}}]"),
		RuleVolumeMount, "spec.containers[0].volumeMounts[0].subPath", "must not contain '..'"},

	// unique names
	{"duplicate container", valTestPod("  containers: [{name: a, image: a}, {name: a, image: b}]"),
		RuleUniqueName, "spec.containers[1].name", `Duplicate value: "a"`},
	{"init container named like a container", valTestPod("  initContainers: [{name: a, image: a}]\n  containers: [{name: a, image: b}]"),
		RuleUniqueName, "spec.initContainers[0].name", `Duplicate value: "a"`},
	{"duplicate volume", valTestPod("  containers: [{name: a, image: a}]\n  volumes: [{name: v, emptyDir: {}}, {name: v, emptyDir: {}}]"),
		RuleUniqueName, "spec.volumes[1].name", `Duplicate value: "v"`},
	{"configmap key in both", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {k: v}, binaryData: {k: dg==}}`,
		RuleUniqueName, "data[k]", "duplicate of key present in binaryData"},

	// probe handlers
	{"two handlers", valTestPod("  containers: [{name: a, image: a, livenessProbe: {exec: {command: [x]}, httpGet: {port: 80}}}]"),
		RuleProbeHandler, "spec.containers[0].livenessProbe.httpGet", "Forbidden: may not specify more than 1 handler type"},
	{"no handler", valTestPod("  containers: [{name: a, image: a, readinessProbe: {periodSeconds: 5}}]"),
		RuleProbeHandler, "spec.containers[0].readinessProbe", "Required value: must specify a handler type"},
	{"hook without handler", valTestPod("  containers: [{name: a, image: a, lifecycle: {preStop: {}}}]"),
		RuleProbeHandler, "spec.containers[0].lifecycle.preStop", "must specify a handler type"},

	// other invalid values
	{"progress deadline", valTestDeployment("  minReadySeconds: 30\n  progressDeadlineSeconds: 30", ""),
		RuleInvalid, "spec.progressDeadlineSeconds", "Invalid value: 30: must be greater than minReadySeconds"},
	{"recreate with rolling update", valTestDeployment("  strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}", ""),
		RuleInvalid, "spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"},
	{"deadline in deployment", valTestReplace(valTestDeployment("", ""), "      containers:", "      activeDeadlineSeconds: 60\n      containers:"),
		RuleInvalid, "spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in Deployment is not Supported"},
	{"liveness success threshold", valTestPod("  containers: [{name: a, image: a, livenessProbe: {exec: {command: [x]}, successThreshold: 2}}]"),
		RuleInvalid, "spec.containers[0].livenessProbe.successThreshold", "Invalid value: 2: must be 1"},
	{"probe in init container", valTestPod("  initContainers: [{name: i, image: i, readinessProbe: {exec: {command: [x]}}}]\n  containers: [{name: a, image: a}]"),
		RuleInvalid, "spec.initContainers[0].readinessProbe", "may not be set for init containers without restartPolicy=Always"},
	{"affinity weight", valTestPod(`  containers: [{name: a, image: a}]
  affinity:
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - {weight: 0, podAffinityTerm: {topologyKey: zone}}`),
		RuleInvalid, "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight", "must be in the range 1-100"},
	{"topology key", valTestPod(`  containers: [{name: a, image: a}]
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {labelSelector: {matchLabels: {app: a}}}`),
		RuleInvalid, "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey", "Required value: can not be empty"},
	{"configmap key", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {"app/config": x}}`,
		RuleInvalid, "data[app/config]", "a valid config key must consist of alphanumeric characters"},
	{"secret key", `{apiVersion: v1, kind: Secret, metadata: {name: s}, stringData: {"a b": x}}`,
		RuleInvalid, "stringData[a b]", "a valid config key must consist of alphanumeric characters"},
	{"env key ref", valTestPod("  containers: [{name: a, image: a, env: [{name: X, valueFrom: {configMapKeyRef: {name: c, key: 'a/b'}}}]}]"),
		RuleInvalid, "spec.containers[0].env[0].valueFrom.configMapKeyRef.key", "a valid config key must consist of"},
	{"env value and valueFrom", valTestPod("  containers: [{name: a, image: a, env: [{name: X, value: x, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]}]"),
		RuleInvalid, "spec.containers[0].env[0].valueFrom", "may not be specified when `value` is not empty"},
	{"env name", valTestPod("  containers: [{name: a, image: a, env: [{name: 'A=B', value: x}]}]"),
		RuleInvalid, "spec.containers[0].env[0].name", "a valid environment variable name must consist only of printable ASCII characters other than '='"},
	{"two volume sources", valTestPod("  containers: [{name: a, image: a}]\n  volumes: [{name: v, emptyDir: {}, configMap: {name: c}}]"),
		RuleInvalid, "spec.volumes[0].configMap", "may not specify more than 1 volume type"},
	{"volume item path", valTestPod("  containers: [{name: a, image: a}]\n  volumes: [{name: v, configMap: {name: c, items: [{key: k, path: /etc/k}]}}]"),
		RuleInvalid, "spec.volumes[0].configMap.items[0].path", "must be a relative path"},
	{"default mode", valTestPod("  containers: [{name: a, image: a}]\n  volumes: [{name: v, secret: {secretName: s, defaultMode: 1000}}]"),
		RuleInvalid, "spec.volumes[0].secret.defaultMode", "must be a number between 0 and 0777 (octal), both inclusive"},
	{"cronjob job selector", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "@hourly"
  jobTemplate:
    spec:
      selector: {matchLabels: {app: c}}
      template: {metadata: {labels: {app: c}}, spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}
`, RuleInvalid, "spec.jobTemplate.spec.selector", "`selector` will be auto-generated"},
	{"job selector without manualSelector", `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  selector: {matchLabels: {app: j}}
  template: {metadata: {labels: {app: j}}, spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}
`, RuleInvalid, "spec.selector", "`selector` not auto-generated"},
	{"backoff limit per index without Indexed", `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: {backoffLimitPerIndex: 1, template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}
`, RuleInvalid, "spec.backoffLimitPerIndex", "requires indexed completion mode"},
	{"headless load balancer", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: LoadBalancer, clusterIP: None, ports: [{port: 80}]}}`,
		RuleInvalid, "spec.clusterIP", "may not be set to 'None' for LoadBalancer services"},
	{"external traffic policy on ClusterIP", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {externalTrafficPolicy: Local, ports: [{port: 80}]}}`,
		RuleInvalid, "spec.externalTrafficPolicy", "may only be set for externally-accessible services"},
	{"docker config not JSON", `
apiVersion: v1
kind: Secret
metadata: {name: pull}
type: kubernetes.io/dockerconfigjson
stringData: {.dockerconfigjson: "{auths"}
`, RuleInvalid, "data[.dockerconfigjson]", "<secret contents redacted>"},
	{"sleep longer than grace", valTestPod("  terminationGracePeriodSeconds: 10\n  containers: [{name: a, image: a, lifecycle: {preStop: {sleep: {seconds: 20}}}}]"),
		RuleInvalid, "spec.containers[0].lifecycle.preStop.sleep.seconds", "less than terminationGracePeriodSeconds (10)"},
	{"topology spread skew", valTestPod("  containers: [{name: a, image: a}]\n  topologySpreadConstraints: [{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]"),
		RuleInvalid, "spec.topologySpreadConstraints[0].maxSkew", "must be greater than zero"},
}

func TestValidateFindings(t *testing.T) {
	for _, tc := range valTestCases {
		t.Run(tc.name, func(t *testing.T) {
			errs := valTestErrors(validateObject(valTestObject(t, tc.doc)))
			if len(errs) != 1 {
				t.Fatalf("want exactly one error [%s] at %s, got %d:%s", tc.rule, tc.path, len(errs), valTestFormat(errs))
			}
			f := errs[0]
			if f.Rule != tc.rule || f.Path.String() != tc.path || !strings.Contains(f.Message, tc.msg) {
				t.Errorf("want [%s] at %s containing %q, got:%s", tc.rule, tc.path, tc.msg, valTestFormat(errs))
			}
			if strings.HasPrefix(f.Message, f.Path.String()) {
				t.Errorf("message repeats the path: %q", f.Message)
			}
		})
	}
}

func TestValidateWarnings(t *testing.T) {
	cases := []struct {
		name, doc, rule, path, msg string
	}{
		{"duplicate env", valTestPod("  containers: [{name: a, image: a, env: [{name: X, value: a}, {name: X, value: b}]}]"),
			RuleUniqueName, "spec.containers[0].env[1].name", "X is also set by env[0]; the last definition wins"},
		{"port name in two containers", valTestPod("  containers:\n  - {name: a, image: a, ports: [{name: http, containerPort: 80}]}\n  - {name: b, image: b, ports: [{name: http, containerPort: 81}]}"),
			RulePortName, "spec.containers[1].ports[0].name", `port name "http" is also used by container "a"`},
		{"probe names unknown port", valTestPod("  containers: [{name: a, image: a, readinessProbe: {httpGet: {port: http}}}]"),
			RulePortName, "spec.containers[0].readinessProbe.httpGet.port", `the container has no port named "http"`},
		{"relative mount path", valTestPod("  containers: [{name: a, image: a, volumeMounts: [{name: v, mountPath: data}]}]\n  volumes: [{name: v, emptyDir: {}}]"),
			RuleVolumeMount, "spec.containers[0].volumeMounts[0].mountPath", "is not absolute"},
		{"job name not a label", `
apiVersion: batch/v1
kind: Job
metadata: {name: nightly.report}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: a}]}}}
`, RuleName, "metadata.name", "a DNS label is recommended"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := validateObject(valTestObject(t, tc.doc))
			if errs := valTestErrors(fs); len(errs) > 0 {
				t.Fatalf("want no errors, got:%s", valTestFormat(errs))
			}
			if len(fs) != 1 || fs[0].Severity != SeverityWarning || fs[0].Rule != tc.rule ||
				fs[0].Path.String() != tc.path || !strings.Contains(fs[0].Message, tc.msg) {
				t.Errorf("want one warning [%s] at %s containing %q, got:%s", tc.rule, tc.path, tc.msg, valTestFormat(fs))
			}
		})
	}
}

// valTestSplit splits a multi-document YAML file on lines starting with
// "---" and drops documents with nothing but comments.
func valTestSplit(data []byte) [][]byte {
	var docs [][]byte
	var cur []string
	flush := func() {
		text := strings.Join(cur, "\n")
		cur = nil
		for _, line := range strings.Split(text, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, []byte(text))
				return
			}
		}
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "---") {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return docs
}

// valTestCorpus is the corpus of real-world manifests (see its SOURCES.md).
const valTestCorpus = "testdata/corpus/real-world"

func TestValidateRealWorldCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(valTestCorpus, "*.yaml"))
	if len(files) == 0 {
		t.Fatal("corpus not found at " + valTestCorpus)
	}
	checked := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range valTestSplit(data) {
			obj, err := valTestDecode(doc)
			if err != nil {
				t.Errorf("%s doc %d: %v", filepath.Base(file), i, err)
				continue
			}
			if obj == nil {
				continue // a kind validateObject does not serve (List, ServiceAccount...)
			}
			checked++
			if errs := valTestErrors(validateObject(obj)); len(errs) > 0 {
				t.Errorf("%s doc %d: want no errors, got:%s", filepath.Base(file), i, valTestFormat(errs))
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d documents of the corpus", checked)
	}
}

// TestValidateRuleFixtures runs every testdata/rules/<rule>[.<variant>].yaml
// and checks that it fails its rule and no other, and that every rule the
// validator emits has a fixture.
func TestValidateRuleFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/rules/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	emitted := valTestEmittedRules(t)
	covered := map[string]bool{}
	for _, file := range files {
		base := filepath.Base(file)
		rule, _, _ := strings.Cut(strings.TrimSuffix(base, ".yaml"), ".")
		if !slices.Contains(emitted, rule) {
			continue // a decoding or input-wide rule, tested where it is checked
		}
		covered[rule] = true
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), "#") {
				t.Errorf("a fixture starts with a comment saying why it fails")
			}
			docs := valTestSplit(data)
			if len(docs) != 1 {
				t.Fatalf("want one document, got %d", len(docs))
			}
			obj, err := valTestDecode(docs[0])
			if err != nil || obj == nil {
				t.Fatalf("decoding: %v (object %v)", err, obj)
			}
			errs := valTestErrors(validateObject(obj))
			fired := false
			for _, f := range errs {
				if f.Rule == rule {
					fired = true
				} else {
					t.Errorf("fixture also fails another rule:%s", valTestFormat([]Finding{f}))
				}
			}
			if !fired {
				t.Errorf("fixture does not fail [%s]; got:%s", rule, valTestFormat(errs))
			}
		})
	}
	for _, rule := range emitted {
		if !covered[rule] {
			t.Errorf("rule %q has no fixture testdata/rules/%s.yaml", rule, rule)
		}
	}
}

// valTestEmittedRules lists the ids of the Rule constants the validation
// files use.
func valTestEmittedRules(t *testing.T) []string {
	ids := map[string]string{
		"RuleRequired": RuleRequired, "RuleName": RuleName, "RuleLabels": RuleLabels, "RuleSelector": RuleSelector,
		"RuleSelectorMissing": RuleSelectorMissing, "RuleSelectorMatch": RuleSelectorMatch,
		"RuleSurgeUnavail": RuleSurgeUnavail, "RuleIntOrPercent": RuleIntOrPercent, "RuleNonNegative": RuleNonNegative,
		"RuleCronSchedule": RuleCronSchedule, "RuleCronTimeZone": RuleCronTimeZone, "RuleEnum": RuleEnum,
		"RuleNodeSelectorOp": RuleNodeSelectorOp, "RulePort": RulePort, "RulePortName": RulePortName,
		"RuleQuantity": RuleQuantity, "RuleRequestsLimits": RuleRequestsLimits, "RuleVolumeMount": RuleVolumeMount,
		"RuleUniqueName": RuleUniqueName, "RuleProbeHandler": RuleProbeHandler, "RuleInvalid": RuleInvalid,
	}
	files, _ := filepath.Glob("validate*.go")
	used := map[string]bool{}
	ref := regexp.MustCompile(`\bRule[A-Z][A-Za-z]*\b`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range ref.FindAllString(string(src), -1) {
			id, ok := ids[name]
			if !ok {
				t.Errorf("%s uses %s: add it to valTestEmittedRules", f, name)
				continue
			}
			used[id] = true
		}
	}
	out := make([]string, 0, len(used))
	for id := range used {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
