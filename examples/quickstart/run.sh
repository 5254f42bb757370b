#!/bin/bash
# `make run`: serve this folder with `berth server` on this machine. The
# quickstart's image comes from a registry on 127.0.0.1:5000 (Debian's
# docker-registry, started here unless one already answers), where the
# hello example is pushed first; berth's own containerd pulls it from there.
# Ctrl-C stops the server; its pods keep running, as a node's do, and the
# next `make run` picks them up.
set -euo pipefail
cd "$(dirname "$0")/../.."
BERTH=${BERTH:-bin/berth}
DATA_DIR=${DATA_DIR:-/var/lib/berth-quickstart}
REGISTRY=127.0.0.1:5000

if [ "$(id -u)" != 0 ]; then
	echo "make run needs root: berth runs containerd, CNI networking and pods on this machine" >&2
	exit 1
fi
mkdir -p "$DATA_DIR/registry"
registry_pid=
if ! (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; then
	cat >"$DATA_DIR/registry/config.yml" <<CFG
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $DATA_DIR/registry/data}}
http: {addr: $REGISTRY}
CFG
	docker-registry serve "$DATA_DIR/registry/config.yml" >"$DATA_DIR/registry/registry.log" 2>&1 &
	registry_pid=$!
	trap '[ -n "$registry_pid" ] && kill $registry_pid 2>/dev/null' EXIT
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null && break; sleep 0.1; done
fi
echo "pushing the hello example's images to $REGISTRY"
go run ./examples/hello/cmd/mkimage --src examples/hello --push "$REGISTRY" >/dev/null

cat <<MSG

berth server is starting with examples/quickstart as a folder source.
In another terminal:
  export BERTH_CONFIG=$DATA_DIR/admin.conf
  $BERTH get pods -o wide                      # the hello pods and their IPs
  curl http://<pod IP>:8080/                   # the hello app answers
  sed -i 's/hello:v1/hello:v2/' examples/quickstart/deployment.yaml   # edit: a new rollout
  $BERTH rollout status deploy/hello           # watch the rollout
  $BERTH rollout history deploy/hello
  $BERTH rollout undo deploy/hello             # back to v1, pinned until resume
  $BERTH get sources                           # what was applied, and how it went

MSG
"$BERTH" server --data-dir "$DATA_DIR" --listen 127.0.0.1:6443 --dir examples/quickstart --source-name quickstart
