package workloads

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// defaultsTestKinds builds the typed object for a test document's kind.
var defaultsTestKinds = map[string]func() runtime.Object{
	"Namespace":   func() runtime.Object { return &corev1.Namespace{} },
	"ConfigMap":   func() runtime.Object { return &corev1.ConfigMap{} },
	"Secret":      func() runtime.Object { return &corev1.Secret{} },
	"Pod":         func() runtime.Object { return &corev1.Pod{} },
	"Service":     func() runtime.Object { return &corev1.Service{} },
	"Deployment":  func() runtime.Object { return &appsv1.Deployment{} },
	"ReplicaSet":  func() runtime.Object { return &appsv1.ReplicaSet{} },
	"DaemonSet":   func() runtime.Object { return &appsv1.DaemonSet{} },
	"StatefulSet": func() runtime.Object { return &appsv1.StatefulSet{} },
	"Job":         func() runtime.Object { return &batchv1.Job{} },
	"CronJob":     func() runtime.Object { return &batchv1.CronJob{} },
}

// decodeForDefaults decodes one YAML document strictly into its typed
// object; ok is false for a kind berth does not serve.
func decodeForDefaults(t *testing.T, doc string) (runtime.Object, bool) {
	t.Helper()
	var head struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
		t.Fatalf("reading kind: %v\n%s", err, doc)
	}
	newObj, ok := defaultsTestKinds[head.Kind]
	if !ok {
		return nil, false
	}
	obj := newObj()
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		t.Fatalf("decoding %s: %v\n%s", head.Kind, err, doc)
	}
	return obj, true
}

