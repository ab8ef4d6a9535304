#!/usr/bin/env python3
"""Embedded Kubernetes control plane on 127.0.0.1 for meshstack's real-engine tests.

etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok (fake nodes: Pods get
scheduled and marked Ready without a container runtime, so Deployments become Available).

    scripts/cluster.py start  --dir DIR [--nodes N] [--timeout S] [--webhooks]   prints the kubeconfig path
    scripts/cluster.py status --dir DIR [--json]                    exit 0 when everything is up
    scripts/cluster.py stop   --dir DIR [--keep]                    no process is left behind
    scripts/cluster.py env    --dir DIR                             `export KUBECONFIG=...`

Binaries come from --bin, else $MESHSTACK_BIN, else `scripts/bootstrap.sh --print-bin`, else PATH.
--dir defaults to $MESHSTACK_CLUSTER_DIR, else a per-user directory under the temp dir. Everything
(certificates, etcd data, logs, kubeconfigs, state.json) lives in that directory; `stop` removes it
unless --keep. Certificates are made with the openssl CLI. Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MARKER = ".meshstack-cluster"
COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
NODE_IP = "10.1.0.1"  # only reported in Node/Pod status by kwok; nothing listens on it


class ClusterError(RuntimeError):
    pass


# ----------------------------------------------------------------------------- helpers
def default_dir() -> Path:
    env = os.environ.get("MESHSTACK_CLUSTER_DIR")
    if env:
        return Path(env)
    return Path(tempfile.gettempdir()) / f"meshstack-cluster-{os.getuid()}"


def find_bin_dir(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("MESHSTACK_BIN")
    if env:
        return Path(env)
    script = HERE / "bootstrap.sh"
    if script.exists():
        try:
            out = subprocess.run(
                ["bash", str(script), "--print-bin"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
            if out and Path(out).is_dir():
                return Path(out)
        except (subprocess.SubprocessError, OSError):
            pass
    return None


def resolve_binaries(bin_dir: Path | None) -> dict[str, str]:
    found: dict[str, str] = {}
    missing = []
    for name in COMPONENTS:
        cand = bin_dir / name if bin_dir else None
        if cand is not None and os.access(cand, os.X_OK):
            found[name] = str(cand)
        elif (which := shutil.which(name)) is not None:
            found[name] = which
        else:
            missing.append(name)
    if missing:
        raise ClusterError(
            f"missing binaries: {', '.join(missing)} (looked in {bin_dir or '-'} and PATH); run scripts/bootstrap.sh"
        )
    return found


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1, chosen below the kernel's ephemeral range so that outgoing
    connections (which take ephemeral source ports) cannot grab one between this check and the bind."""
    lo, hi = 20000, 32767
    try:
        eph_lo = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
        hi = min(hi, eph_lo - 1)
        lo = min(lo, max(1024, hi - 10000))
    except (OSError, ValueError, IndexError):
        pass
    rng = random.SystemRandom()
    ports: list[int] = []
    for _ in range(200 * n):
        if len(ports) == n:
            break
        port = rng.randint(lo, hi)
        if port in ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
    if len(ports) < n:
        raise ClusterError(f"could not find {n} free ports on 127.0.0.1 in {lo}-{hi}")
    return ports


def run(cmd: list[str], **kw: Any) -> None:
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise ClusterError(f"command failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr.strip()}")


