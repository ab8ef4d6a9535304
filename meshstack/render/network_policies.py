"""NetworkPolicies that fence the mesh's namespaces: only the mesh and its addons talk, as they must.

Every namespace meshstack owns denies ingress by default and then allows:

* workload namespaces (and the apps namespace): from the mesh's own namespaces (labelled
  ``app.kubernetes.io/managed-by: meshstack``: the control plane, the gateways, the workloads);
* the control-plane namespace: istiod's ports from anywhere (every sidecar's xDS and CA, and the
  API server calling its webhooks, which is not a pod), the addons from each other, and the Jaeger
  collector from the mesh's namespaces (spans from every sidecar);
* the ingress gateway: its ports from anywhere (it is the edge); the egress gateway: from the mesh.

Egress is governed by the mesh (``outboundTrafficPolicy: REGISTRY_ONLY`` and ServiceEntries).
"""

from __future__ import annotations

from typing import Any

from meshstack.render.kube import MANAGED_BY, Manifest, meta

NETWORKING = "networking.k8s.io/v1"
#: istiod: 15010 (xDS plaintext), 15012 (xDS + CA over mTLS), 15014 (monitoring), 15017 (webhooks).
ISTIOD_PORTS = (15010, 15012, 15014, 15017)
#: Jaeger's collectors: OTLP gRPC, OTLP HTTP, Zipkin.
JAEGER_COLLECTOR_PORTS = (4317, 4318, 9411)
MESH_NAMESPACES: dict[str, Any] = {"namespaceSelector": {"matchLabels": dict(MANAGED_BY)}}


def _policy(name: str, ns: str, pods: dict[str, str], ingress: list[dict[str, Any]] | None) -> Manifest:
    spec: dict[str, Any] = {"podSelector": {"matchLabels": pods} if pods else {}, "policyTypes": ["Ingress"]}
    if ingress is not None:
        spec["ingress"] = ingress
    return {"apiVersion": NETWORKING, "kind": "NetworkPolicy", "metadata": meta(name, ns), "spec": spec}


def _ports(numbers: tuple[int, ...] | list[int]) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in numbers]


def deny_all(ns: str) -> Manifest:
    """No ingress to any pod of ``ns`` unless another policy allows it."""
    return _policy("default-deny-ingress", ns, {}, None)


def workload_namespace(ns: str) -> list[Manifest]:
    return [deny_all(ns), _policy("allow-from-mesh", ns, {}, [{"from": [MESH_NAMESPACES]}])]


def control_plane_namespace(ns: str, jaeger: bool) -> list[Manifest]:
    out = [deny_all(ns)]
    # Every revision's istiod (pods labelled app=istiod), from anywhere, on its ports only.
    out.append(_policy("allow-istiod", ns, {"app": "istiod"}, [{"ports": _ports(ISTIOD_PORTS)}]))
    out.append(_policy("allow-same-namespace", ns, {}, [{"from": [{"podSelector": {}}]}]))
    if jaeger:
        out.append(
            _policy(
                "allow-spans-from-mesh",
                ns,
                {"app": "jaeger"},
                [{"from": [MESH_NAMESPACES], "ports": _ports(JAEGER_COLLECTOR_PORTS)}],
            )
        )
    return out


def gateway_namespace(ns: str, gateways: list[tuple[str, dict[str, str], bool]]) -> list[Manifest]:
    """``gateways``: (name, pod selector, open to anyone) of the gateways living in ``ns``. The ingress
    is the edge (anyone, any of its ports); an egress gateway serves the mesh only."""
    out = [deny_all(ns)]
    for name, selector, public in gateways:
        rule: dict[str, Any] = {} if public else {"from": [MESH_NAMESPACES]}
        out.append(_policy(f"allow-{name}", ns, selector, [rule]))
    return out