// jsonAt returns the value at a field path (spec.containers[0].name) in the
// object's JSON form, re-encoded as compact JSON, or "" when absent.
func jsonAt(t *testing.T, obj runtime.Object, path string) string {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	for _, seg := range strings.Split(strings.ReplaceAll(path, "[", ".["), ".") {
		if seg == "" {
			continue
		}
		if strings.HasPrefix(seg, "[") {
			i, err := strconv.Atoi(strings.Trim(seg, "[]"))
			list, ok := v.([]any)
			if err != nil || !ok || i >= len(list) {
				return ""
			}
			v = list[i]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		if v, ok = m[seg]; !ok {
			return ""
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

const (
	dfDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80}]
        env:
        - name: NODE
          valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
        resources:
          limits: {cpu: "0.0001", memory: 64Mi}
        livenessProbe:
          httpGet: {port: 80}
        readinessProbe:
          tcpSocket: {port: 80}
        startupProbe:
          grpc: {port: 9000}
        lifecycle:
          preStop:
            httpGet: {port: 80}
      volumes:
      - name: config
        configMap: {name: web}
      - name: creds
        secret: {secretName: web}
      - name: host
        hostPath: {path: /var/log}
      - name: scratch
        emptyDir: {}
      - name: nothing
      - name: info
        downwardAPI:
          items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]
      - name: token
        projected:
          sources: [{serviceAccountToken: {path: token}}]
      - name: tools
        image: {reference: "example.com/tools"}
`
	dfPod = `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostNetwork: true
  containers:
  - name: c
    image: app
    ports: [{containerPort: 8080}]
    resources:
      limits: {cpu: 500m, memory: 128Mi}
      requests: {cpu: 100m}
`
	dfService = `
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  selector: {app: web}
  ports:
  - port: 80
  - port: 443
    targetPort: https
`
	dfStatefulSet = `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres:16}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`
	dfJob = `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  template:
    metadata: {labels: {app: j}}
    spec:
      containers: [{name: c, image: busybox}]
`
	dfCronJob = `
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: busybox}]
`
)

func TestDefault(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		path string
		want string // compact JSON; "" means absent
	}{
		// metadata
		{"namespace defaults to default", dfDeployment, "metadata.namespace", `"default"`},
		{"explicit namespace kept", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: prod}}`, "metadata.namespace", `"prod"`},
		{"Namespace gets no namespace", `{apiVersion: v1, kind: Namespace, metadata: {name: team}}`, "metadata.namespace", ``},
		{"Namespace name label", `{apiVersion: v1, kind: Namespace, metadata: {name: team}}`, "metadata.labels", `{"kubernetes.io/metadata.name":"team"}`},
		{"Namespace status is server state", `{apiVersion: v1, kind: Namespace, metadata: {name: team}}`, "status.phase", ``},
		{"no server fields", dfDeployment, "metadata.uid", ``},
		{"no status", dfDeployment, "status.replicas", ``},

		// Deployment
		{"deployment replicas", dfDeployment, "spec.replicas", `1`},
		{"deployment strategy type", dfDeployment, "spec.strategy.type", `"RollingUpdate"`},
		{"deployment maxSurge", dfDeployment, "spec.strategy.rollingUpdate.maxSurge", `"25%"`},
		{"deployment maxUnavailable", dfDeployment, "spec.strategy.rollingUpdate.maxUnavailable", `"25%"`},
		{"deployment partial rollingUpdate", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, spec: {strategy: {rollingUpdate: {maxSurge: 2}}}}`, "spec.strategy.rollingUpdate", `{"maxSurge":2,"maxUnavailable":"25%"}`},
		{"deployment Recreate has no rollingUpdate", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, spec: {strategy: {type: Recreate}}}`, "spec.strategy", `{"type":"Recreate"}`},
		{"deployment revisionHistoryLimit", dfDeployment, "spec.revisionHistoryLimit", `10`},
		{"deployment progressDeadlineSeconds", dfDeployment, "spec.progressDeadlineSeconds", `600`},
		{"deployment minReadySeconds stays 0", dfDeployment, "spec.minReadySeconds", ``},
		{"deployment paused untouched", dfDeployment, "spec.paused", ``},

		// pod spec in a template
		{"template restartPolicy", dfDeployment, "spec.template.spec.restartPolicy", `"Always"`},
		{"template dnsPolicy", dfDeployment, "spec.template.spec.dnsPolicy", `"ClusterFirst"`},
		{"template schedulerName", dfDeployment, "spec.template.spec.schedulerName", `"default-scheduler"`},
		{"template terminationGracePeriodSeconds", dfDeployment, "spec.template.spec.terminationGracePeriodSeconds", `30`},
		{"template securityContext", dfDeployment, "spec.template.spec.securityContext", `{}`},
		{"template has no enableServiceLinks (Pod only)", dfDeployment, "spec.template.spec.enableServiceLinks", ``},
		{"template metadata untouched", dfDeployment, "spec.template.metadata", `{"labels":{"app":"web"}}`},

		// containers
		{"terminationMessagePath", dfDeployment, "spec.template.spec.containers[0].terminationMessagePath", `"/dev/termination-log"`},
		{"terminationMessagePolicy", dfDeployment, "spec.template.spec.containers[0].terminationMessagePolicy", `"File"`},
		{"imagePullPolicy for a tag", dfDeployment, "spec.template.spec.containers[0].imagePullPolicy", `"IfNotPresent"`},
		{"init container defaulted", dfDeployment, "spec.template.spec.initContainers[0].terminationMessagePolicy", `"File"`},
		{"init container imagePullPolicy", dfDeployment, "spec.template.spec.initContainers[0].imagePullPolicy", `"IfNotPresent"`},
		{"container port protocol", dfDeployment, "spec.template.spec.containers[0].ports[0]", `{"containerPort":80,"protocol":"TCP"}`},
		{"template: no hostPort without hostNetwork", dfDeployment, "spec.template.spec.containers[0].ports[0].hostPort", ``},
		{"fieldRef apiVersion", dfDeployment, "spec.template.spec.containers[0].env[0].valueFrom.fieldRef.apiVersion", `"v1"`},
		{"quantities round up to milli", dfDeployment, "spec.template.spec.containers[0].resources.limits.cpu", `"1m"`},
		{"template: requests not copied from limits", dfDeployment, "spec.template.spec.containers[0].resources.requests", ``},

		// probes and handlers
		{"probe defaults", dfDeployment, "spec.template.spec.containers[0].livenessProbe",
			`{"failureThreshold":3,"httpGet":{"path":"/","port":80,"scheme":"HTTP"},"periodSeconds":10,"successThreshold":1,"timeoutSeconds":1}`},
		{"readiness probe defaults", dfDeployment, "spec.template.spec.containers[0].readinessProbe",
			`{"failureThreshold":3,"periodSeconds":10,"successThreshold":1,"tcpSocket":{"port":80},"timeoutSeconds":1}`},
		{"grpc probe service", dfDeployment, "spec.template.spec.containers[0].startupProbe.grpc", `{"port":9000,"service":""}`},
		{"preStop httpGet", dfDeployment, "spec.template.spec.containers[0].lifecycle.preStop.httpGet", `{"path":"/","port":80,"scheme":"HTTP"}`},

		// volumes
		{"configMap defaultMode", dfDeployment, "spec.template.spec.volumes[0].configMap.defaultMode", `420`},
		{"secret defaultMode", dfDeployment, "spec.template.spec.volumes[1].secret.defaultMode", `420`},
		{"hostPath type", dfDeployment, "spec.template.spec.volumes[2].hostPath", `{"path":"/var/log","type":""}`},
		{"emptyDir untouched", dfDeployment, "spec.template.spec.volumes[3]", `{"emptyDir":{},"name":"scratch"}`},
		{"no source is emptyDir", dfDeployment, "spec.template.spec.volumes[4]", `{"emptyDir":{},"name":"nothing"}`},
		{"downwardAPI", dfDeployment, "spec.template.spec.volumes[5].downwardAPI",
			`{"defaultMode":420,"items":[{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.labels"},"path":"labels"}]}`},
		{"projected token", dfDeployment, "spec.template.spec.volumes[6].projected",
			`{"defaultMode":420,"sources":[{"serviceAccountToken":{"expirationSeconds":3600,"path":"token"}}]}`},
		{"image volume pullPolicy", dfDeployment, "spec.template.spec.volumes[7].image.pullPolicy", `"Always"`},

		// ReplicaSet
		{"replicaset replicas", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: r}}`, "spec.replicas", `1`},
		{"replicaset template", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: r}}`, "spec.template.spec.restartPolicy", `"Always"`},

		// DaemonSet
		{"daemonset updateStrategy", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d}}`, "spec.updateStrategy",
			`{"rollingUpdate":{"maxSurge":0,"maxUnavailable":1},"type":"RollingUpdate"}`},
		{"daemonset OnDelete", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d}, spec: {updateStrategy: {type: OnDelete}}}`, "spec.updateStrategy", `{"type":"OnDelete"}`},
		{"daemonset revisionHistoryLimit", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d}}`, "spec.revisionHistoryLimit", `10`},
		{"daemonset template", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d}}`, "spec.template.spec.dnsPolicy", `"ClusterFirst"`},

		// StatefulSet
		{"statefulset podManagementPolicy", dfStatefulSet, "spec.podManagementPolicy", `"OrderedReady"`},
		{"statefulset updateStrategy", dfStatefulSet, "spec.updateStrategy",
			`{"rollingUpdate":{"maxUnavailable":1,"partition":0},"type":"RollingUpdate"}`},
		{"statefulset explicit RollingUpdate gets no block", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s}, spec: {updateStrategy: {type: RollingUpdate}}}`,
			"spec.updateStrategy", `{"type":"RollingUpdate"}`},
		{"statefulset partial rollingUpdate", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s}, spec: {updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}}}`,
			"spec.updateStrategy.rollingUpdate", `{"maxUnavailable":1,"partition":2}`},
		{"statefulset OnDelete", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s}, spec: {updateStrategy: {type: OnDelete}}}`, "spec.updateStrategy", `{"type":"OnDelete"}`},
		{"statefulset replicas", dfStatefulSet, "spec.replicas", `1`},
		{"statefulset revisionHistoryLimit", dfStatefulSet, "spec.revisionHistoryLimit", `10`},
		{"statefulset pvc retention", dfStatefulSet, "spec.persistentVolumeClaimRetentionPolicy", `{"whenDeleted":"Retain","whenScaled":"Retain"}`},
		{"statefulset claim volumeMode", dfStatefulSet, "spec.volumeClaimTemplates[0].spec.volumeMode", `"Filesystem"`},
		{"statefulset claim status", dfStatefulSet, "spec.volumeClaimTemplates[0].status", `{"phase":"Pending"}`},
		{"statefulset template", dfStatefulSet, "spec.template.spec.containers[0].imagePullPolicy", `"IfNotPresent"`},

		// Job
		{"job completions", dfJob, "spec.completions", `1`},
		{"job parallelism", dfJob, "spec.parallelism", `1`},
		{"job completions set: parallelism 1", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {completions: 5}}`, "spec.parallelism", `1`},
		{"job parallelism set: completions nil", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {parallelism: 3}}`, "spec.completions", ``},
		{"job backoffLimit", dfJob, "spec.backoffLimit", `6`},
		{"job backoffLimit with per-index", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {completionMode: Indexed, completions: 2, backoffLimitPerIndex: 1}}`, "spec.backoffLimit", `2147483647`},
		{"job completionMode", dfJob, "spec.completionMode", `"NonIndexed"`},
		{"job suspend", dfJob, "spec.suspend", `false`},
		{"job podReplacementPolicy", dfJob, "spec.podReplacementPolicy", `"TerminatingOrFailed"`},
		{"job podReplacementPolicy with podFailurePolicy", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {podFailurePolicy: {rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget}]}]}}}`,
			"spec.podReplacementPolicy", `"Failed"`},
		{"job podFailurePolicy condition status", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {podFailurePolicy: {rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget}]}]}}}`,
			"spec.podFailurePolicy.rules[0].onPodConditions[0]", `{"status":"True","type":"DisruptionTarget"}`},
		{"job manualSelector", dfJob, "spec.manualSelector", `false`},
		{"job labels from template", dfJob, "metadata.labels", `{"app":"j"}`},
		{"job own labels kept", `{apiVersion: batch/v1, kind: Job, metadata: {name: j, labels: {team: a}}, spec: {template: {metadata: {labels: {app: j}}}}}`, "metadata.labels", `{"team":"a"}`},
		{"job selector not generated", dfJob, "spec.selector", ``},
		{"job template restartPolicy (as upstream: Always, then invalid)", dfJob, "spec.template.spec.restartPolicy", `"Always"`},
		{"job template explicit restartPolicy", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {template: {spec: {restartPolicy: Never}}}}`, "spec.template.spec.restartPolicy", `"Never"`},

		// CronJob
		{"cronjob concurrencyPolicy", dfCronJob, "spec.concurrencyPolicy", `"Allow"`},
		{"cronjob suspend", dfCronJob, "spec.suspend", `false`},
		{"cronjob successfulJobsHistoryLimit", dfCronJob, "spec.successfulJobsHistoryLimit", `3`},
		{"cronjob failedJobsHistoryLimit", dfCronJob, "spec.failedJobsHistoryLimit", `1`},
		{"cronjob jobTemplate is not a Job", dfCronJob, "spec.jobTemplate.spec.backoffLimit", ``},
		{"cronjob template", dfCronJob, "spec.jobTemplate.spec.template.spec.dnsPolicy", `"ClusterFirst"`},
		{"cronjob template restartPolicy kept", dfCronJob, "spec.jobTemplate.spec.template.spec.restartPolicy", `"OnFailure"`},

		// Pod
		{"pod namespace", dfPod, "metadata.namespace", `"default"`},
		{"pod restartPolicy", dfPod, "spec.restartPolicy", `"Always"`},
		{"pod enableServiceLinks", dfPod, "spec.enableServiceLinks", `true`},
		{"pod requests from limits", dfPod, "spec.containers[0].resources.requests", `{"cpu":"100m","memory":"128Mi"}`},
		{"pod hostNetwork hostPort", dfPod, "spec.containers[0].ports[0]", `{"containerPort":8080,"hostPort":8080,"protocol":"TCP"}`},
		{"pod image without tag", dfPod, "spec.containers[0].imagePullPolicy", `"Always"`},
		{"pod-level requests from limits", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {resources: {limits: {cpu: "1", memory: 1Gi}}, containers: [{name: c, image: a}]}}`,
			"spec.resources.requests", `{"cpu":"1","memory":"1Gi"}`},
		{"pod-level requests from containers", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {resources: {limits: {cpu: "1"}}, containers: [{name: a, image: a, resources: {requests: {cpu: 100m}}}, {name: b, image: b, resources: {requests: {cpu: 200m}}}]}}`,
			"spec.resources.requests", `{"cpu":"300m"}`},
		{"pod status is server state", dfPod, "status", `{}`},

		// Service
		{"service type", dfService, "spec.type", `"ClusterIP"`},
		{"service sessionAffinity", dfService, "spec.sessionAffinity", `"None"`},
		{"service port protocol and targetPort", dfService, "spec.ports[0]", `{"port":80,"protocol":"TCP","targetPort":80}`},
		{"service named targetPort kept", dfService, "spec.ports[1].targetPort", `"https"`},
		{"service internalTrafficPolicy", dfService, "spec.internalTrafficPolicy", `"Cluster"`},
		{"service no externalTrafficPolicy for ClusterIP", dfService, "spec.externalTrafficPolicy", ``},
		{"service ipFamilyPolicy left unset", dfService, "spec.ipFamilyPolicy", ``},
		{"service clusterIP not allocated", dfService, "spec.clusterIP", ``},
		{"service NodePort externalTrafficPolicy", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: NodePort, ports: [{port: 80}]}}`, "spec.externalTrafficPolicy", `"Cluster"`},
		{"service NodePort nodePort not allocated", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: NodePort, ports: [{port: 80}]}}`, "spec.ports[0].nodePort", ``},
		{"service ClientIP timeout", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {sessionAffinity: ClientIP}}`, "spec.sessionAffinityConfig", `{"clientIP":{"timeoutSeconds":10800}}`},
		{"service LoadBalancer node ports", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: LoadBalancer}}`, "spec.allocateLoadBalancerNodePorts", `true`},
		{"service ExternalName has no internalTrafficPolicy", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: ExternalName, externalName: example.com}}`, "spec.internalTrafficPolicy", ``},

		// ConfigMap, Secret
		{"secret type", `{apiVersion: v1, kind: Secret, metadata: {name: s}}`, "type", `"Opaque"`},
		{"secret explicit type kept", `{apiVersion: v1, kind: Secret, metadata: {name: s}, type: kubernetes.io/tls}`, "type", `"kubernetes.io/tls"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj, ok := decodeForDefaults(t, tc.doc)
			if !ok {
				t.Fatal("test document is not of a served kind")
			}
			Default(obj)
			if got := jsonAt(t, obj, tc.path); got != tc.want {
				t.Errorf("%s = %s, want %s", tc.path, orAbsent(got), orAbsent(tc.want))
			}
		})
	}
}

func orAbsent(s string) string {
	if s == "" {
		return "(absent)"
	}
	return s
}

func TestDefaultConfigMapData(t *testing.T) {
	obj, _ := decodeForDefaults(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}`)
	Default(obj)
	if cm := obj.(*corev1.ConfigMap); cm.Data == nil || len(cm.Data) != 0 {
		t.Errorf("data = %#v, want an empty map", cm.Data)
	}
}

