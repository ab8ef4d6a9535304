#!/usr/bin/env bash
# Offline Istio Helm charts (base, istiod, gateway, cni) from Istio's own Go module, istio.io/istio.
#
#   scripts/istio_charts.sh                 # charts of ISTIO_VERSION (meshstack/versions.py); prints their directory
#   scripts/istio_charts.sh --version 1.28.3
#   scripts/istio_charts.sh --with-helm     # also builds helm from helm.sh/helm/v3 (tests only); prints its path
#                                           # as a second line
#   scripts/istio_charts.sh --print-source  # only print "<version> istio.io/istio@<pseudo-version>" (bootstrap
#                                           # builds istioctl from the same commit)
#
# Output: ${MESHSTACK_CACHE:-$HOME/.cache/meshstack}/istio-charts-<version>/{base,istiod,gateway}, a
# directory usable as meshstack:mesh.chartRepository. Reused when present (idempotent).
#
# What is changed relative to the module's manifests/charts/{base,istio-control/istio-discovery,gateway}
# (exactly what istio/release-builder's stampChartForRelease does when it publishes a release; nothing else):
#   * Chart.yaml: `version:` and `appVersion:` (placeholder 1.0.0 in the source tree) → <version>;
#   * values.yaml: `hub: gcr.io/istio-testing|gcr.io/istio-release|registry.istio.io/testing` →
#     `hub: docker.io/istio`, and `tag: latest|*-latest-daily|1.x-dev` → `tag: <version>`.
# See docs/offline-charts.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${MESHSTACK_CACHE:-$HOME/.cache/meshstack}"
MODULE="istio.io/istio"
RELEASE_HUB="docker.io/istio"
# helm is only built for verification (tests/test_istio_charts.py); the program does not need it.
HELM_VERSION="v3.18.6"

die() { echo "istio_charts.sh: $*" >&2; exit 1; }

# Istio release → pseudo-version of the commit its tag points at (v0.0.0-<committer time, UTC>-<12 hex>).
# The Go proxy refuses istio.io/istio tags (they lack the "v"), and serves only some commits; these are
# the release-tag commits it serves (probed 1.28.0–1.30.3; 1.29.2–1.29.6 and every 1.30.x are refused).
source_module_version() {
    case "$1" in
        1.29.1) echo "v0.0.0-20260306174214-6991a379e1fc" ;; # tag 1.29.1 → 6991a379e1fcfbe21e64da2eda5d56624a5547b4
        1.28.3) echo "v0.0.0-20260114100434-4c1f845d839e" ;; # tag 1.28.3 → 4c1f845d839e9086ee85ad9337f2647492322eb4
        1.28.2) echo "v0.0.0-20251217200826-ab413ac6c1f4" ;; # tag 1.28.2 → ab413ac6c1f40b2f7c69d97e0db4e712e4ef1ecc
        *) return 1 ;;
    esac
}
KNOWN="1.29.1 1.28.3 1.28.2"

VERSION=""
WITH_HELM=0
PRINT_SOURCE=0
while (($#)); do
    case "$1" in
        --version) [[ $# -ge 2 ]] || die "--version needs a value"; VERSION="$2"; shift 2 ;;
        --version=*) VERSION="${1#*=}"; shift ;;
        --with-helm) WITH_HELM=1; shift ;;
        --print-source) PRINT_SOURCE=1; shift ;;
        -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

