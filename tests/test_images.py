"""The embedded cluster's images (scripts/images.py) and the Bookinfo stand-in (images/bookinfo-standin).

Fast, no cluster: archives built from small inputs in a temp dir (deterministic, laid out as
``ctr images import`` reads them); the image definitions against what the dev and prod stacks
render; the Prometheus the image carries against meshstack's rendered config; and the stand-in,
built with ``go build`` and run on 127.0.0.1 (every request loop bounded, every process stopped).
A missing ``go`` or bootstrap tool fails these tests: nothing is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import importlib.util
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from meshstack.apps.bookinfo import VERSIONS, BookinfoConfig
from meshstack.model.addons import PrometheusAddon
from meshstack.render.addons import prometheus as prometheus_render
from meshstack.versions import ISTIO_VERSION, PROMETHEUS_VERSION
from tests.harness import ROOT, Recording
from tests.processes import read_until
from tests.validators import tool

STANDIN_SRC = ROOT / "images" / "bookinfo-standin"


def _load_images() -> ModuleType:
    spec = importlib.util.spec_from_file_location("meshstack_scripts_images", ROOT / "scripts" / "images.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


images = _load_images()


# ---------------------------------------------------------------- archives


def read_member(tf: tarfile.TarFile, member: tarfile.TarInfo) -> bytes | None:
    f = tf.extractfile(member) if member.isfile() else None
    return f.read() if f is not None else None


def read_archive(path: Path) -> dict[str, Any]:
    """What an archive holds: its file names, OCI index, manifest, config, layer members, blobs' bytes."""
    with tarfile.open(path) as tf:
        files = {m.name: read_member(tf, m) for m in tf.getmembers()}
    index = json.loads(files["index.json"])
    manifest_bytes = files["blobs/sha256/" + index["manifests"][0]["digest"][7:]]
    manifest = json.loads(manifest_bytes)
    config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"][7:]])
    layer_bytes = files["blobs/sha256/" + manifest["layers"][0]["digest"][7:]]
    with tarfile.open(fileobj=io.BytesIO(layer_bytes)) as layer:
        members = layer.getmembers()
        contents = {m.name: read_member(layer, m) for m in members if m.isfile()}
    return {
        "files": files,
        "index": index,
        "manifest": manifest,
        "manifest_bytes": manifest_bytes,
        "config": config,
        "layer_bytes": layer_bytes,
        "members": members,
        "contents": contents,
    }


@pytest.fixture
def small_image(tmp_path: Path) -> Any:
    binary = tmp_path / "tool"
    binary.write_bytes(b"\x7fELF not really\n")
    return images.Image(
        ref="docker.io/meshstack/test:1.0",
        contents=(
            *images.base([("app", 1000)]),
            images.HostFile(binary, "usr/local/bin/tool", xattrs={"security.capability": images.CAP_NET_BIND_SERVICE}),
            images.Text("etc/tool.conf", "answer = 42\n"),
            images.Dir("var/lib/tool", 0o750, 1000, 1000),
            images.Symlink("usr/bin/tool", "../local/bin/tool"),
        ),
        user="1000:1000",
        entrypoint=("/usr/local/bin/tool", "serve"),
        cmd=("--verbose",),
        ports=("8080/tcp",),
        labels=images.labels("test", "a test image", "1.0"),
    )


