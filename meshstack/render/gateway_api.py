"""Gateway API routes of an app: mesh HTTPRoute (parentRef = the app's Service, GAMMA) with
weighted backendRefs to per-version Services, and ingress HTTPRoutes attached to a Gateway.

Weights are proportional. Path prefixes are segment-wise in Gateway API (``/static`` matches
``/static/x``, not ``/staticx``); header/query prefix matches become regular expressions.
Inexpressible policies were refused before this runs (:func:`meshstack.model.checks.target_problems`).
"""

from __future__ import annotations

from typing import Any

from meshstack.model.app import AppSpec
from meshstack.model.base import duration_seconds
from meshstack.model.policy.match import Match, StringMatch
from meshstack.model.policy.route import HttpRoute
from meshstack.model.target import GATEWAY_API_MAX_COUNT
from meshstack.render.kube import Manifest, meta

GATEWAY_API = "gateway.networking.k8s.io/v1"
_PATH = {"exact": "Exact", "prefix": "PathPrefix", "regex": "RegularExpression"}


def _value_match(name: str, match: StringMatch) -> dict[str, str]:
    if match.exact is not None:
        return {"type": "Exact", "name": name, "value": match.exact}
    return {"type": "RegularExpression", "name": name, "value": match.as_regex()}


def _path(match: StringMatch) -> dict[str, str]:
    return {"type": _PATH[match.kind], "value": match.value}


def match_to_gateway_api(match: Match) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if match.uri is not None:
        out["path"] = _path(match.uri)
    if match.headers:
        out["headers"] = [_value_match(k, v) for k, v in match.headers.items()]
    if match.query_params:
        out["queryParams"] = [_value_match(k, v) for k, v in match.query_params.items()]
    if match.method is not None:
        out["method"] = match.method.value
    return out


def _backend(app: str, version: str, port: int, weight: int | None) -> dict[str, Any]:
    ref: dict[str, Any] = {"name": f"{app}-{version}", "port": port}
    if weight is not None:
        ref["weight"] = weight
    return ref


def gateway_api_duration(value: str) -> str:
    """A duration in Gateway API's form (``^([0-9]{1,5}(h|m|s|ms)){1,4}$``), in the smallest unit
    that writes it in five digits (valid input: :func:`meshstack.model.target.gateway_api_duration_ok`)."""
    whole = round(duration_seconds(value) * 1000)
    for unit, size in (("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)):
        if whole % size == 0 and whole // size <= GATEWAY_API_MAX_COUNT:
            return f"{whole // size}{unit}"
    return f"{whole}ms"


def rule(app: str, route: HttpRoute, port: int, matches: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if matches is None:
        matches = [match_to_gateway_api(m) for m in route.match if not m.is_empty]
    if matches:
        out["matches"] = matches
    weighted = route.weighted
    out["backendRefs"] = [_backend(app, v, port, w if len(weighted) > 1 else None) for v, w in weighted]
    if route.timeout is not None:
        out["timeouts"] = {"request": gateway_api_duration(route.timeout)}
    if route.mirror is not None:
        out["filters"] = [
            {
                "type": "RequestMirror",
                "requestMirror": {
                    "backendRef": {"name": f"{app}-{route.mirror.version}", "port": port},
                    "percent": int(route.mirror.percentage),
                },
            }
        ]
    return out


def mesh_http_route(app: str, spec: AppSpec, ns: str) -> Manifest | None:
    routes = spec.effective_routes()
    if not routes:
        return None
    port = spec.ports[0].port
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": meta(app, ns, {"app": app}),
        "spec": {
            "parentRefs": [{"group": "", "kind": "Service", "name": app, "port": port}],
            "rules": [rule(app, r, port) for r in routes],
        },
    }


def ingress_http_route(app: str, spec: AppSpec, ns: str, parent: dict[str, Any]) -> Manifest:
    assert spec.expose is not None
    port = spec.primary_port(spec.expose.port).port
    matches = [{"path": _path(p)} for p in spec.expose.paths]
    default = spec.default_route()
    if default is not None:
        body = rule(app, default, port, matches=matches)
    else:
        body = {"matches": matches, "backendRefs": [{"name": app, "port": port}]}
    route_spec: dict[str, Any] = {"parentRefs": [parent], "rules": [body]}
    hostnames = [h for h in spec.expose.hosts if h != "*"]
    if hostnames:
        route_spec["hostnames"] = hostnames
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": meta(f"{app}-ingress", ns, {"app": app}),
        "spec": route_spec,
    }


def gateway(name: str, ns: str, port: int = 80) -> Manifest:
    """A Gateway API Gateway of class ``istio`` (Istio deploys its proxy) for routes of ``ns``."""
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": meta(name, ns),
        "spec": {
            "gatewayClassName": "istio",
            "listeners": [
                {"name": "http", "port": port, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "Same"}}}
            ],
        },
    }
