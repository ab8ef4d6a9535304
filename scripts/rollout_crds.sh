#!/usr/bin/env bash
# Fetch the CRDs of Flagger and Argo Rollouts at pinned releases, from their Go modules (the Go
# module proxy is the one source this repository fetches code from), for tests/test_rollout_targets.py.
#
#   scripts/rollout_crds.sh     → prints the directory holding flagger-crd.yaml,
#                                 argo-rollout-crd.yaml and argo-analysis-template-crd.yaml
#
# Cached under ${XDG_CACHE_HOME:-$HOME/.cache}/meshstack/rollout-crds/<versions>; a warm cache
# answers without calling go. Versions: scripts/rollout-crds.env (FLAGGER_GO_VERSION,
# ARGO_ROLLOUTS_GO_VERSION); the environment may override them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -z "${FLAGGER_GO_VERSION:-}" || -z "${ARGO_ROLLOUTS_GO_VERSION:-}" ]]; then
  # shellcheck source=rollout-crds.env
  source "$here/rollout-crds.env"
fi
: "${FLAGGER_GO_VERSION:?not set in scripts/rollout-crds.env}"
: "${ARGO_ROLLOUTS_GO_VERSION:?not set in scripts/rollout-crds.env}"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/meshstack/rollout-crds/flagger-${FLAGGER_GO_VERSION}_argo-rollouts-${ARGO_ROLLOUTS_GO_VERSION}"
files=(flagger-crd.yaml argo-rollout-crd.yaml argo-analysis-template-crd.yaml)

warm=1
for f in "${files[@]}"; do [[ -s "$cache/$f" ]] || warm=0; done
if [[ $warm == 1 ]]; then
  echo "$cache"
  exit 0
fi

command -v go >/dev/null || { echo "rollout_crds.sh: go is not installed (needed once to fetch the CRDs)" >&2; exit 1; }
export GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

# The module's extracted directory (go mod download fills the module cache; -json names the directory).
module_dir() {
  local out dir
  out="$(cd / && go mod download -json "$1@$2")" || { echo "rollout_crds.sh: go mod download $1@$2 failed:" >&2; echo "$out" >&2; exit 1; }
  dir="$(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    echo "rollout_crds.sh: no module directory for $1@$2:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "$dir"
}

copy() {
  [[ -s "$1" ]] || { echo "rollout_crds.sh: $1 is missing from the module" >&2; exit 1; }
  install -m 0644 "$1" "$tmp/$2"
}

mkdir -p "$(dirname "$cache")"
tmp="$(mktemp -d "$(dirname "$cache")/.tmp.XXXXXX")"
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

flagger="$(module_dir github.com/fluxcd/flagger "$FLAGGER_GO_VERSION")"
argo="$(module_dir github.com/argoproj/argo-rollouts "$ARGO_ROLLOUTS_GO_VERSION")"
copy "$flagger/artifacts/flagger/crd.yaml" flagger-crd.yaml
copy "$argo/manifests/crds/rollout-crd.yaml" argo-rollout-crd.yaml
copy "$argo/manifests/crds/analysis-template-crd.yaml" argo-analysis-template-crd.yaml
printf 'github.com/fluxcd/flagger %s\ngithub.com/argoproj/argo-rollouts %s\n' \
  "$FLAGGER_GO_VERSION" "$ARGO_ROLLOUTS_GO_VERSION" >"$tmp/SOURCES"

# Publish atomically: a concurrent run either sees nothing or the whole directory.
rm -rf "$cache"
mv "$tmp" "$cache" 2>/dev/null || [[ -s "$cache/${files[0]}" ]]
trap - EXIT
rm -rf "$tmp"
echo "$cache"
