"""Istio security of an app: PeerAuthentication, AuthorizationPolicy, RequestAuthentication, and
the local rate limit EnvoyFilter (Envoy's token bucket on the inbound sidecar)."""

from __future__ import annotations

from typing import Any

from meshstack.model.app import AppSpec
from meshstack.model.policy.peer_authentication import PeerAuthentication
from meshstack.model.policy.rate_limit import LocalRateLimit
from meshstack.render import fields
from meshstack.render.kube import Manifest, meta

SECURITY = "security.istio.io/v1"


def peer_authentication(name: str, ns: str, policy: PeerAuthentication, app: str | None = None) -> Manifest:
    spec = fields.peer_authentication(policy)
    if app is not None:
        spec = {"selector": {"matchLabels": {"app": app}}, **spec}
    return {
        "apiVersion": SECURITY,
        "kind": "PeerAuthentication",
        "metadata": meta(name, ns, {"app": app} if app else None),
        "spec": spec,
    }


def _authz(name: str, ns: str, spec: dict[str, Any], labels: dict[str, str] | None = None) -> Manifest:
    return {"apiVersion": SECURITY, "kind": "AuthorizationPolicy", "metadata": meta(name, ns, labels), "spec": spec}


def mesh_allow_nothing(root_namespace: str) -> Manifest:
    """The mesh-wide default deny: an ALLOW policy without rules in the root namespace matches no
    request, so every workload refuses everything its own policies do not allow."""
    return _authz("allow-nothing", root_namespace, {})


def gateway_allow(name: str, ns: str, selector: dict[str, str], public: bool) -> Manifest:
    """Opens a gateway under the default deny: the ingress to anyone (it is the edge, its routes
    decide), an egress gateway to the mesh's own workloads (any mTLS identity)."""
    rules: list[dict[str, Any]] = [{}] if public else [{"from": [{"source": {"principals": ["*"]}}]}]
    return _authz(f"allow-{name}", ns, {"selector": {"matchLabels": dict(selector)}, "action": "ALLOW", "rules": rules})


def allow_from_gateway(app: str, ns: str, principal: str) -> Manifest:
    """Opens an exposed app to the ingress gateway's identity (the default deny keeps the rest shut)."""
    spec = {
        "selector": {"matchLabels": {"app": app}},
        "action": "ALLOW",
        "rules": [{"from": [{"source": {"principals": [principal]}}]}],
    }
    return _authz(f"{app}-from-ingress", ns, spec, {"app": app})


def authorization_policies(app: str, spec: AppSpec, ns: str) -> list[Manifest]:
    out = []
    for i, policy in enumerate(spec.authorization):
        body: dict[str, Any] = {"selector": {"matchLabels": {"app": app}}, "action": policy.action.value}
        if policy.rules:
            body["rules"] = [fields.authorization_rule(r) for r in policy.rules]
        out.append(
            {
                "apiVersion": SECURITY,
                "kind": "AuthorizationPolicy",
                "metadata": meta(f"{app}-{policy.name or i}", ns, {"app": app}),
                "spec": body,
            }
        )
    if spec.request_authentication is not None and spec.request_authentication.require_jwt:
        out.append(
            {
                "apiVersion": SECURITY,
                "kind": "AuthorizationPolicy",
                "metadata": meta(f"{app}-require-jwt", ns, {"app": app}),
                "spec": {
                    "selector": {"matchLabels": {"app": app}},
                    "action": "DENY",
                    # Only the HTTP ports: a DENY rule made of HTTP attributes would otherwise shut
                    # every TCP port of the workload (istioctl warns about exactly that).
                    "rules": [
                        {
                            "from": [{"source": {"notRequestPrincipals": ["*"]}}],
                            "to": [{"operation": {"ports": [str(p.container_port) for p in spec.ports if p.is_http]}}],
                        }
                    ],
                },
            }
        )
    return out


def request_authentication(app: str, spec: AppSpec, ns: str) -> Manifest | None:
    if spec.request_authentication is None:
        return None
    return {
        "apiVersion": SECURITY,
        "kind": "RequestAuthentication",
        "metadata": meta(app, ns, {"app": app}),
        "spec": {
            "selector": {"matchLabels": {"app": app}},
            "jwtRules": [fields.jwt_rule(r) for r in spec.request_authentication.jwt_rules],
        },
    }


#: Applied after EnvoyFilters of the default priority (0), so a platform's own filters go first.
RATE_LIMIT_PRIORITY = 10


def local_rate_limit(app: str, limit: LocalRateLimit, ns: str) -> Manifest:
    bucket = {
        "max_tokens": limit.max_tokens,
        "tokens_per_fill": limit.refill,
        "fill_interval": limit.envoy_fill_interval(),
    }
    enabled = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}, "runtime_key": "local_rate_limit_enabled"}
    enforced = {**enabled, "runtime_key": "local_rate_limit_enforced"}
    config = {
        "@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
        "type_url": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
        "value": {
            "stat_prefix": "http_local_rate_limiter",
            "token_bucket": bucket,
            "filter_enabled": enabled,
            "filter_enforced": enforced,
            "response_headers_to_add": [{"append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                                         "header": {"key": "x-local-rate-limit", "value": "true"}}],
        },
    }  # fmt: skip
    return {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "EnvoyFilter",
        "metadata": meta(f"{app}-local-ratelimit", ns, {"app": app}),
        "spec": {
            "workloadSelector": {"labels": {"app": app}},
            # An explicit priority orders this relative (INSERT_BEFORE) patch among other EnvoyFilters
            # deterministically; without one istioctl analyze reports IST0151.
            "priority": RATE_LIMIT_PRIORITY,
            "configPatches": [
                {
                    "applyTo": "HTTP_FILTER",
                    "match": {
                        "context": "SIDECAR_INBOUND",
                        "listener": {
                            "filterChain": {"filter": {"name": "envoy.filters.network.http_connection_manager"}}
                        },
                    },
                    "patch": {
                        "operation": "INSERT_BEFORE",
                        "value": {"name": "envoy.filters.http.local_ratelimit", "typed_config": config},
                    },
                }
            ],
        },
    }
