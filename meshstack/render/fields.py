"""The API form of meshstack's field objects, one function each: Istio's for the policy fields (a
match, a retry policy, a fault, client TLS, a load balancer, locality failover, an authorization
rule, a JWT rule, a PeerAuthentication's mTLS), Kubernetes' for probes and resources.

Pure functions of valid model objects; the manifests that carry these fields are built in
:mod:`~meshstack.render.istio_networking`, :mod:`~meshstack.render.istio_security` and
:mod:`~meshstack.render.workload`.
"""

from __future__ import annotations

from typing import Any

from meshstack.model.policy.authorization import AuthorizationRule
from meshstack.model.policy.client_tls import ClientTls
from meshstack.model.policy.fault import Fault
from meshstack.model.policy.load_balancer import ConsistentHash, LoadBalancer
from meshstack.model.policy.locality import LocalityFailover
from meshstack.model.policy.match import Match, StringMatch
from meshstack.model.policy.peer_authentication import PeerAuthentication
from meshstack.model.policy.request_authentication import JwtRule
from meshstack.model.policy.retries import Retries
from meshstack.model.probe import Probe
from meshstack.model.resources import ResourceList, Resources


def string_match(m: StringMatch) -> dict[str, str]:
    """``{exact|prefix|regex: value}``."""
    return {m.kind: m.value}


def match(m: Match) -> dict[str, Any]:
    """A VirtualService ``http[].match[]`` entry."""
    out: dict[str, Any] = {}
    if m.uri is not None:
        out["uri"] = string_match(m.uri)
    if m.headers:
        out["headers"] = {k: string_match(v) for k, v in m.headers.items()}
    if m.query_params:
        out["queryParams"] = {k: string_match(v) for k, v in m.query_params.items()}
    if m.method is not None:
        out["method"] = {"exact": m.method.value}
    if m.without_headers:
        out["withoutHeaders"] = {k: string_match(v) for k, v in m.without_headers.items()}
    if m.source_labels:
        out["sourceLabels"] = dict(m.source_labels)
    if m.port is not None:
        out["port"] = m.port
    return out


def retries(r: Retries) -> dict[str, object]:
    out: dict[str, object] = {"attempts": r.attempts}
    if r.per_try_timeout is not None:
        out["perTryTimeout"] = r.per_try_timeout
    if r.retry_on:
        out["retryOn"] = ",".join(r.retry_on)
    return out


def fault(f: Fault) -> dict[str, object]:
    out: dict[str, object] = {}
    if f.delay is not None:
        out["delay"] = {"fixedDelay": f.delay.fixed_delay, "percentage": {"value": f.delay.percentage}}
    if f.abort is not None:
        out["abort"] = {"httpStatus": f.abort.http_status, "percentage": {"value": f.abort.percentage}}
    return out


def client_tls(tls: ClientTls) -> dict[str, Any]:
    """A DestinationRule's ``trafficPolicy.tls``."""
    out: dict[str, Any] = {"mode": tls.mode.value}
    if tls.credential_name is not None:
        out["credentialName"] = tls.credential_name
    if tls.sni is not None:
        out["sni"] = tls.sni
    if tls.ca_certificates is not None:
        out["caCertificates"] = tls.ca_certificates
    return out


def consistent_hash(h: ConsistentHash) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if h.http_header_name is not None:
        out["httpHeaderName"] = h.http_header_name
    if h.http_cookie is not None:
        out["httpCookie"] = h.http_cookie.model_dump(by_alias=True, exclude_none=True)
    if h.use_source_ip:
        out["useSourceIp"] = True
    if h.http_query_parameter_name is not None:
        out["httpQueryParameterName"] = h.http_query_parameter_name
    return out


def load_balancer(lb: LoadBalancer) -> dict[str, Any]:
    """A DestinationRule's ``trafficPolicy.loadBalancer`` (without its locality setting)."""
    if lb.simple is not None:
        return {"simple": lb.simple.value}
    assert lb.consistent_hash is not None
    return {"consistentHash": consistent_hash(lb.consistent_hash)}


def locality(lf: LocalityFailover) -> dict[str, Any]:
    """``loadBalancer.localityLbSetting``."""
    out: dict[str, Any] = {"enabled": True}
    if lf.failover:
        out["failover"] = [{"from": f.from_region, "to": f.to_region} for f in lf.failover]
    if lf.failover_priority:
        out["failoverPriority"] = list(lf.failover_priority)
    return out


def peer_authentication(pa: PeerAuthentication) -> dict[str, Any]:
    """A PeerAuthentication's spec without its selector."""
    out: dict[str, Any] = {"mtls": {"mode": pa.mode.value}}
    if pa.port_level_mtls:
        out["portLevelMtls"] = {str(p.port): {"mode": p.mode.value} for p in pa.port_level_mtls}
    return out


def authorization_rule(rule: AuthorizationRule) -> dict[str, Any]:
    """An AuthorizationPolicy ``rules[]`` entry."""
    source = {k: list(v) for k, v in (("principals", rule.principals), ("namespaces", rule.namespaces),
                                      ("requestPrincipals", rule.request_principals)) if v}  # fmt: skip
    operation: dict[str, Any] = {}
    if rule.methods:
        operation["methods"] = [m.value for m in rule.methods]
    if rule.paths:
        operation["paths"] = list(rule.paths)
    if rule.not_paths:
        operation["notPaths"] = list(rule.not_paths)
    if rule.ports:
        operation["ports"] = [str(p) for p in rule.ports]
    out: dict[str, Any] = {}
    if source:
        out["from"] = [{"source": source}]
    if operation:
        out["to"] = [{"operation": operation}]
    return out


def jwt_rule(rule: JwtRule) -> dict[str, Any]:
    """A RequestAuthentication ``jwtRules[]`` entry."""
    out: dict[str, Any] = {"issuer": rule.issuer}
    if rule.jwks_uri is not None:
        out["jwksUri"] = rule.jwks_uri
    if rule.jwks is not None:
        out["jwks"] = rule.jwks
    if rule.audiences:
        out["audiences"] = list(rule.audiences)
    if rule.forward_original_token:
        out["forwardOriginalToken"] = True
    return out


def probe(p: Probe, default_port: int, *, liveness: bool) -> dict[str, Any]:
    """A container's readiness (or, ``liveness``, liveness) probe."""
    port = p.port or default_port
    check: dict[str, Any] = {"httpGet": {"path": p.path, "port": port}} if p.path else {"tcpSocket": {"port": port}}
    out = {**check, "periodSeconds": p.period_seconds, "failureThreshold": p.failure_threshold}
    if liveness:
        out["initialDelaySeconds"] = 10
    return out


def resource_list(rl: ResourceList) -> dict[str, str]:
    return {k: v for k, v in (("cpu", rl.cpu), ("memory", rl.memory)) if v is not None}


def resources(r: Resources) -> dict[str, Any]:
    """A container's ``resources`` (requests and limits, each only when set)."""
    out: dict[str, Any] = {}
    if req := resource_list(r.requests):
        out["requests"] = req
    if lim := resource_list(r.limits):
        out["limits"] = lim
    return out