if [[ -z "$VERSION" ]]; then
    VERSION="$(sed -n 's/^ISTIO_VERSION *= *"\([^"]*\)".*/\1/p' "$ROOT/meshstack/versions.py")"
    [[ -n "$VERSION" ]] || die "could not read ISTIO_VERSION from $ROOT/meshstack/versions.py"
fi
PSEUDO="$(source_module_version "$VERSION")" ||
    die "no source pin for Istio $VERSION: the Go proxy serves istio.io/istio only at some commit pseudo-versions; releases pinned here: $KNOWN"
if ((PRINT_SOURCE)); then echo "$VERSION $MODULE@$PSEUDO"; exit 0; fi
command -v go >/dev/null || die "the go command is not on PATH (needed to download $MODULE@$PSEUDO)"
export GOFLAGS=-mod=mod

OUT="$CACHE/istio-charts-$VERSION"
CHARTS="base istiod gateway cni"
STAMP="$MODULE@$PSEUDO release=$VERSION hub=$RELEASE_HUB charts=${CHARTS// /,}"

build_charts() {
    local json dir tmp
    # Outside any module, so no go.mod is touched; go verifies the zip against the checksum database.
    if ! json="$(cd / && go mod download -json "$MODULE@$PSEUDO" 2>&1)"; then
        local reason
        reason="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Error": *"\(.*\)",*$/\1/p' | head -1)"
        die "cannot download $MODULE@$PSEUDO (Istio $VERSION): $(printf '%b' "${reason:-$json}")"
    fi
    dir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": *"\(.*\)",*$/\1/p')"
    [[ -n "$dir" && -d "$dir" ]] || die "go mod download gave no module directory for $MODULE@$PSEUDO: $json"

    mkdir -p "$CACHE"
    tmp="$(mktemp -d "$CACHE/.istio-charts-$VERSION.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    local name src
    for name in $CHARTS; do
        case "$name" in
            istiod) src="$dir/manifests/charts/istio-control/istio-discovery" ;;
            cni) src="$dir/manifests/charts/istio-cni" ;;
            *) src="$dir/manifests/charts/$name" ;;
        esac
        [[ -f "$src/Chart.yaml" && -f "$src/values.yaml" ]] || die "$MODULE@$PSEUDO has no chart at ${src#"$dir"/}"
        cp -R "$src" "$tmp/$name"
        chmod -R u+w "$tmp/$name" # the module cache is read-only
        stamp_chart "$tmp/$name"
    done
    printf '%s\n' "$STAMP" >"$tmp/.source"
    chmod 755 "$tmp"
    # Atomic publish; a concurrent run that got there first wins and ours is dropped.
    if ! mv -T "$tmp" "$OUT" 2>/dev/null; then
        [[ -f "$OUT/.source" ]] || die "could not create $OUT"
    fi
    trap - EXIT
    rm -rf "$tmp"
}

# What release-builder (pkg/build/helm.go, stampChartForRelease + updateValues) does to a chart.
stamp_chart() {
    local chart="$1" v
    v="$(printf '%s' "$VERSION" | sed 's/[.]/\\./g')"
    sed -i -E "s/^version: .*/version: $VERSION/; s/^appVersion: .*/appVersion: $VERSION/" "$chart/Chart.yaml"
    grep -qx "version: $v" "$chart/Chart.yaml" && grep -qx "appVersion: $v" "$chart/Chart.yaml" ||
        die "could not set version/appVersion in $chart/Chart.yaml"
    sed -i -E \
        -e "s#hub: (gcr\.io/istio-testing|gcr\.io/istio-release|registry\.istio\.io/testing)#hub: $RELEASE_HUB#g" \
        -e "s#\"hub\": \"(gcr\.io/istio-testing|gcr\.io/istio-release|registry\.istio\.io/testing)\"#\"hub\": \"$RELEASE_HUB\"#g" \
        -e "s#tag: .*-latest-daily#tag: $VERSION#g" \
        -e "s#tag: latest#tag: $VERSION#g" \
        -e "s#tag: 1\\..-dev#tag: $VERSION#g" \
        -e "s#\"tag\": \"latest\"#\"tag\": \"$VERSION\"#g" \
        "$chart/values.yaml"
}

if [[ -f "$OUT/.source" && "$(cat "$OUT/.source")" == "$STAMP" ]]; then
    : # reuse
elif [[ -f "$OUT/.source" ]]; then
    # Made by an earlier recipe of this script (e.g. before cni was added): rebuild it.
    old="$OUT.old-$$"; mv -T "$OUT" "$old" && build_charts && rm -rf "$old"
elif [[ -e "$OUT" ]]; then
    die "$OUT exists but was not made by this script for $STAMP; remove it and rerun"
else
    build_charts
fi
for name in $CHARTS; do
    [[ -f "$OUT/$name/Chart.yaml" ]] || die "$OUT/$name/Chart.yaml is missing; remove $OUT and rerun"
done
echo "$OUT"

if ((WITH_HELM)); then
    HELM_BIN="$CACHE/helm-bin"
    # helm built by go install reports only "v3.18" itself; the module version is in its build info.
    helm_module_version() { go version -m "$HELM_BIN/helm" 2>/dev/null | awk '$1 == "mod" && $2 == "helm.sh/helm/v3" {print $3}'; }
    if ! [[ -x "$HELM_BIN/helm" && "$(helm_module_version)" == "$HELM_VERSION" ]]; then
        mkdir -p "$HELM_BIN"
        (cd / && GOBIN="$HELM_BIN" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION") >&2 ||
            die "cannot build helm $HELM_VERSION from helm.sh/helm/v3 (go install failed)"
        [[ "$(helm_module_version)" == "$HELM_VERSION" ]] || die "$HELM_BIN/helm is not helm.sh/helm/v3 $HELM_VERSION"
    fi
    echo "$HELM_BIN/helm"
fi