func TestDefaultUnservedObjectUntouched(t *testing.T) {
	pt := &corev1.PodTemplate{}
	Default(pt)
	if !reflect.DeepEqual(pt, &corev1.PodTemplate{}) {
		t.Errorf("Default changed a kind berth does not serve: %+v", pt)
	}
}

func TestImageTag(t *testing.T) {
	const sha = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	cases := []struct {
		image, tag string
		policy     corev1.PullPolicy
	}{
		{"nginx", "latest", corev1.PullAlways},
		{"nginx:latest", "latest", corev1.PullAlways},
		{"nginx:1.25", "1.25", corev1.PullIfNotPresent},
		{"docker.io/library/nginx:1.25-alpine", "1.25-alpine", corev1.PullIfNotPresent},
		{"nginx@" + sha, "", corev1.PullIfNotPresent},
		{"nginx:latest@" + sha, "latest", corev1.PullAlways},
		{"nginx:1.25@" + sha, "1.25", corev1.PullIfNotPresent},
		{"localhost:5000/app", "latest", corev1.PullAlways},
		{"localhost:5000/app:v1", "v1", corev1.PullIfNotPresent},
		{"registry.example.com:443/team/app:v2", "v2", corev1.PullIfNotPresent},
		{"[::1]:5000/app", "latest", corev1.PullAlways},
		{"quay.io/prometheus/node-exporter:v1.12.1", "v1.12.1", corev1.PullIfNotPresent},
		// references that do not parse: upstream ignores the error
		{"", "", corev1.PullIfNotPresent},
		{"Nginx", "", corev1.PullIfNotPresent},
		{"nginx:", "", corev1.PullIfNotPresent},
		{"nginx@sha256:abc", "", corev1.PullIfNotPresent},
		{"nginx@md5:0123456789abcdef0123456789abcdef", "", corev1.PullIfNotPresent},
		{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "", corev1.PullIfNotPresent},
		{"app:" + strings.Repeat("x", 129), "", corev1.PullIfNotPresent},
		{strings.Repeat("a", 240), "", corev1.PullIfNotPresent}, // docker.io/library/ + 240 > 255
	}
	for _, tc := range cases {
		if got := imageTag(tc.image); got != tc.tag {
			t.Errorf("imageTag(%q) = %q, want %q", tc.image, got, tc.tag)
		}
		if got := pullPolicyFor(tc.image); got != tc.policy {
			t.Errorf("pullPolicyFor(%q) = %s, want %s", tc.image, got, tc.policy)
		}
	}
}