def build_small(image: Any, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    return images.write_archive(image, images.assemble(image, {}), out / image.archive)


def test_the_same_inputs_give_the_same_archive_and_digests(small_image: Any, tmp_path: Path) -> None:
    first = build_small(small_image, tmp_path / "a")
    second = build_small(small_image, tmp_path / "b")
    assert first == second
    assert (tmp_path / "a" / "test-1.0.tar").read_bytes() == (tmp_path / "b" / "test-1.0.tar").read_bytes()
    assert hashlib.sha256((tmp_path / "a" / "test-1.0.tar").read_bytes()).hexdigest() == first["archiveSha256"]
    # Any change of content or config is a new digest.
    (tmp_path / "tool").write_bytes(b"\x7fELF changed\n")
    assert build_small(small_image, tmp_path / "c")["manifestDigest"] != first["manifestDigest"]


def test_an_archive_is_the_oci_layout_containerd_imports(small_image: Any, tmp_path: Path) -> None:
    record = build_small(small_image, tmp_path)
    a = read_archive(tmp_path / record["archive"])
    assert a["files"]["oci-layout"] == b'{"imageLayoutVersion":"1.0.0"}'
    (entry,) = a["index"]["manifests"]
    assert entry["annotations"] == {
        "io.containerd.image.name": "docker.io/meshstack/test:1.0",
        "org.opencontainers.image.ref.name": "1.0",
    }
    assert entry["platform"] == {"architecture": "amd64", "os": "linux"}
    assert entry["digest"] == record["manifestDigest"] == "sha256:" + hashlib.sha256(a["manifest_bytes"]).hexdigest()
    # Every blob is stored under its own digest; the one layer is uncompressed, so its digest is its diff id.
    for name, data in a["files"].items():
        if name.startswith("blobs/sha256/") and data is not None:
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]
    (layer,) = a["manifest"]["layers"]
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    assert a["config"]["rootfs"] == {"type": "layers", "diff_ids": [layer["digest"]]}
    cfg = a["config"]["config"]
    assert cfg["User"] == "1000:1000"
    assert cfg["Entrypoint"] == ["/usr/local/bin/tool", "serve"] and cfg["Cmd"] == ["--verbose"]
    assert cfg["WorkingDir"] == "/" and cfg["ExposedPorts"] == {"8080/tcp": {}}
    assert cfg["Labels"]["org.opencontainers.image.title"] == "test"
    # The Docker manifest (docker/podman load) names the same config and layer.
    (docker,) = json.loads(a["files"]["manifest.json"])
    assert docker["RepoTags"] == ["docker.io/meshstack/test:1.0"]
    assert docker["Config"] == "blobs/sha256/" + a["manifest"]["config"]["digest"][7:]
    assert docker["Layers"] == ["blobs/sha256/" + layer["digest"][7:]]


def test_a_layer_has_fixed_times_and_owners_parents_first_and_keeps_file_capabilities(
    small_image: Any, tmp_path: Path
) -> None:
    a = read_archive(tmp_path / build_small(small_image, tmp_path)["archive"])
    members = {m.name.rstrip("/"): m for m in a["members"]}
    names = [m.name.rstrip("/") for m in a["members"]]
    assert names == sorted(names, key=lambda p: p.split("/"))
    assert {m.mtime for m in a["members"]} == {0} and {m.uname for m in a["members"]} == {""}
    assert (members["var/lib/tool"].uid, members["var/lib/tool"].mode) == (1000, 0o750)
    assert members["tmp"].mode == 0o1777
    assert members["usr/bin/tool"].issym() and members["usr/bin/tool"].linkname == "../local/bin/tool"
    assert a["contents"]["etc/passwd"].decode().splitlines()[1] == "app:x:1000:1000:app:/nonexistent:/usr/sbin/nologin"
    capability = members["usr/local/bin/tool"].pax_headers["SCHILY.xattr.security.capability"]
    assert capability.encode("utf-8", "surrogateescape") == images.CAP_NET_BIND_SERVICE


def test_a_link_that_leads_nowhere_stops_the_build() -> None:
    image = images.Image(
        ref="docker.io/meshstack/broken:1",
        contents=(images.Symlink("usr/bin/tool", "/opt/missing"),),
        entrypoint=("/usr/bin/tool",),
        labels={},
    )
    with pytest.raises(images.ImageError, match="links that lead nowhere: usr/bin/tool -> /opt/missing"):
        images.assemble(image, {})


# ---------------------------------------------------------------- the definitions


def inputs(bin_dir: Path, prometheus_source: Path) -> Any:
    """Inputs of the definitions; nothing but the Prometheus module's VERSION file is read from them."""
    return images.Inputs(
        bin=bin_dir,
        versions=images.read_versions(),
        istio_version=ISTIO_VERSION,
        istio_source=Path("/nonexistent/istio.io/istio@v0.0.0-20260306174214-6991a379e1fc"),
        prometheus_source=prometheus_source,
        pause_version="3.10.1",
        envoy_build="9e5580933739775e8bce696a57a2e1bc99368f23/1.40.0/Clean/RELEASE/BoringSSL",
    )


@pytest.fixture(scope="module")
def prometheus_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the github.com/prometheus/prometheus module directory of meshstack's release."""
    source = tmp_path_factory.mktemp("modules") / "prometheus@v0.307.3"
    source.mkdir()
    (source / "VERSION").write_text(PROMETHEUS_VERSION.lstrip("v") + "\n")
    return source


