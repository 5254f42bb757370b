# berth: the two commands a newcomer needs are `make run` and `make test`.

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN      := bin/berth
LDFLAGS  := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 60s

.PHONY: build run test deps check unit e2e bench fuzz images clean

# What the node's end-to-end tests run against: Debian's containerd, runc,
# CNI plugins and registry. Installed when missing, if we are root (CI is).
DEB_PACKAGES := containerd runc containernetworking-plugins docker-registry iptables curl

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/berth

# `make run` serves examples/quickstart with `berth server` on this machine
# (as root): see examples/quickstart/run.sh.
run: build deps
	$(BIN) validate --summary examples/
	BERTH=$(BIN) examples/quickstart/run.sh

# Everything: formatting, vet, unit tests (with the race detector) and the
# end-to-end tests of the CLI.
test: deps check unit e2e

deps:
	@if ! command -v containerd >/dev/null || ! command -v runc >/dev/null || \
	   ! command -v docker-registry >/dev/null || ! command -v iptables >/dev/null || ! command -v curl >/dev/null || \
	   [ ! -x /usr/lib/cni/bridge ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing $(DEB_PACKAGES)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
		else \
			echo "missing some of $(DEB_PACKAGES): the containerd end-to-end tests will skip (run as root to install them)"; \
		fi; \
	fi

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# The simulator runs thousands of single-threaded rollouts: it runs
# without the race detector (the concurrent packages run with it).
unit:
	$(GO) test -race -count=1 -skip 'E2E' $$($(GO) list ./... | grep -v /reconciler/sim)
	$(GO) test -count=1 ./reconciler/sim/

# The end-to-end tests build the berth binary and run it as a user would.
e2e:
	$(GO) test -count=1 -run 'E2E' ./cmd/berth/

bench:
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 ./workloads/... ./rollouts/... ./reconciler/store/ ./reconciler/scheduler/
	$(GO) test -run '^$$' -bench SteadyState -benchtime 1x ./reconciler/controller/
	$(GO) test -run '^$$' -bench Rollout1000 -benchtime 3x -benchmem -cpu 1 ./reconciler/sim/
	$(GO) test -run '^$$' -bench Apply1000 -benchtime 5x -benchmem -cpu 1 ./reconciler/gitops/
	$(GO) test -run '^$$' -bench 'WebhookToApplied|FolderToApplied' -benchtime 50x ./reconciler/server/
	$(GO) test -run '^$$' -bench 'PodStart|ServerRSS' -benchtime 1x ./cmd/berth/

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./workloads/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./workloads/yamltree/

IMAGES_DIR        ?= bin/images
IMAGE_PUSH        ?=
CONTAINERD_SOCKET ?=

# The hello example as OCI images v1 and v2 (no Docker): tarballs in
# $(IMAGES_DIR), plus, when set, a push to IMAGE_PUSH (e.g. 127.0.0.1:5000,
# credentials from REGISTRY_USER/REGISTRY_PASSWORD) and an import into the
# containerd at CONTAINERD_SOCKET (namespace berth).
images:
	$(GO) run ./examples/hello/cmd/mkimage --src examples/hello --out $(IMAGES_DIR) \
		$(if $(IMAGE_PUSH),--push $(IMAGE_PUSH)) \
		$(if $(CONTAINERD_SOCKET),--containerd-socket $(CONTAINERD_SOCKET) --namespace berth)

clean:
	rm -rf bin