def proc_starttime(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # field 22 (starttime), counted after the ")" closing the command name
    return int(stat.rsplit(")", 1)[1].split()[19])


def proc_alive(pid: int, starttime: int | None) -> bool:
    st = proc_starttime(pid)
    if st is None or (starttime is not None and st != starttime):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    interval: float = 0.5,
    on_fail: Callable[[], str] | None = None,
    alive: Callable[[], None] | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    last_err = ""
    while time.monotonic() < deadline:
        if alive is not None:
            alive()  # raises when a component has exited
        try:
            if check():
                return
        except Exception as e:  # noqa: BLE001 - reported on timeout
            last_err = f"{type(e).__name__}: {e}"
        time.sleep(interval)
    extra = on_fail() if on_fail else ""
    raise ClusterError(
        f"timed out after {timeout:.0f}s waiting for {what}"
        + (f" (last error: {last_err})" if last_err else "")
        + extra
    )


# ----------------------------------------------------------------------------- PKI
def make_pki(pki: Path) -> None:
    pki.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = pki / "ca.key", pki / "ca.crt"
    run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-days",
            "3650",
            "-keyout",
            str(ca_key),
            "-out",
            str(ca_crt),
            "-subj",
            "/CN=meshstack-cluster-ca",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        ]
    )

    def leaf(name: str, subj: str, usage: str, san: str | None = None) -> None:
        key, csr, crt, ext = (pki / f"{name}.{s}" for s in ("key", "csr", "crt", "ext"))
        run(
            [
                "openssl",
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-sha256",
                "-keyout",
                str(key),
                "-out",
                str(csr),
                "-subj",
                subj,
            ]
        )
        lines = [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            f"extendedKeyUsage={usage}",
        ]
        if san:
            lines.append(f"subjectAltName={san}")
        ext.write_text("\n".join(lines) + "\n")
        run(
            [
                "openssl",
                "x509",
                "-req",
                "-sha256",
                "-days",
                "365",
                "-in",
                str(csr),
                "-CA",
                str(ca_crt),
                "-CAkey",
                str(ca_key),
                "-CAcreateserial",
                "-out",
                str(crt),
                "-extfile",
                str(ext),
            ]
        )
        csr.unlink()
        ext.unlink()

    san = ",".join(
        [
            "IP:127.0.0.1",
            "IP:10.96.0.1",
            "DNS:localhost",
            "DNS:kubernetes",
            "DNS:kubernetes.default",
            "DNS:kubernetes.default.svc",
            "DNS:kubernetes.default.svc.cluster.local",
        ]
    )
    leaf("apiserver", "/CN=kube-apiserver", "serverAuth", san)
    leaf("admin", "/O=system:masters/CN=meshstack-admin", "clientAuth")
    leaf("controller-manager", "/CN=system:kube-controller-manager", "clientAuth")
    leaf("scheduler", "/CN=system:kube-scheduler", "clientAuth")
    leaf("kwok", "/O=system:masters/CN=kwok-controller", "clientAuth")
    run(["openssl", "genrsa", "-out", str(pki / "sa.key"), "2048"])
    run(["openssl", "rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub")])
    for p in pki.iterdir():
        if p.suffix == ".key":
            p.chmod(0o600)


def write_kubeconfig(path: Path, server: str, pki: Path, user: str) -> None:
    def b64(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "meshstack", "cluster": {"server": server, "certificate-authority-data": b64("ca.crt")}}],
        "users": [
            {
                "name": user,
                "user": {"client-certificate-data": b64(f"{user}.crt"), "client-key-data": b64(f"{user}.key")},
            }
        ],
        "contexts": [{"name": "meshstack", "context": {"cluster": "meshstack", "user": user}}],
        "current-context": "meshstack",
        "preferences": {},
    }
    path.write_text(json.dumps(cfg, indent=2) + "\n")  # JSON is valid kubeconfig YAML
    path.chmod(0o600)


def kwok_stages(kwok_binary: str) -> Path:
    """kwok's default Stage set (how fake Nodes and Pods become Ready), assembled by
    ``scripts/bootstrap.sh`` from the pinned kwok module into ``<tools>/share/kwok-stages.yaml``."""
    path = Path(kwok_binary).resolve().parent.parent / "share" / "kwok-stages.yaml"
    if not path.is_file():
        raise ClusterError(f"{path} is missing: run scripts/bootstrap.sh (piece kwok-stages)")
    return path


# ----------------------------------------------------------------------------- API access
class Api:
    def __init__(self, d: Path, port: int) -> None:
        self.base = f"https://127.0.0.1:{port}"
        ctx = ssl.create_default_context(cafile=str(d / "pki" / "ca.crt"))
        ctx.load_cert_chain(str(d / "pki" / "admin.crt"), str(d / "pki" / "admin.key"))
        self.ctx = ctx

    def request(self, method: str, path: str, body: Any = None, timeout: float = 5.0) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=timeout) as r:
                raw = r.read()
                code = r.status
        except urllib.error.HTTPError as e:
            raw, code = e.read(), e.code
        try:
            return code, json.loads(raw) if raw else None
        except ValueError:
            return code, raw.decode(errors="replace")

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)


def http_ok(url: str, insecure_tls: bool = False, timeout: float = 2.0) -> bool:
    ctx = None
    if url.startswith("https://"):
        ctx = ssl.create_default_context()
        if insecure_tls:  # the component's self-signed serving cert on 127.0.0.1; health probe only
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=timeout) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def node_ready(node: dict[str, Any]) -> bool:
    conds = node.get("status", {}).get("conditions", []) or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