@pytest.fixture(scope="module")
def defined(prometheus_source: Path) -> dict[str, Any]:
    """Every image definition, by reference."""
    return {
        i.ref: i for i in images.definitions(inputs(Path("/nonexistent/bin"), prometheus_source), images.read_lock())
    }


def rendered_images(rec: Recording) -> set[str]:
    """Every container image of the Kubernetes objects a stack renders."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key in ("containers", "initContainers"):
                for container in value.get(key) or []:
                    found.add(container["image"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for obj in rec.kubernetes_objects:
        walk(obj.inputs)
    return found


def test_every_image_the_stacks_render_is_built_or_said_to_be_unavailable(
    defined: dict[str, Any], dev: Recording, prod: Recording
) -> None:
    for rec in (dev, prod):
        refs = rendered_images(rec)
        assert f"docker.io/prom/prometheus:{PROMETHEUS_VERSION}" in refs
        missing = {r for r in refs if r not in defined and r.rsplit(":", 1)[0] not in images.UNAVAILABLE}
        assert not missing, f"{rec.stack}: images neither built nor listed as unavailable: {missing}"
        assert {r.rsplit(":", 1)[0] for r in refs if r not in defined} == set(images.UNAVAILABLE)


def test_istiod_and_its_proxies_use_the_chart_defaults_the_images_are_built_for(
    defined: dict[str, Any], dev: Recording, prod: Recording
) -> None:
    """The charts name ``<global.hub>/<pilot.image>:<global.tag>`` and ``.../<global.proxy.image>:...``;
    the stacks leave those values to the charts, which scripts/istio_charts.sh stamps with
    docker.io/istio and the release (tests/test_istio_charts.py checks the stamp)."""
    for rec in (dev, prod):
        for chart in rec.helm_charts:
            values = chart.inputs.get("values") or {}
            assert "hub" not in values.get("global", {}) and "tag" not in values.get("global", {})
            assert "image" not in values.get("pilot", {}) and "image" not in values.get("global", {}).get("proxy", {})
    assert {f"docker.io/istio/pilot:{ISTIO_VERSION}", f"docker.io/istio/proxyv2:{ISTIO_VERSION}"} <= set(defined)


def test_bookinfo_stand_ins_match_the_app_and_say_what_they_are(defined: dict[str, Any], dev: Recording) -> None:
    assert {k: tuple(v) for k, v in VERSIONS.items()} == images.BOOKINFO_VERSIONS
    app = BookinfoConfig()
    assert (app.image_registry, app.image_tag) == (images.BOOKINFO_HUB, images.BOOKINFO_TAG)
    pods = [
        o.inputs["spec"]["template"]["spec"] for o in dev.kubernetes_objects if o.inputs.get("kind") == "Deployment"
    ]
    users = {c["securityContext"].get("runAsUser") for p in pods for c in p["containers"] if "bookinfo" in c["image"]}
    assert users == {images.BOOKINFO_UID}
    for svc, versions in images.BOOKINFO_VERSIONS.items():
        for ver in versions:
            image = defined[f"docker.io/istio/examples-bookinfo-{svc}-{ver}:1.20.3"]
            assert image.stand_in and image.user == "1000:1000"
            assert image.entrypoint == ("/usr/local/bin/bookinfo-standin", "serve", "--service", svc, "--version", ver)
            assert (
                image.labels["org.opencontainers.image.title"] == f"meshstack stand-in for Istio Bookinfo {svc} {ver}"
            )
            assert image.labels["org.opencontainers.image.description"].startswith("Not Istio's Bookinfo")
            assert "org.opencontainers.image.version" not in image.labels


def test_upstream_images_keep_upstream_users_entrypoints_and_paths(defined: dict[str, Any]) -> None:
    pause = defined["registry.k8s.io/pause:3.10.1"]
    assert (pause.user, pause.entrypoint) == ("65535:65535", ("/pause",))
    coredns = defined[f"registry.k8s.io/coredns/coredns:{images.read_versions()['COREDNS_VERSION']}"]
    assert (coredns.user, coredns.entrypoint) == ("65532:65532", ("/coredns",))
    (binary,) = [c for c in coredns.contents if isinstance(c, images.HostFile)]
    assert binary.xattrs == {"security.capability": images.CAP_NET_BIND_SERVICE}  # binds :53 as nonroot
    pilot = defined[f"docker.io/istio/pilot:{ISTIO_VERSION}"]
    assert (pilot.user, pilot.entrypoint) == ("1337:1337", ("/usr/local/bin/pilot-discovery",))
    proxy = defined[f"docker.io/istio/proxyv2:{ISTIO_VERSION}"]
    assert (proxy.user, proxy.workdir, proxy.entrypoint) == ("", "/", ("/usr/local/bin/pilot-agent",))
    assert "ISTIO_META_ISTIO_PROXY_SHA=9e5580933739775e8bce696a57a2e1bc99368f23" in proxy.env
    assert "not Istio's istio-proxy build" in proxy.labels["org.opencontainers.image.description"]
    prom = defined[f"docker.io/prom/prometheus:{PROMETHEUS_VERSION}"]
    assert (prom.user, prom.workdir, prom.entrypoint) == ("65534:65534", "/prometheus", ("/bin/prometheus",))
    archives = [i.archive for i in defined.values()]
    assert len(set(archives)) == len(archives)


# ---------------------------------------------------------------- Prometheus


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_images_prometheus_loads_meshstacks_config_and_flags(tmp_path: Path) -> None:
    """The binary docker.io/prom/prometheus carries (bootstrap's prometheus-<release>) with the
    rendered prometheus.yml and the Deployment's own flags, on 127.0.0.1. (Debian's prometheus
    2.42 refuses this config: Debian removed Kubernetes service discovery.)"""
    binary = tool(f"prometheus-{PROMETHEUS_VERSION}")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    assert f"prometheus, version {PROMETHEUS_VERSION.lstrip('v')} " in version
    objs = prometheus_render.manifests(PrometheusAddon(), "istio-system")
    config = next(o for o in objs if o["kind"] == "ConfigMap")["data"]["prometheus.yml"]
    assert yaml.safe_load(config)["scrape_configs"][1]["kubernetes_sd_configs"]
    args = next(o for o in objs if o["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    (tmp_path / "prometheus.yml").write_text(config)
    args = [
        a.replace("/etc/prometheus/prometheus.yml", str(tmp_path / "prometheus.yml")).replace(
            "--storage.tsdb.path=/prometheus", f"--storage.tsdb.path={tmp_path / 'data'}"
        )
        for a in args
    ]
    port = free_port()
    with (tmp_path / "log").open("w") as log:
        proc = subprocess.Popen([binary, *args, f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 30
            status = 0
            while time.monotonic() < deadline and proc.poll() is None:
                with contextlib.suppress(OSError):
                    status = request(f"127.0.0.1:{port}", "/-/ready")[0]
                if status == 200:
                    break
                time.sleep(0.2)
            assert status == 200, (tmp_path / "log").read_text()[-3000:]
            status, _, body = request(f"127.0.0.1:{port}", "/api/v1/status/config")
            assert status == 200 and "kubernetes_sd_configs" in json.loads(body)["data"]["yaml"]
        finally:
            stop(proc)


# ---------------------------------------------------------------- the Bookinfo stand-in


def request(
    address: str, path: str, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, dict[str, str], bytes]:
    """One GET on loopback, redirects not followed: status, headers (lower-case names), body."""
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def get_json(address: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    status, head, body = request(address, path, headers)
    return status, head, json.loads(body)


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def standin_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    assert go, "go is not on PATH: the stand-in's tests build it (scripts/bootstrap.sh needs go too)"
    out = tmp_path_factory.mktemp("standin") / "bookinfo-standin"
    env = {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    res = subprocess.run(
        [go, "build", "-trimpath", "-o", str(out), "."],
        cwd=STANDIN_SRC,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    return out


class Standins:
    """Stand-ins started on 127.0.0.1 (a free port each), all stopped at the end of the test."""

    def __init__(self, binary: Path, logs: Path) -> None:
        self.binary, self.logs = binary, logs
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, service: str, version: str = "v1", **env: str) -> str:
        """Start one; returns its address once it listens."""
        log = self.logs / f"{service}-{version}-{len(self.procs)}.log"
        proc = subprocess.Popen(
            [str(self.binary), "serve", "--service", service, "--version", version, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
            env={"PATH": os.environ.get("PATH", ""), **env},
        )
        self.procs.append(proc)
        line = read_until(proc, lambda line: "listening on" in line, 10, f"{service}-{version}")[-1]
        assert line.startswith(f"bookinfo-standin {service}-{version} listening on 127.0.0.1:")
        return line.rsplit(" ", 1)[1].strip()

    def log(self, service: str, version: str = "v1") -> str:
        return "".join(p.read_text() for p in sorted(self.logs.glob(f"{service}-{version}-*.log")))

    def load(self, *args: str, timeout: float = 60) -> tuple[int, Any]:
        res = subprocess.run(
            [str(self.binary), "load", *args], check=False, capture_output=True, text=True, timeout=timeout
        )
        return res.returncode, json.loads(res.stdout) if res.returncode == 0 else res.stderr

    def stop_all(self) -> None:
        for proc in self.procs:
            stop(proc)


@pytest.fixture
def standins(standin_bin: Path, tmp_path: Path) -> Iterator[Standins]:
    s = Standins(standin_bin, tmp_path)
    try:
        yield s
    finally:
        s.stop_all()


def bookinfo(standins: Standins, reviews: str = "v2", **ratings_env: str) -> str:
    """productpage → details, reviews → ratings, each on its own port; productpage's address."""
    ratings = standins.start("ratings", **ratings_env)
    details = standins.start("details")
    review = standins.start("reviews", reviews, STANDIN_RATINGS_URL=f"http://{ratings}")
    return standins.start(
        "productpage", STANDIN_DETAILS_URL=f"http://{details}", STANDIN_REVIEWS_URL=f"http://{review}"
    )


