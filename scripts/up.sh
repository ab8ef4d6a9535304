#!/usr/bin/env bash
# `make up`: the whole mesh on this machine, no cloud and no internet needed.
#   1. build/reuse the engine and a local control plane (scripts/bootstrap.sh, cached outside the repo)
#   2. assemble Istio's official charts from the pinned release's sources (scripts/istio_charts.sh)
#   3. start the embedded cluster on 127.0.0.1 (scripts/cluster.py; reused while it runs)
#   4. run the real `pulumi up` of the dev stack against it (`meshstack up`: the Automation API,
#      local file backend in .meshstack/, passphrase secrets)
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=${MESHSTACK_STATE:-$PWD/.meshstack}
CLUSTER="$STATE/cluster"
mkdir -p "$STATE"

start=$(date +%s)
bash scripts/bootstrap.sh
charts=$(bash scripts/istio_charts.sh | head -n 1)
bin=$(bash scripts/bootstrap.sh --print-bin)
python3 scripts/cluster.py start --dir "$CLUSTER"
.venv/bin/meshstack up --stack dev --kubeconfig "$CLUSTER/kubeconfig" --charts "$charts" --state "$STATE"

cat <<MSG

make up: done in $(( $(date +%s) - start ))s. The dev stack runs on an embedded Kubernetes API server
(fake kwok nodes: pods are scheduled and report Ready, but no container runs).

  kubeconfig:   $CLUSTER/kubeconfig
  look around:  export KUBECONFIG=$CLUSTER/kubeconfig PATH=$bin:\$PATH
                kubectl get pods -A
                kubectl get virtualservices,destinationrules,gateways -A
  the engine:   .venv/bin/meshstack preview --stack dev --kubeconfig \$KUBECONFIG --charts $charts --state $STATE
  stop:         make down   (stops the cluster and forgets its stack state)
MSG
