"""The ``control-plane`` part: etcd, kube-apiserver, kube-controller-manager, kube-scheduler.

With fake nodes only, everything listens on 127.0.0.1 (free ports) and admission webhooks are off
unless asked for (nothing could serve them). With a real node the API server listens on the host
end of the node's veth (10.200.N.1:6443; it refuses loopback as its advertised address, and pods
reach it through the ``kubernetes`` Service), calls admission webhooks on pod IPs directly
(``--enable-aggregator-routing``: a ClusterIP exists only in the node's netns), reaches kubelets
for logs and exec, and serves MutatingAdmissionPolicy (the ``placement`` part's rule).
"""

from __future__ import annotations

import functools
import random
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from embedded import pki
from embedded.cluster import Cluster
from embedded.layout import CLUSTER_CIDR, SERVICE_CIDR
from embedded.proc import ClusterError, log_tail, stop, wait_until

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
REAL_NODE_API_PORT = 6443


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1, below the kernel's ephemeral range (so no outgoing
    connection can take one between this check and the bind)."""
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


def http_ok(url: str, insecure_tls: bool = False, timeout: float = 2.0) -> bool:
    ctx = None
    if url.startswith("https://"):
        ctx = ssl.create_default_context()
        if insecure_tls:  # the component's self-signed serving cert on 127.0.0.1; a health probe only
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=timeout) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class ControlPlane:
    name = "control-plane"

    def wanted(self, c: Cluster) -> bool:
        return True

    def start(self, c: Cluster) -> None:
        lo, d = c.layout, c.layout.dir
        etcd, peer, metrics, kcm, sched, api = free_ports(6)
        if lo.real_node:
            api = REAL_NODE_API_PORT
        c.state["ports"] = {"etcd": etcd, "apiserver": api, "controller-manager": kcm, "scheduler": sched}
        c.save()
        pki.write_kubeconfigs(lo, c.server)
        key = lo.pki
        (d / "etcd-data").mkdir(exist_ok=True)
        c.spawn(
            "etcd",
            [
                c.bin("etcd"),
                "--name",
                "meshstack",
                "--data-dir",
                str(d / "etcd-data"),
                "--listen-client-urls",
                f"http://127.0.0.1:{etcd}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{etcd}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-cluster",
                f"meshstack=http://127.0.0.1:{peer}",
                "--listen-metrics-urls",
                f"http://127.0.0.1:{metrics}",
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
                "--quota-backend-bytes",
                str(2 * 1024**3),
            ],
        )
        wait_until(
            "etcd /health",
            lambda: http_ok(f"http://127.0.0.1:{etcd}/health"),
            c.timeout,
            on_fail=lambda: log_tail(c.log("etcd")),
            alive_check=c.alive_check,
        )

        if lo.real_node:
            specific = [
                f"--bind-address={lo.host_ip}",
                f"--advertise-address={lo.host_ip}",
                "--endpoint-reconciler-type=lease",
                "--enable-aggregator-routing=true",
                f"--kubelet-client-certificate={key / 'apiserver-kubelet-client.crt'}",
                f"--kubelet-client-key={key / 'apiserver-kubelet-client.key'}",
                "--kubelet-preferred-address-types=InternalIP",
                "--feature-gates=MutatingAdmissionPolicy=true",
                "--runtime-config=admissionregistration.k8s.io/v1beta1=true",
            ]
        else:
            specific = [
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                "--endpoint-reconciler-type=none",  # 127.0.0.1 is not a valid Endpoints address
                # No pod runs on fake nodes, so no webhook Service could answer: with failurePolicy=Fail
                # (Istio's sidecar injector) every matching request would be rejected.
                *(
                    []
                    if c.state.get("webhooks")
                    else ["--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook"]
                ),
            ]
        c.spawn(
            "kube-apiserver",
            [
                c.bin("kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{etcd}",
                f"--secure-port={api}",
                f"--tls-cert-file={key / 'apiserver.crt'}",
                f"--tls-private-key-file={key / 'apiserver.key'}",
                f"--client-ca-file={key / 'ca.crt'}",
                f"--service-account-key-file={key / 'sa.pub'}",
                f"--service-account-signing-key-file={key / 'sa.key'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                "--enable-priority-and-fairness=false",
                "--profiling=false",
                f"--cert-dir={key / 'apiserver-generated'}",
                "--v=1",
                *specific,
            ],
        )
        wait_until(
            "kube-apiserver /readyz",
            lambda: c.api.get("/readyz")[0] == 200,
            c.timeout,
            on_fail=lambda: log_tail(c.log("kube-apiserver")),
            alive_check=c.alive_check,
        )

        kcm_config = lo.component_kubeconfig("controller-manager")
        c.spawn(
            "kube-controller-manager",
            [
                c.bin("kube-controller-manager"),
                f"--kubeconfig={kcm_config}",
                f"--authentication-kubeconfig={kcm_config}",
                f"--authorization-kubeconfig={kcm_config}",
                "--bind-address=127.0.0.1",
                f"--secure-port={kcm}",
                "--leader-elect=false",
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={key / 'sa.key'}",
                f"--root-ca-file={key / 'ca.crt'}",
                f"--cluster-signing-cert-file={key / 'ca.crt'}",
                f"--cluster-signing-key-file={key / 'ca.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--cluster-cidr={CLUSTER_CIDR}",
                # Node CIDRs are assigned by the node part (the real node's is in its CNI config and routes).
                "--controllers=*,-node-ipam-controller,-service-lb-controller,-cloud-node-lifecycle-controller",
                f"--flex-volume-plugin-dir={d / 'kcm-flexvolume'}",
                f"--cert-dir={key / 'kcm-generated'}",
                "--profiling=false",
                "--v=1",
            ],
        )
        sched_config = lo.component_kubeconfig("scheduler")
        c.spawn(
            "kube-scheduler",
            [
                c.bin("kube-scheduler"),
                f"--kubeconfig={sched_config}",
                f"--authentication-kubeconfig={sched_config}",
                f"--authorization-kubeconfig={sched_config}",
                "--bind-address=127.0.0.1",
                f"--secure-port={sched}",
                "--leader-elect=false",
                f"--cert-dir={key / 'scheduler-generated'}",
                "--profiling=false",
                "--v=1",
            ],
        )
        for name, port in (("kube-controller-manager", kcm), ("kube-scheduler", sched)):
            wait_until(
                f"{name} /healthz",
                functools.partial(http_ok, f"https://127.0.0.1:{port}/healthz", insecure_tls=True),
                c.timeout,
                on_fail=functools.partial(log_tail, c.log(name)),
                alive_check=c.alive_check,
            )

    def check(self, c: Cluster) -> list[str]:
        problems = [f"{n} is not running" for n in COMPONENTS if not c.running(n)]
        if not problems:
            try:
                if c.api.get("/readyz")[0] != 200:
                    problems.append("kube-apiserver /readyz is not ok")
            except (OSError, ssl.SSLError, ValueError) as err:
                problems.append(f"kube-apiserver does not answer: {err}")
        return problems

    def stop(self, c: Cluster) -> None:
        for name in reversed(COMPONENTS):
            if (p := c.processes.get(name)) is not None:
                stop(p)