TRACE = {
    "end-user": "jason",
    "x-request-id": "4d3c2b1a",
    "x-b3-traceid": "80f198ee56343ba864fe8b2a57d3eff7",
    "x-b3-spanid": "e457b5a2e4d86bd1",
    "x-b3-sampled": "1",
    "traceparent": "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01",
}


def test_productpage_calls_details_and_reviews_which_calls_ratings_forwarding_user_and_trace(
    standins: Standins,
) -> None:
    page = bookinfo(standins, "v2")
    status, head, body = get_json(page, "/productpage?format=json", TRACE)
    assert status == 200
    assert head["x-meshstack-standin"] == "productpage-v1"
    assert head["x-meshstack-upstreams"] == "details-v1,reviews-v2,ratings-v1"
    assert (body["user"], body["reviewsVersion"]) == ("jason", "v2")
    assert (body["details"]["status"], body["details"]["standin"]) == (200, "details-v1")
    assert (body["ratings"]["status"], body["ratings"]["standin"]) == (200, "ratings-v1")
    assert body["details"]["body"]["received"] == TRACE
    assert body["reviews"]["body"]["received"] == TRACE
    stars = [r["rating"] for r in body["reviews"]["body"]["reviews"]]
    assert stars == [{"stars": 5, "color": "black"}, {"stars": 4, "color": "black"}]
    assert "GET /ratings/0 200 " in standins.log("ratings") and 'end-user="jason" x-request-id="4d3c2b1a"' in (
        standins.log("ratings")
    )
    # The HTML page says the same.
    status, head, html = request(page, "/productpage")
    assert status == 200 and head["content-type"].startswith("text/html")
    text = html.decode()
    assert "reviews v2 (reviews-v2, status 200" in text and "answered by ratings-v1" in text
    assert 'style="color: black">5 stars' in text


