#!/usr/bin/env bash
# Before the test suite: enough free disk where it writes, or one clear error now. A full disk does
# not fail a run cleanly: etcd stops, the API server and the engine wait on it, and the run hangs
# until its time limit (what ended a CI run at 90 minutes; README.md#tests).
# A run writes about 1.5 GB under $TMPDIR (clusters, states, wheels; removed when it passes) and
# 1.1 GB for a fresh .venv; a cold engine bootstrap needs about 10 GB more (scripts/bootstrap.sh
# warns).
set -euo pipefail
cd "$(dirname "$0")/.."

NEED_MB=${MESHSTACK_MIN_FREE_MB:-3072}
status=0
check() {  # check <what> <dir>
  local free_mb
  free_mb=$(df -Pm "$2" | awk 'NR == 2 { print $4 }')
  if [ "$free_mb" -lt "$NEED_MB" ]; then
    echo "preflight: $1 ($2) has ${free_mb} MB free; the test suite needs ${NEED_MB} MB (MESHSTACK_MIN_FREE_MB)." >&2
    status=1
  else
    echo "preflight: $1 ($2): ${free_mb} MB free"
  fi
}
check "the temp dir" "${TMPDIR:-/tmp}"
check "the checkout" "$PWD"
if [ "$status" -ne 0 ]; then
  echo "preflight: free some space first: old pytest runs (${TMPDIR:-/tmp}/pytest-of-$(id -un)), pip's leftovers (${TMPDIR:-/tmp}/pip-*), other checkouts' .venv." >&2
fi
exit "$status"