# ----------------------------------------------------------------------------- state
def load_state(d: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((d / "state.json").read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def save_state(d: Path, state: dict[str, Any]) -> None:
    tmp = d / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(d / "state.json")


def log_tail(d: Path, name: str, n: int = 25) -> str:
    p = d / "logs" / f"{name}.log"
    try:
        lines = p.read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return ""
    return f"\n--- last {len(lines)} lines of {p} ---\n" + "\n".join(lines)


# ----------------------------------------------------------------------------- start / stop / status
def spawn(d: Path, state: dict[str, Any], name: str, argv: list[str]) -> None:
    logf = open(d / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    try:
        p = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            cwd=str(d),
            start_new_session=True,
            close_fds=True,
        )
    finally:
        logf.close()
    state["processes"][name] = {"pid": p.pid, "starttime": proc_starttime(p.pid), "argv": argv}
    save_state(d, state)


def cmd_start(args: argparse.Namespace) -> int:
    d: Path = args.dir.resolve()
    existing = load_state(d)
    if existing and any(proc_alive(p["pid"], p.get("starttime")) for p in existing.get("processes", {}).values()):
        if status_report(d, existing, quiet=True)["healthy"]:
            print(f"cluster already running in {d}")
            print(f"KUBECONFIG={d / 'kubeconfig'}")
            return 0
        raise ClusterError(f"a partly running cluster exists in {d}: run `cluster.py stop --dir {d}` first")
    if d.exists() and any(d.iterdir()) and not (d / MARKER).exists():
        raise ClusterError(f"{d} exists, is not empty and is not a meshstack cluster dir")
    if d.exists():
        shutil.rmtree(d)
    for sub in ("pki", "etcd-data", "logs"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    (d / MARKER).write_text("created by scripts/cluster.py\n")
    d.chmod(0o700)

    bins = resolve_binaries(find_bin_dir(args.bin))
    t0 = time.monotonic()
    etcd_port, etcd_peer, api_port, kcm_port, sched_port, etcd_metrics = free_ports(6)
    state: dict[str, Any] = {
        "dir": str(d),
        "ports": {"etcd": etcd_port, "apiserver": api_port, "controller-manager": kcm_port, "scheduler": sched_port},
        "binaries": bins,
        "processes": {},
        "nodes": args.nodes,
    }
    save_state(d, state)

    def on_term(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds into the cleanup below

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    def all_alive() -> None:
        dead = [n for n, p in state["processes"].items() if not proc_alive(p["pid"], p.get("starttime"))]
        if dead:
            raise ClusterError(
                f"component(s) exited during start: {', '.join(dead)}" + "".join(log_tail(d, n) for n in dead)
            )

    try:
        make_pki(d / "pki")
        server = f"https://127.0.0.1:{api_port}"
        write_kubeconfig(d / "kubeconfig", server, d / "pki", "admin")
        for user in ("controller-manager", "scheduler", "kwok"):
            write_kubeconfig(d / f"{user}.kubeconfig", server, d / "pki", user)
        shutil.copyfile(kwok_stages(bins["kwok"]), d / "kwok-stages.yaml")
        pki = d / "pki"

        spawn(
            d,
            state,
            "etcd",
            [
                bins["etcd"],
                "--name",
                "meshstack",
                "--data-dir",
                str(d / "etcd-data"),
                "--listen-client-urls",
                f"http://127.0.0.1:{etcd_port}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{etcd_port}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{etcd_peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{etcd_peer}",
                "--initial-cluster",
                f"meshstack=http://127.0.0.1:{etcd_peer}",
                "--listen-metrics-urls",
                f"http://127.0.0.1:{etcd_metrics}",
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
                "--quota-backend-bytes",
                str(2 * 1024**3),
            ],
        )
        wait_until(
            "etcd /health",
            lambda: http_ok(f"http://127.0.0.1:{etcd_port}/health"),
            args.timeout,
            on_fail=lambda: log_tail(d, "etcd"),
            alive=all_alive,
        )

        spawn(
            d,
            state,
            "kube-apiserver",
            [
                bins["kube-apiserver"],
                f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={api_port}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                "--endpoint-reconciler-type=none",  # 127.0.0.1 is not a valid Endpoints address
                "--enable-priority-and-fairness=false",
                "--profiling=false",
                f"--cert-dir={d / 'pki' / 'apiserver-generated'}",
                "--v=1",
                *(
                    []
                    if args.webhooks
                    # No Pod really runs here, so no webhook Service can answer: with failurePolicy=Fail
                    # (e.g. Istio's sidecar injector) every matching request would be rejected.
                    else ["--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook"]
                ),
            ],
        )
        api = Api(d, api_port)
        wait_until(
            "kube-apiserver /readyz",
            lambda: api.get("/readyz")[0] == 200,
            args.timeout,
            on_fail=lambda: log_tail(d, "kube-apiserver"),
            alive=all_alive,
        )

        spawn(
            d,
            state,
            "kube-controller-manager",
            [
                bins["kube-controller-manager"],
                f"--kubeconfig={d / 'controller-manager.kubeconfig'}",
                f"--authentication-kubeconfig={d / 'controller-manager.kubeconfig'}",
                f"--authorization-kubeconfig={d / 'controller-manager.kubeconfig'}",
                "--bind-address=127.0.0.1",
                f"--secure-port={kcm_port}",
                "--leader-elect=false",
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--controllers=*,-node-ipam-controller,-service-lb-controller,-cloud-node-lifecycle-controller",
                f"--cert-dir={d / 'pki' / 'kcm-generated'}",
                "--profiling=false",
                "--v=1",
            ],
        )
        spawn(
            d,
            state,
            "kube-scheduler",
            [
                bins["kube-scheduler"],
                f"--kubeconfig={d / 'scheduler.kubeconfig'}",
                f"--authentication-kubeconfig={d / 'scheduler.kubeconfig'}",
                f"--authorization-kubeconfig={d / 'scheduler.kubeconfig'}",
                "--bind-address=127.0.0.1",
                f"--secure-port={sched_port}",
                "--leader-elect=false",
                f"--cert-dir={d / 'pki' / 'scheduler-generated'}",
                "--profiling=false",
                "--v=1",
            ],
        )
        spawn(
            d,
            state,
            "kwok",
            [
                bins["kwok"],
                f"--kubeconfig={d / 'kwok.kubeconfig'}",
                f"--config={d / 'kwok-stages.yaml'}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                f"--cidr={POD_CIDR}",
                f"--node-ip={NODE_IP}",
                "--node-lease-duration-seconds=40",
            ],
        )
        wait_until(
            "kube-controller-manager /healthz",
            lambda: http_ok(f"https://127.0.0.1:{kcm_port}/healthz", insecure_tls=True),
            args.timeout,
            on_fail=lambda: log_tail(d, "kube-controller-manager"),
            alive=all_alive,
        )
        wait_until(
            "kube-scheduler /healthz",
            lambda: http_ok(f"https://127.0.0.1:{sched_port}/healthz", insecure_tls=True),
            args.timeout,
            on_fail=lambda: log_tail(d, "kube-scheduler"),
            alive=all_alive,
        )

        for i in range(args.nodes):
            name = f"kwok-node-{i}"
            code, body = api.request(
                "POST",
                "/api/v1/nodes",
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                        "labels": {
                            "type": "kwok",
                            "kubernetes.io/hostname": name,
                            "kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64",
                            "node-role.kubernetes.io/agent": "",
                        },
                    },
                    "spec": {},
                },
            )
            if code not in (201, 409):
                raise ClusterError(f"creating node {name}: HTTP {code}: {body}")

        def nodes_ready() -> bool:
            code, body = api.get("/api/v1/nodes")
            return code == 200 and sum(node_ready(n) for n in body.get("items", [])) >= args.nodes

        wait_until(
            f"{args.nodes} kwok node(s) Ready",
            nodes_ready,
            args.timeout,
            on_fail=lambda: log_tail(d, "kwok"),
            alive=all_alive,
        )
        # A storage stand-in, like a load-balancer stand-in would be: a default StorageClass without a
        # provisioner and a few pre-made volumes the PV controller binds claims to (kwok runs no
        # containers, so nothing is ever written to them).
        for code, body in create_storage(api, volumes=4):
            if code not in (201, 409):
                raise ClusterError(f"creating the storage stand-in: HTTP {code}: {body}")
        wait_until(
            "ServiceAccount default/default",
            lambda: api.get("/api/v1/namespaces/default/serviceaccounts/default")[0] == 200,
            args.timeout,
            on_fail=lambda: log_tail(d, "kube-controller-manager"),
            alive=all_alive,
        )
        all_alive()
    except BaseException as e:  # noqa: BLE001 - clean up after any failure, Ctrl-C included
        msg = str(e) if isinstance(e, ClusterError) else f"{type(e).__name__}: {e}"
        print(f"cluster.py: start failed: {msg}", file=sys.stderr)
        stop_processes(d, state, quiet=True)
        print(f"cluster.py: stopped what was started; logs kept in {d / 'logs'}", file=sys.stderr)
        return 1

    state["started_seconds"] = round(time.monotonic() - t0, 1)
    save_state(d, state)
    print(
        f"cluster up in {state['started_seconds']}s: apiserver https://127.0.0.1:{api_port}, "
        f"{args.nodes} kwok node(s) Ready, dir {d}"
    )
    print(f"KUBECONFIG={d / 'kubeconfig'}")
    return 0


STORAGE_CLASS = "standard"


def create_storage(api: Api, volumes: int) -> list[tuple[int, Any]]:
    """The default StorageClass (immediate binding, no provisioner) and ``volumes`` 100Gi volumes."""
    results = [
        api.request(
            "POST",
            "/apis/storage.k8s.io/v1/storageclasses",
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": STORAGE_CLASS,
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": "Immediate",
                "reclaimPolicy": "Retain",
            },
        )
    ]
    for i in range(volumes):
        results.append(
            api.request(
                "POST",
                "/api/v1/persistentvolumes",
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": f"kwok-volume-{i}"},
                    "spec": {
                        "capacity": {"storage": "100Gi"},
                        "accessModes": ["ReadWriteOnce"],
                        "persistentVolumeReclaimPolicy": "Retain",
                        "storageClassName": STORAGE_CLASS,
                        "hostPath": {"path": f"/var/lib/kwok-volumes/{i}"},
                    },
                },
            )
        )
    return results