def test_reviews_v1_calls_nobody_and_v3_shows_red_stars(standins: Standins) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: v1 must not call it
    v1 = standins.start("reviews", "v1", STANDIN_RATINGS_URL=closed)
    status, head, body = get_json(v1, "/reviews/0")
    assert status == 200 and "ratings" not in body and "x-meshstack-upstreams" not in head
    assert all("rating" not in r for r in body["reviews"])
    ratings = standins.start("ratings")
    v3 = standins.start("reviews", "v3", STANDIN_RATINGS_URL=f"http://{ratings}")
    status, head, body = get_json(v3, "/reviews/0")
    assert (body["standin"], head["x-meshstack-upstreams"]) == ("reviews-v3", "ratings-v1")
    assert [r["rating"]["color"] for r in body["reviews"]] == ["red", "red"]


def test_login_sets_the_user_productpage_forwards_as_end_user(standins: Standins) -> None:
    page = bookinfo(standins, "v1")
    status, head, _ = request(page, "/login?user=jason")
    assert status == 302 and head["location"] == "/productpage"
    cookie = head["set-cookie"].split(";", 1)[0]
    assert cookie == "user=jason"
    _, _, body = get_json(page, "/productpage?format=json", {"cookie": cookie})
    assert body["user"] == "jason" and body["details"]["body"]["received"]["end-user"] == "jason"
    assert body["ratings"] is None and body["reviewsVersion"] == "v1"


