"""The ``pki`` part: the cluster CA and every certificate and kubeconfig (the openssl CLI)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from embedded.layout import API_SERVICE_IP, Layout
from embedded.proc import run

#: Client identities: (file name, subject). The node's and kube-proxy's only with a real node.
CLIENTS = (
    ("admin", "/O=system:masters/CN=meshstack-admin"),
    ("controller-manager", "/CN=system:kube-controller-manager"),
    ("scheduler", "/CN=system:kube-scheduler"),
    ("kwok", "/O=system:masters/CN=kwok-controller"),
)


def _leaf(pki: Path, name: str, subject: str, usage: str, san: str | None = None) -> None:
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
            subject,
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
            str(pki / "ca.crt"),
            "-CAkey",
            str(pki / "ca.key"),
            "-CAcreateserial",
            "-out",
            str(crt),
            "-extfile",
            str(ext),
        ]
    )
    csr.unlink()
    ext.unlink()


def make(layout: Layout) -> None:
    pki = layout.pki
    pki.mkdir(parents=True, exist_ok=True)
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
            str(pki / "ca.key"),
            "-out",
            str(pki / "ca.crt"),
            "-subj",
            "/CN=meshstack-cluster-ca",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        ]
    )
    names = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]
    ips = ["127.0.0.1", API_SERVICE_IP, *([layout.host_ip] if layout.real_node else [])]
    san = ",".join([*(f"IP:{ip}" for ip in ips), "DNS:localhost", *(f"DNS:{n}" for n in names)])
    _leaf(pki, "apiserver", "/CN=kube-apiserver", "serverAuth", san)
    for name, subject in CLIENTS:
        _leaf(pki, name, subject, "clientAuth")
    if layout.real_node:
        # The API server to kubelets (logs, exec), the kubelet to the API server (Node authorizer), kube-proxy
        # (bound to system:node-proxier by the default RBAC).
        _leaf(pki, "apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client", "clientAuth")
        _leaf(pki, "node", f"/O=system:nodes/CN=system:node:{layout.node_name}", "clientAuth")
        _leaf(pki, "kube-proxy", "/CN=system:kube-proxy", "clientAuth")
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


def write_kubeconfigs(layout: Layout, server: str) -> None:
    write_kubeconfig(layout.kubeconfig, server, layout.pki, "admin")
    for user in ("controller-manager", "scheduler", "kwok"):
        write_kubeconfig(layout.component_kubeconfig(user), server, layout.pki, user)
    if layout.real_node:
        for user in ("node", "kube-proxy"):
            write_kubeconfig(layout.component_kubeconfig(user), server, layout.pki, user)