def stray_pids(d: Path, names: set[str]) -> list[int]:
    """Processes of our component binaries whose command line names this cluster dir."""
    marker = str(d) + "/"
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not argv or not argv[0]:
            continue
        if os.path.basename(argv[0].decode(errors="replace")) in names and any(marker.encode() in a for a in argv):
            out.append(int(entry.name))
    return out


def stop_processes(d: Path, state: dict[str, Any], quiet: bool = False, grace: float = 15.0) -> list[str]:
    procs = state.get("processes", {})
    order = [n for n in reversed(COMPONENTS) if n in procs]
    for name in order:
        p = procs[name]
        if not proc_alive(p["pid"], p.get("starttime")):
            if not quiet:
                print(f"{name} (pid {p['pid']}) was not running")
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(p["pid"], signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and proc_alive(p["pid"], p.get("starttime")):
            time.sleep(0.1)
        if proc_alive(p["pid"], p.get("starttime")):
            if not quiet:
                print(f"{name} (pid {p['pid']}) ignored SIGTERM for {grace:.0f}s: SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.kill(p["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and proc_starttime(p["pid"]) == p.get("starttime"):
            time.sleep(0.1)  # exited; its /proc entry goes once the parent (init, after `start`) reaps it
        if not quiet:
            print(f"stopped {name} (pid {p['pid']})")
    # Anything of ours still running against this dir (e.g. after a crashed start) is stopped by pid.
    leftovers = []
    for _ in range(3):
        pids = stray_pids(d, set(COMPONENTS))
        if not pids:
            break
        for pid in pids:
            leftovers.append(str(pid))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    remaining = stray_pids(d, set(COMPONENTS))
    if remaining:
        raise ClusterError(f"processes still running after stop: {remaining}")
    return leftovers


def cmd_stop(args: argparse.Namespace) -> int:
    d: Path = args.dir.resolve()
    state = load_state(d)
    if state is None:
        if not d.exists():
            print(f"no cluster in {d}")
            return 0
        state = {"processes": {}}
    leftovers = stop_processes(d, state)
    if leftovers:
        print(f"killed stray processes: {', '.join(leftovers)}")
    if args.keep:
        state["processes"] = {}
        save_state(d, state)
        print(f"stopped; data kept in {d}")
    elif (d / MARKER).exists():
        shutil.rmtree(d, ignore_errors=True)
        print(f"stopped; removed {d}")
    else:
        print(f"stopped; {d} is not a meshstack cluster dir, left in place")
    return 0


def status_report(d: Path, state: dict[str, Any], quiet: bool = False) -> dict[str, Any]:
    report: dict[str, Any] = {"dir": str(d), "kubeconfig": str(d / "kubeconfig"), "components": {}}
    ok = True
    for name in COMPONENTS:
        p = state.get("processes", {}).get(name)
        alive = bool(p) and proc_alive(p["pid"], p.get("starttime"))
        report["components"][name] = {"pid": p["pid"] if p else None, "running": alive}
        ok = ok and alive
    ready_nodes = 0
    api_ready = False
    if ok:
        try:
            api = Api(d, state["ports"]["apiserver"])
            api_ready = api.get("/readyz")[0] == 200
            code, body = api.get("/api/v1/nodes")
            if code == 200:
                ready_nodes = sum(node_ready(n) for n in body.get("items", []))
        except (OSError, ssl.SSLError, ValueError):
            api_ready = False
    report["apiserver_ready"] = api_ready
    report["ready_nodes"] = ready_nodes
    report["healthy"] = ok and api_ready and ready_nodes >= int(state.get("nodes", 1))
    if not quiet:
        for name, c in report["components"].items():
            print(f"{name:26} {'running' if c['running'] else 'NOT running':12} pid {c['pid']}")
        print(f"{'apiserver /readyz':26} {'ok' if api_ready else 'NOT ready'}")
        print(f"{'ready kwok nodes':26} {ready_nodes}")
        print(f"KUBECONFIG={report['kubeconfig']}")
    return report


def cmd_status(args: argparse.Namespace) -> int:
    d: Path = args.dir.resolve()
    state = load_state(d)
    if state is None:
        if args.json:
            print(json.dumps({"dir": str(d), "healthy": False, "running": False}))
        else:
            print(f"no cluster in {d}")
        return 1
    report = status_report(d, state, quiet=args.json)
    if args.json:
        print(json.dumps(report, indent=2))
    return 0 if report["healthy"] else 1


def cmd_env(args: argparse.Namespace) -> int:
    print(f"export KUBECONFIG={args.dir.resolve() / 'kubeconfig'}")
    return 0


def cmd_kill(args: argparse.Namespace) -> int:
    """SIGKILL one component (failure drills: the API server dying in the middle of an update)."""
    d: Path = args.dir.resolve()
    state = load_state(d)
    if state is None:
        raise ClusterError(f"no cluster in {d}")
    p = state["processes"].get(args.component)
    if not p or not proc_alive(p["pid"], p.get("starttime")):
        raise ClusterError(f"{args.component} is not running")
    os.kill(p["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc_alive(p["pid"], p.get("starttime")):
        time.sleep(0.1)
    print(f"killed {args.component} (pid {p['pid']})")
    return 0


def cmd_restart(args: argparse.Namespace) -> int:
    """Start a stopped or killed component again with its recorded command line; waits until the
    cluster is healthy again."""
    d: Path = args.dir.resolve()
    state = load_state(d)
    if state is None:
        raise ClusterError(f"no cluster in {d}")
    p = state["processes"].get(args.component)
    if not p:
        raise ClusterError(f"{args.component} was never started in {d}")
    if proc_alive(p["pid"], p.get("starttime")):
        raise ClusterError(f"{args.component} is still running (pid {p['pid']})")
    spawn(d, state, args.component, p["argv"])
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if status_report(d, state, quiet=True)["healthy"]:
            print(f"restarted {args.component} (pid {state['processes'][args.component]['pid']}); cluster healthy")
            return 0
        time.sleep(0.5)
    raise ClusterError(
        f"{args.component} restarted but the cluster is not healthy after {args.timeout}s" + log_tail(d, args.component)
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("start", "stop", "status", "env", "kill", "restart"):
        sp = sub.add_parser(name)
        sp.add_argument("--dir", type=Path, default=default_dir(), help="cluster state/data directory")
        if name in ("kill", "restart"):
            sp.add_argument("component", choices=COMPONENTS)
        if name == "restart":
            sp.add_argument("--timeout", type=float, default=120.0, help="seconds allowed to become healthy")
        if name == "start":
            sp.add_argument("--bin", help="directory with the component binaries")
            sp.add_argument("--nodes", type=int, default=1, help="number of kwok fake nodes")
            sp.add_argument("--timeout", type=float, default=120.0, help="seconds allowed for each wait")
            sp.add_argument(
                "--webhooks",
                action="store_true",
                help="keep admission webhooks enabled (off by default: no webhook backend can run on fake nodes)",
            )
        if name == "stop":
            sp.add_argument("--keep", action="store_true", help="keep the data directory")
        if name == "status":
            sp.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        commands = {"start": cmd_start, "stop": cmd_stop, "status": cmd_status, "env": cmd_env}
        return {**commands, "kill": cmd_kill, "restart": cmd_restart}[args.cmd](args)
    except ClusterError as e:
        print(f"cluster.py: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