def test_an_upstream_failure_is_shown_on_the_page_as_bookinfo_does(standins: Standins) -> None:
    page = bookinfo(standins, "v3", STANDIN_ERROR_RATE="1")
    status, head, body = get_json(page, "/productpage?format=json")
    assert status == 200 and head["x-meshstack-upstreams"] == "details-v1,reviews-v3"
    assert body["ratings"]["status"] == 500 and body["ratings"]["standin"] == "ratings-v1"
    ratings = [r["rating"] for r in body["reviews"]["body"]["reviews"]]
    assert ratings == [{"error": "Ratings service is currently unavailable"}] * 2
    nowhere = f"http://127.0.0.1:{free_port()}"
    closed = standins.start("productpage", STANDIN_DETAILS_URL=nowhere, STANDIN_REVIEWS_URL=nowhere)
    status, _, html = request(closed, "/productpage")
    assert status == 200 and b"Sorry, product details are currently unavailable for this book." in html


def test_error_rate_fails_exactly_that_share_and_never_health(standins: Standins) -> None:
    ratings = standins.start("ratings", STANDIN_ERROR_RATE="0.25", STANDIN_ERROR_STATUS="503")
    statuses = []
    for _ in range(8):
        assert request(ratings, "/health")[0] == 200
        status, head, body = get_json(ratings, "/ratings/0")
        assert head["x-meshstack-standin"] == "ratings-v1"
        statuses.append(status)
    assert statuses == [200, 200, 200, 503, 200, 200, 200, 503]
    assert body == {"error": "injected by STANDIN_ERROR_RATE", "standin": "ratings-v1"}


def test_delay_slows_the_service_but_not_health(standins: Standins) -> None:
    details = standins.start("details", STANDIN_DELAY="300ms")
    t0 = time.monotonic()
    assert request(details, "/health")[0] == 200
    assert time.monotonic() - t0 < 0.25
    t0 = time.monotonic()
    status, _, body = get_json(details, "/details/7")
    assert time.monotonic() - t0 >= 0.3
    assert status == 200 and (body["id"], body["author"], body["version"]) == (7, "William Shakespeare", "v1")
    assert get_json(details, "/details/seven")[0] == 400


def test_reviews_v3_gives_up_on_ratings_after_upstreams_two_and_a_half_seconds(standins: Standins) -> None:
    ratings = standins.start("ratings", STANDIN_DELAY="4s")
    v3 = standins.start("reviews", "v3", STANDIN_RATINGS_URL=f"http://{ratings}")
    t0 = time.monotonic()
    status, _, body = get_json(v3, "/reviews/0")
    took = time.monotonic() - t0
    assert status == 200 and 2.4 < took < 3.5
    assert body["ratings"]["status"] == 0 and "deadline exceeded" in body["ratings"]["error"].lower()


def test_every_answer_names_the_stand_in(standins: Standins) -> None:
    details = standins.start("details")
    for path in ("/health", "/details/0", "/nowhere", "/productpage"):
        status, head, _ = request(details, path)
        assert head["x-meshstack-standin"] == "details-v1", path
        assert status == (404 if path in ("/nowhere", "/productpage") else 200)


