"""The ``dns`` part (real node only): CoreDNS in kube-system as ``kube-dns`` at 10.96.0.10, from the
locally built image. It answers ``cluster.local`` (and reverse lookups) from the API; every other
name gets NXDOMAIN: there is no ``forward``, nothing outside the cluster is resolved."""

from __future__ import annotations

from typing import Any

from embedded.cluster import Cluster
from embedded.layout import DNS_IP
from embedded.proc import wait_until

NS = "kube-system"
COREFILE = """cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
    errors
    health {
        lameduck 2s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    cache 30
    loadbalance
}
.:53 {
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
"""


def coredns_image(images: list[str]) -> str:
    found = [i for i in images if i.startswith("registry.k8s.io/coredns/coredns:")]
    if not found:
        raise RuntimeError("no CoreDNS image among the node's images: run scripts/bootstrap.sh (piece images)")
    return found[0]


def objects(image: str) -> list[tuple[str, dict[str, Any]]]:
    """(collection path, object) to create, in order."""
    labels = {"k8s-app": "kube-dns"}
    container = {
        "name": "coredns",
        "image": image,
        "imagePullPolicy": "Never",
        "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [
            {"containerPort": 53, "name": "dns", "protocol": "UDP"},
            {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
            {"containerPort": 9153, "name": "metrics", "protocol": "TCP"},
        ],
        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "50m", "memory": "30Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
        },
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}, "initialDelaySeconds": 5, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, "periodSeconds": 2},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
    }
    return [
        (
            f"/api/v1/namespaces/{NS}/serviceaccounts",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", "namespace": NS}},
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": "system:coredns"},
                "rules": [
                    {
                        "apiGroups": [""],
                        "resources": ["endpoints", "services", "pods", "namespaces"],
                        "verbs": ["list", "watch"],
                    },
                    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
                ],
            },
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "system:coredns"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
                "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": NS}],
            },
        ),
        (
            f"/api/v1/namespaces/{NS}/configmaps",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "coredns", "namespace": NS},
                "data": {"Corefile": COREFILE},
            },
        ),
        (
            f"/apis/apps/v1/namespaces/{NS}/deployments",
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "coredns", "namespace": NS, "labels": labels},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "serviceAccountName": "coredns",
                            "priorityClassName": "system-cluster-critical",
                            "dnsPolicy": "Default",
                            "nodeSelector": {"type": "real"},
                            "terminationGracePeriodSeconds": 3,
                            "containers": [container],
                            "volumes": [
                                {
                                    "name": "config",
                                    "configMap": {
                                        "name": "coredns",
                                        "items": [{"key": "Corefile", "path": "Corefile"}],
                                    },
                                }
                            ],
                        },
                    },
                },
            },
        ),
        (
            f"/api/v1/namespaces/{NS}/services",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kube-dns",
                    "namespace": NS,
                    "labels": {**labels, "kubernetes.io/name": "CoreDNS"},
                },
                "spec": {
                    "selector": labels,
                    "clusterIP": DNS_IP,
                    "ports": [
                        {"name": "dns", "port": 53, "protocol": "UDP"},
                        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                        {"name": "metrics", "port": 9153, "protocol": "TCP"},
                    ],
                },
            },
        ),
    ]


def _available(c: Cluster) -> bool:
    code, body = c.api.get(f"/apis/apps/v1/namespaces/{NS}/deployments/coredns")
    return code == 200 and int((body.get("status") or {}).get("availableReplicas") or 0) >= 1


class Dns:
    name = "dns"

    def wanted(self, c: Cluster) -> bool:
        return c.layout.real_node

    def start(self, c: Cluster) -> None:
        for path, obj in objects(coredns_image(c.state.get("images", []))):
            c.api.create(path, obj)
        wait_until("CoreDNS available", lambda: _available(c), c.timeout, alive_check=c.alive_check)

    def check(self, c: Cluster) -> list[str]:
        return [] if _available(c) else ["CoreDNS is not available"]

    def stop(self, c: Cluster) -> None:
        """Its pod goes with the node, its objects with etcd's data."""
