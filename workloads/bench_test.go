package workloads

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// benchTemplates are realistic manifests of each served kind, sized like
// those of the real-world corpus (about 700 bytes a document on average).
var benchTemplates = []string{`apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
  namespace: shop
  labels:
    app: NAME
    tier: web
  annotations:
    team: storefront
spec:
  replicas: 3
  selector:
    matchLabels:
      app: NAME
  strategy:
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app: NAME
        tier: web
    spec:
      containers:
      - name: server
        image: registry.local/NAME:v1.4.2
        ports:
        - containerPort: 8080
          name: http
        env:
        - name: PORT
          value: "8080"
        - name: LOG_LEVEL
          valueFrom:
            configMapKeyRef:
              name: NAME-config
              key: level
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
          initialDelaySeconds: 5
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
          limits:
            cpu: 200m
            memory: 128Mi
`, `apiVersion: v1
kind: Service
metadata:
  name: NAME
  namespace: shop
  labels:
    app: NAME
spec:
  type: ClusterIP
  selector:
    app: NAME
  ports:
  - name: http
    port: 80
    targetPort: 8080
`, `apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME-config
  namespace: shop
data:
  level: info
  feature-flags: "checkout,search"
  app.properties: |
    cache.size=512
    cache.ttl=30s
`, `apiVersion: batch/v1
kind: CronJob
metadata:
  name: NAME
  namespace: shop
spec:
  schedule: "*/15 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: task
            image: registry.local/NAME-task:v2
            args: ["--once", "--verbose"]
            resources:
              limits:
                memory: 64Mi
`, `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: NAME
  namespace: shop
spec:
  selector:
    matchLabels:
      app: NAME
  template:
    metadata:
      labels:
        app: NAME
    spec:
      tolerations:
      - operator: Exists
      containers:
      - name: agent
        image: registry.local/NAME-agent:v3
        volumeMounts:
        - name: logs
          mountPath: /var/log
          readOnly: true
      volumes:
      - name: logs
        hostPath:
          path: /var/log
`, `apiVersion: v1
kind: Secret
metadata:
  name: NAME-creds
  namespace: shop
type: Opaque
stringData:
  username: shop
  password: s3cr3t
`}

// writeBenchCorpus writes docs documents spread over files files.
func writeBenchCorpus(tb testing.TB, dir string, files, docs int) {
	per := docs / files
	n := 0
	for f := 0; f < files; f++ {
		var b strings.Builder
		for d := 0; d < per; d++ {
			if d > 0 {
				b.WriteString("---\n")
			}
			tpl := benchTemplates[n%len(benchTemplates)]
			b.WriteString(strings.ReplaceAll(tpl, "NAME", fmt.Sprintf("app%d", n)))
			n++
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("m%05d.yaml", f)), []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// heapSink discards results and samples the live heap, to show that memory
// does not grow with the number of files.
type heapSink struct {
	n    int
	peak uint64
}

func (s *heapSink) Document(DocumentResult) {
	s.n++
	if s.n%1000 == 0 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		s.peak = max(s.peak, m.HeapInuse)
	}
}
func (s *heapSink) Diagnostic(Diagnostic) {}

// BenchmarkValidate validates a generated corpus of 10,000 documents of mixed
// kinds, as `berth validate DIR` does, and reports documents/s and the peak
// live heap. Run: make bench (or go test -run '^$' -bench Validate -cpu 1 ./workloads/).
func BenchmarkValidate(b *testing.B) {
	for _, files := range []int{100, 10000} {
		b.Run(fmt.Sprintf("docs=10000/files=%d", files), func(b *testing.B) {
			dir := b.TempDir()
			writeBenchCorpus(b, dir, files, 10000)
			b.ResetTimer()
			start := time.Now()
			var sink heapSink
			for i := 0; i < b.N; i++ {
				sink.n = 0
				sum := Validate([]string{dir}, ValidateOptions{}, &sink)
				if sum.Documents != 10000 || sum.Invalid != 0 {
					b.Fatalf("unexpected summary %+v", sum)
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(10000*b.N)/elapsed.Seconds(), "docs/s")
			b.ReportMetric(float64(sink.peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
