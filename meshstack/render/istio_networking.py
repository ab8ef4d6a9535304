"""Istio networking of an app: DestinationRule (subsets + traffic policy), VirtualServices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshstack.model.app import AppSpec
from meshstack.model.policy.route import HttpRoute
from meshstack.render import fields
from meshstack.render.kube import Manifest, meta

NETWORKING = "networking.istio.io/v1"


def traffic_policy(spec: AppSpec) -> dict[str, Any]:
    policy: dict[str, Any] = {}
    lb: dict[str, Any] = fields.load_balancer(spec.load_balancer) if spec.load_balancer is not None else {}
    if spec.locality_failover is not None:
        lb["localityLbSetting"] = fields.locality(spec.locality_failover)
    if lb:
        policy["loadBalancer"] = lb
    if spec.circuit_breaker is not None:
        if pool := spec.circuit_breaker.connection_pool():
            policy["connectionPool"] = pool
        if outlier := spec.circuit_breaker.outlier_detection():
            policy["outlierDetection"] = outlier
    if spec.tls is not None:
        policy["tls"] = fields.client_tls(spec.tls)
    return policy


def destination_rule(app: str, spec: AppSpec, ns: str, *, host: str | None = None, subsets: bool = True) -> Manifest:
    body: dict[str, Any] = {"host": host or app}
    if subsets:
        body["subsets"] = [{"name": v, "labels": {"version": v}} for v in spec.versions]
    if policy := traffic_policy(spec):
        body["trafficPolicy"] = policy
    return {
        "apiVersion": NETWORKING,
        "kind": "DestinationRule",
        "metadata": meta(host or app, ns, {"app": app}),
        "spec": body,
    }


def _destination(app: str, spec: AppSpec, version: str, port: int | None) -> dict[str, Any]:
    dest: dict[str, Any] = {"host": app, "subset": version}
    if port is not None:
        dest["port"] = {"number": port}
    return dest


def http_route(
    app: str, spec: AppSpec, route: HttpRoute, port: int | None, extra_match: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if route.name is not None:
        out["name"] = route.name
    matches = [fields.match(m) for m in route.match if not m.is_empty]
    if extra_match is not None:
        matches = extra_match
    if matches:
        out["match"] = matches
    weighted = route.weighted
    out["route"] = [
        {"destination": _destination(app, spec, v, port), **({"weight": w} if len(weighted) > 1 else {})}
        for v, w in weighted
    ]
    if route.timeout is not None:
        out["timeout"] = route.timeout
    if route.retries is not None:
        out["retries"] = fields.retries(route.retries)
    if route.fault is not None:
        out["fault"] = fields.fault(route.fault)
    if route.mirror is not None:
        out["mirror"] = _destination(app, spec, route.mirror.version, port)
        out["mirrorPercentage"] = {"value": route.mirror.percentage}
    return out


def mesh_virtual_service(app: str, spec: AppSpec, ns: str) -> Manifest | None:
    """The one VirtualService of the mesh host ``app`` (None when the app has no routes)."""
    routes = spec.effective_routes()
    if not routes:
        return None
    port = spec.ports[0].port if len(spec.ports) > 1 else None
    return {
        "apiVersion": NETWORKING,
        "kind": "VirtualService",
        "metadata": meta(app, ns, {"app": app}),
        "spec": {"hosts": [app], "http": [http_route(app, spec, r, port) for r in routes]},
    }


def catch_all_weights(virtual_service: Mapping[str, Any]) -> dict[str, int]:
    """Each subset's weight on the last (catch-all) route of a VirtualService as
    :func:`mesh_virtual_service` writes it (a lone destination carries no weight: 100), e.g. read
    back from the API server."""
    route = virtual_service["spec"]["http"][-1]["route"]
    return {r["destination"]["subset"]: int(r.get("weight", 100)) for r in route}


def ingress_virtual_service(app: str, spec: AppSpec, ns: str, gateway: str) -> Manifest:
    """Binds the app's exposed paths on ``gateway`` (``namespace/name``) to its default route."""
    assert spec.expose is not None
    port = spec.primary_port(spec.expose.port).port
    matches = [{"uri": fields.string_match(p)} for p in spec.expose.paths]
    default = spec.default_route()
    if default is not None:
        http = http_route(app, spec, default, port, extra_match=matches)
        http.pop("name", None)
        http.pop("fault", None)  # faults are for in-mesh tests; the gateway serves users
    else:
        http = {"match": matches, "route": [{"destination": {"host": app, "port": {"number": port}}}]}
    return {
        "apiVersion": NETWORKING,
        "kind": "VirtualService",
        "metadata": meta(f"{app}-ingress", ns, {"app": app}),
        "spec": {"hosts": list(spec.expose.hosts), "gateways": [gateway], "http": [http]},
    }


def istio_gateway(name: str, ns: str, selector: dict[str, str], port: int, hosts: list[str]) -> Manifest:
    return {
        "apiVersion": NETWORKING,
        "kind": "Gateway",
        "metadata": meta(name, ns),
        "spec": {
            "selector": dict(selector),
            "servers": [{"port": {"number": port, "name": "http", "protocol": "HTTP"}, "hosts": hosts}],
        },
    }