// TestDefaultGoldenDeployment: what `kubectl get -o yaml` shows Kubernetes
// storing for the documentation's nginx Deployment (spec only).
func TestDefaultGoldenDeployment(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus", "real-world", "website__nginx-deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const want = `
progressDeadlineSeconds: 600
replicas: 3
revisionHistoryLimit: 10
selector:
  matchLabels:
    app.kubernetes.io/name: nginx
strategy:
  rollingUpdate:
    maxSurge: 25%
    maxUnavailable: 25%
  type: RollingUpdate
template:
  metadata:
    labels:
      app.kubernetes.io/name: nginx
  spec:
    containers:
    - image: nginx:1.14.2
      imagePullPolicy: IfNotPresent
      name: nginx
      ports:
      - containerPort: 80
        protocol: TCP
      resources: {}
      terminationMessagePath: /dev/termination-log
      terminationMessagePolicy: File
    dnsPolicy: ClusterFirst
    restartPolicy: Always
    schedulerName: default-scheduler
    securityContext: {}
    terminationGracePeriodSeconds: 30
`
	obj, _ := decodeForDefaults(t, string(raw))
	Default(obj)
	wantJSON, err := yaml.YAMLToJSON([]byte(want))
	if err != nil {
		t.Fatal(err)
	}
	var wantV any
	if err := json.Unmarshal(wantJSON, &wantV); err != nil {
		t.Fatal(err)
	}
	canonical, _ := json.Marshal(wantV)
	if got := jsonAt(t, obj, "spec"); got != string(canonical) {
		t.Errorf("defaulted spec:\n got %s\nwant %s", got, canonical)
	}
}

