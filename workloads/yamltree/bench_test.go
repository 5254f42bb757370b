package yamltree

import (
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// benchDeployment is a realistic block-style Deployment of about 1.4 KB.
const benchDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend
  namespace: shop
  labels:
    app.kubernetes.io/name: frontend
    app.kubernetes.io/part-of: shop
    tier: web
  annotations:
    deployment.kubernetes.io/revision: "3"
spec:
  replicas: 3
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: frontend
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: frontend
        tier: web
    spec:
      serviceAccountName: frontend
      securityContext:
        runAsNonRoot: true
        fsGroup: 2000
      containers:
      - name: server
        image: "registry.example.com/shop/frontend:v1.4.2"
        imagePullPolicy: IfNotPresent
        args: ["--port=8080", "--log-level=info"]
        ports:
        - name: http
          containerPort: 8080
          protocol: TCP
        env:
        - name: PORT
          value: "8080"
        - name: CART_SERVICE_ADDR
          value: cart:7070
        - name: ENABLE_PROFILER
          value: "0"
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
          limits:
            cpu: 200m
            memory: 128Mi
        readinessProbe:
          initialDelaySeconds: 10
          httpGet:
            path: /_healthz
            port: 8080
        livenessProbe:
          initialDelaySeconds: 10
          httpGet:
            path: /_healthz
            port: 8080
        volumeMounts:
        - name: config
          mountPath: /etc/frontend
          readOnly: true
      volumes:
      - name: config
        configMap:
          name: frontend-config
`

func BenchmarkParse(b *testing.B) {
	doc := []byte(benchDeployment)
	if _, _, bailed, _, _ := parseBoth(doc, 1, DefaultLimits); bailed {
		b.Fatal("benchmark document does not take the fast path")
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc, 1, DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseFallback is the same document through yaml.v3 and the
// conversion, i.e. what a document the fast parser bails on costs.
func BenchmarkParseFallback(b *testing.B) {
	doc := []byte(benchDeployment)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseFallback(doc, 1, DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkYAMLv3Node is bare yaml.v3 Unmarshal into a yaml.Node, for scale.
func BenchmarkYAMLv3Node(b *testing.B) {
	doc := []byte(benchDeployment)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		var n yaml.Node
		if err := yaml.Unmarshal(doc, &n); err != nil {
			b.Fatal(err)
		}
	}
}