def test_call_at_start_exits_non_zero_when_the_call_fails(standin_bin: Path, standins: Standins) -> None:
    closed = f"http://127.0.0.1:{free_port()}/health"
    res = subprocess.run(
        [str(standin_bin), "serve", "--service", "details", "--version", "v1", "--listen", "127.0.0.1:0"],
        env={"STANDIN_CALL_AT_START": closed},
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == 1 and "listening" not in res.stdout
    assert f"STANDIN_CALL_AT_START {closed} failed" in res.stderr
    ratings = standins.start("ratings")
    details = standins.start("details", STANDIN_CALL_AT_START=f"http://{ratings}/health")
    assert request(details, "/health")[0] == 200


def test_bad_flags_and_knobs_are_usage_errors(standin_bin: Path) -> None:
    for args, env in (
        (["serve", "--service", "reviews", "--version", "v4"], {}),
        (["serve", "--service", "catalog", "--version", "v1"], {}),
        (["serve", "--service", "details", "--version", "v1"], {"STANDIN_ERROR_RATE": "1.5"}),
        (["serve", "--service", "details", "--version", "v1"], {"STANDIN_DELAY": "soon"}),
        (["load", "--url", "http://127.0.0.1:1/", "--requests", "0"], {}),
        (["load", "--url", "http://127.0.0.1:1/", "--concurrency", "1000"], {}),
    ):
        res = subprocess.run(
            [str(standin_bin), *args], check=False, env=env, capture_output=True, text=True, timeout=30
        )
        assert res.returncode == 2, (args, env, res.stderr)


def test_load_summarises_statuses_latencies_and_which_versions_answered(standins: Standins) -> None:
    page = bookinfo(standins, "v2")
    rc, summary = standins.load(
        "--url", f"http://{page}/productpage", "--requests", "30", "--concurrency", "3", "--header", "end-user:jason"
    )
    assert rc == 0
    assert (summary["requests"], summary["sent"], summary["notSent"]) == (30, 30, 0)
    assert summary["statuses"] == {"200": 30} and summary["errors"] == {}
    assert summary["standins"] == {"productpage-v1": 30}
    assert summary["upstreams"] == {"details-v1": 30, "reviews-v2": 30, "ratings-v1": 30}
    lat = summary["latencyMs"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert "GET /ratings/0 200" in standins.log("ratings") and 'end-user="jason"' in standins.log("ratings")
    canary = standins.start("reviews", "v3", STANDIN_ERROR_RATE="0.5", STANDIN_RATINGS_URL="http://127.0.0.1:1")
    rc, summary = standins.load("--url", f"http://{canary}/reviews/0", "--requests", "20", "--concurrency", "4")
    assert summary["statuses"] == {"200": 10, "500": 10} and summary["standins"] == {"reviews-v3": 20}


def test_load_is_bounded_by_its_timeout_and_deadline(standins: Standins) -> None:
    slow = standins.start("details", STANDIN_DELAY="3s")
    t0 = time.monotonic()
    rc, summary = standins.load(
        "--url", f"http://{slow}/details/0", "--requests", "100000", "--concurrency", "2",
        "--timeout", "200ms", "--deadline", "1s",
    )  # fmt: skip
    assert rc == 0 and time.monotonic() - t0 < 5
    assert summary["sent"] + summary["notSent"] == 100000 and summary["notSent"] > 99000
    assert summary["statuses"] == {"error": summary["sent"]} and summary["errors"] == {"timeout": summary["sent"]}
    rc, summary = standins.load("--url", f"http://127.0.0.1:{free_port()}/", "--requests", "3")
    assert summary["errors"] == {"connection refused": 3}


def test_the_program_is_gofmt_clean_and_vetted(standin_bin: Path) -> None:
    go = shutil.which("go")
    assert go
    gofmt = Path(go).with_name("gofmt")
    fmt = subprocess.run(
        [str(gofmt), "-l", "."], check=False, cwd=STANDIN_SRC, capture_output=True, text=True, timeout=60
    )
    assert fmt.returncode == 0 and fmt.stdout == "", fmt.stdout + fmt.stderr
    env = {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    vet = subprocess.run(
        [go, "vet", "./..."], check=False, cwd=STANDIN_SRC, env=env, capture_output=True, text=True, timeout=300
    )
    assert vet.returncode == 0, vet.stderr


def test_standin_images_from_the_real_binary_are_deterministic(
    standin_bin: Path, tmp_path: Path, prometheus_source: Path
) -> None:
    (tmp_path / "bin").mkdir()
    shutil.copy2(standin_bin, tmp_path / "bin" / "bookinfo-standin")
    definitions = images.definitions(inputs(tmp_path / "bin", prometheus_source), images.read_lock())
    stand_ins = [i for i in definitions if i.stand_in]
    assert len(stand_ins) == 6
    for image in stand_ins:
        one = build_small(image, tmp_path / "one")
        two = build_small(image, tmp_path / "two")
        assert one == two
        a = read_archive(tmp_path / "one" / image.archive)
        assert a["contents"]["usr/local/bin/bookinfo-standin"] == standin_bin.read_bytes()
        assert a["config"]["config"]["Entrypoint"] == list(image.entrypoint)
        assert a["config"]["config"]["User"] == "1000:1000"