// TestDefaultIdempotent: defaulting a defaulted object changes nothing,
// over the test documents and the real-world corpus.
func TestDefaultIdempotent(t *testing.T) {
	docs := []string{dfDeployment, dfPod, dfService, dfStatefulSet, dfJob, dfCronJob,
		`{apiVersion: v1, kind: Namespace, metadata: {name: team}}`,
		`{apiVersion: v1, kind: Secret, metadata: {name: s}}`,
		`{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d}}`,
		`{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: r}}`,
		`{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: LoadBalancer, sessionAffinity: ClientIP, ports: [{port: 80}]}}`,
		`{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {resources: {limits: {cpu: "1", hugepages-2Mi: 4Mi}}, initContainers: [{name: s, image: s, restartPolicy: Always, resources: {requests: {cpu: 50m}}}], containers: [{name: c, image: a, resources: {limits: {hugepages-2Mi: 2Mi}, requests: {cpu: 100m}}}]}}`,
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "real-world", "*.yaml"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split("\n"+string(raw), "\n---") {
			if strings.TrimSpace(doc) != "" {
				docs = append(docs, doc)
			}
		}
	}
	checked := 0
	for _, doc := range docs {
		obj, ok := decodeForDefaults(t, doc)
		if !ok {
			continue
		}
		Default(obj)
		once := obj.DeepCopyObject()
		Default(obj)
		if !reflect.DeepEqual(once, obj) {
			a, _ := json.Marshal(once)
			b, _ := json.Marshal(obj)
			t.Errorf("second Default changed the object:\n once %s\ntwice %s", a, b)
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d documents checked", checked)
	}
}

// TestDefaultKeepsExplicitValues: a document that sets every defaulted
// field to a non-default value comes out of Default unchanged.
func TestDefaultKeepsExplicitValues(t *testing.T) {
	const podSpec = `
      restartPolicy: OnFailure
      dnsPolicy: Default
      schedulerName: other
      terminationGracePeriodSeconds: 5
      securityContext: {runAsUser: 1000}
      initContainers:
      - name: i
        image: busybox
        imagePullPolicy: Never
        terminationMessagePath: /tmp/t
        terminationMessagePolicy: FallbackToLogsOnError
      containers:
      - name: c
        image: nginx:latest
        imagePullPolicy: IfNotPresent
        terminationMessagePath: /tmp/t
        terminationMessagePolicy: FallbackToLogsOnError
        ports: [{containerPort: 53, protocol: UDP}]
        env:
        - name: N
          valueFrom: {fieldRef: {apiVersion: v2, fieldPath: metadata.name}}
        resources:
          limits: {cpu: 250m}
        livenessProbe:
          httpGet: {path: /healthz, port: 80, scheme: HTTPS}
          timeoutSeconds: 5
          periodSeconds: 20
          successThreshold: 2
          failureThreshold: 7
        startupProbe:
          grpc: {port: 9000, service: health}
          timeoutSeconds: 5
          periodSeconds: 20
          successThreshold: 1
          failureThreshold: 7
        lifecycle:
          postStart:
            httpGet: {path: /start, port: 80, scheme: HTTPS}
      volumes:
      - name: a
        configMap: {name: a, defaultMode: 256}
      - name: b
        secret: {secretName: b, defaultMode: 256}
      - name: c
        hostPath: {path: /x, type: Directory}
      - name: d
        downwardAPI:
          defaultMode: 256
          items: [{path: l, fieldRef: {apiVersion: v2, fieldPath: metadata.labels}}]
      - name: e
        projected:
          defaultMode: 256
          sources: [{serviceAccountToken: {path: t, expirationSeconds: 7200}}]
      - name: f
        image: {reference: tools, pullPolicy: Never}
`
	docs := map[string]string{
		"Deployment": `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: prod}
spec:
  replicas: 0
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 1}}
  revisionHistoryLimit: 0
  progressDeadlineSeconds: 60
  template:
    spec:` + podSpec,
		"DaemonSet": `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: d, namespace: prod}
spec:
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  revisionHistoryLimit: 1
  template:
    spec:` + podSpec,
		"StatefulSet": `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s, namespace: prod}
spec:
  replicas: 0
  podManagementPolicy: Parallel
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 3, maxUnavailable: 2}}
  revisionHistoryLimit: 1
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Delete}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {volumeMode: Block}
    status: {phase: Bound}
  template:
    spec:` + podSpec,
		"Job": `
apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: prod, labels: {own: "1"}}
spec:
  completions: 4
  parallelism: 2
  backoffLimit: 0
  completionMode: Indexed
  suspend: true
  manualSelector: true
  podReplacementPolicy: Failed
  template:
    metadata: {labels: {app: j}}
    spec:` + podSpec,
		"CronJob": `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c, namespace: prod}
spec:
  schedule: "@daily"
  concurrencyPolicy: Forbid
  suspend: true
  successfulJobsHistoryLimit: 0
  failedJobsHistoryLimit: 0
  jobTemplate:
    spec:
      template:
        spec:` + strings.ReplaceAll(podSpec, "\n      ", "\n          "),
		"Pod": `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: prod}
spec:
  enableServiceLinks: false
  hostNetwork: true
  containers:
  - name: c
    image: a:1
    imagePullPolicy: Always
    terminationMessagePath: /t
    terminationMessagePolicy: File
    ports: [{containerPort: 80, hostPort: 80, protocol: TCP}]
    resources:
      limits: {cpu: "1"}
      requests: {cpu: 500m}
  restartPolicy: Never
  dnsPolicy: None
  schedulerName: other
  terminationGracePeriodSeconds: 0
  securityContext: {}
`,
		"Service": `
apiVersion: v1
kind: Service
metadata: {name: s, namespace: prod}
spec:
  type: NodePort
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
  externalTrafficPolicy: Local
  internalTrafficPolicy: Local
  ports: [{port: 80, protocol: UDP, targetPort: 8080}]
`,
		"Secret":    `{apiVersion: v1, kind: Secret, metadata: {name: s, namespace: prod}, type: kubernetes.io/tls}`,
		"ConfigMap": `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: prod}, data: {a: b}}`,
		"Namespace": `{apiVersion: v1, kind: Namespace, metadata: {name: n, labels: {kubernetes.io/metadata.name: n}}}`,
	}
	for kind, doc := range docs {
		t.Run(kind, func(t *testing.T) {
			obj, _ := decodeForDefaults(t, doc)
			before := obj.DeepCopyObject()
			Default(obj)
			if !reflect.DeepEqual(before, obj) {
				a, _ := json.Marshal(before)
				b, _ := json.Marshal(obj)
				t.Errorf("Default changed explicit values:\nbefore %s\n after %s", a, b)
			}
		})
	}
}

func TestDefaultPodSpecIsTheTemplateDefault(t *testing.T) {
	obj, _ := decodeForDefaults(t, dfDeployment)
	d := obj.(*appsv1.Deployment)
	spec := d.Spec.Template.Spec.DeepCopy()
	DefaultPodSpec(spec)
	Default(d)
	if !reflect.DeepEqual(spec, &d.Spec.Template.Spec) {
		t.Error("DefaultPodSpec and a Deployment's template defaulting differ")
	}
}
