package workloads

import (
	"fmt"
	"strings"
	"testing"
)

func TestConfigReferences(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string // Kind namespace/name path [optional]
	}{
		{"deployment", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      imagePullSecrets: [{name: registry}]
      initContainers:
      - name: init
        image: init:1
        envFrom: [{secretRef: {name: init-secret}}]
      containers:
      - name: web
        image: nginx:1.27
        env:
        - {name: A, value: a}
        - {name: B, valueFrom: {configMapKeyRef: {name: flags, key: b, optional: true}}}
        - {name: C, valueFrom: {secretKeyRef: {name: db, key: password}}}
        - {name: D, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        envFrom: [{configMapRef: {name: settings}, prefix: S_}]
      volumes:
      - {name: conf, configMap: {name: nginx-conf}}
      - {name: tls, secret: {secretName: web-tls, optional: false}}
      - {name: scratch, emptyDir: {}}
      - name: all
        projected:
          sources:
          - configMap: {name: extra, optional: true}
          - secret: {name: extra-secret}
          - serviceAccountToken: {path: token}
`, []string{
			"Secret shop/init-secret spec.template.spec.initContainers[0].envFrom[0].secretRef",
			"ConfigMap shop/flags spec.template.spec.containers[0].env[1].valueFrom.configMapKeyRef optional",
			"Secret shop/db spec.template.spec.containers[0].env[2].valueFrom.secretKeyRef",
			"ConfigMap shop/settings spec.template.spec.containers[0].envFrom[0].configMapRef",
			"ConfigMap shop/nginx-conf spec.template.spec.volumes[0].configMap",
			"Secret shop/web-tls spec.template.spec.volumes[1].secret",
			"ConfigMap shop/extra spec.template.spec.volumes[3].projected.sources[0].configMap optional",
			"Secret shop/extra-secret spec.template.spec.volumes[3].projected.sources[1].secret",
			"Secret shop/registry spec.template.spec.imagePullSecrets[0]",
		}},
		{"pod", `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: a, image: a, envFrom: [{configMapRef: {name: cfg, optional: true}}]}]
`, []string{"ConfigMap /cfg spec.containers[0].envFrom[0].configMapRef optional"}},
		{"cronjob", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c, namespace: ops}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: a, image: a}]
          volumes: [{name: creds, secret: {secretName: backup-creds}}]
`, []string{"Secret ops/backup-creds spec.jobTemplate.spec.template.spec.volumes[0].secret"}},
		{"service has none", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{port: 80}]}}`, nil},
		{"unnamed references are left to validation", `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: a, image: a}]
  volumes: [{name: v, configMap: {}}]
`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range configReferences(valTestObject(t, tc.doc)) {
				s := fmt.Sprintf("%s %s/%s %s", r.Kind, r.Namespace, r.Name, r.Path)
				if r.Optional {
					s += " optional"
				}
				got = append(got, s)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}
