"""Every validation rule of the apps section fails with a path-named error, before rendering."""

from __future__ import annotations

from typing import Any

import pytest

from meshstack.errors import ConfigError
from meshstack.model.apps import AppsConfig
from meshstack.model.policy import HttpRoute, LoadBalancer, Match
from meshstack.render import fields
from meshstack.stacks.config import parse_apps

V = {"image": "example/web:1"}


def app(**extra: Any) -> dict[str, Any]:
    return {"versions": {"v1": V, "v2": V}, **extra}


def errors(section: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as exc:
        parse_apps({"enabled": True, **section})
    return {p.path: p.message for p in exc.value.problems}


def split(a: int, b: int) -> list[dict[str, Any]]:
    return [{"to": [{"version": "v1", "weight": a}, {"version": "v2", "weight": b}]}]


CASES = [
    ({"services": {"web": app(routes=split(80, 30))}}, "apps.services.web.routes[0].to", "sum to 100"),
    ({"services": {"web": app(routes=[{"to": [{"version": "v9"}]}])}}, "apps.services.web.routes[0].to[0].version", "unknown version 'v9'"),
    ({"services": {"web": app(routes=[{"to": [{"version": "v1"}], "timeout": "5 s"}])}}, "apps.services.web.routes[0].timeout", "duration"),
    ({"services": {"web": app(routes=[{"to": [{"version": "v1"}], "fault": {"abort": {"httpStatus": 500, "percentage": 120}}}])}}, "apps.services.web.routes[0].fault.abort.percentage", "between 0 and 100"),
    ({"services": {"web": app(routes=[{"match": [{"headers": {"End User": {"exact": "x"}}}], "to": [{"version": "v1"}]}, {"to": [{"version": "v1"}]}])}}, "apps.services.web.routes[0].match[0].headers.End User", "not allowed as a key"),
    ({"services": {"web": app(tls={"mode": "DISABLE"}, peerAuthentication={"mode": "STRICT"})}}, "apps.services.web.tls.mode", "STRICT"),
    ({"peerAuthentication": {"mode": "STRICT"}, "services": {"web": app(tls={"mode": "DISABLE"})}}, "apps.services.web.tls.mode", "namespace PeerAuthentication"),
    ({"services": {"web": app(rateLimit={"maxTokens": 10, "fillInterval": "10ms"})}}, "apps.services.web.rateLimit.fillInterval", "50ms"),
    ({"services": {"web": app(routes=[{"to": [{"version": "v1"}], "timeout": "2s", "retries": {"attempts": 3, "perTryTimeout": "1s"}}])}}, "apps.services.web.routes[0].retries.perTryTimeout", "exceeds the route timeout"),
    ({"services": {"web": app(routes=split(50, 50), loadBalancer={"consistentHash": {"httpHeaderName": "x-user"}})}}, "apps.services.web.loadBalancer.consistentHash", "weighted"),
    ({"bookinfo": {}, "services": {"reviews": app()}}, "apps.services.reviews", "one VirtualService per host"),
    ({"services": {"web": app(routes=[{"to": [{"version": "v1"}]}, {"to": [{"version": "v2"}]}])}}, "apps.services.web.routes[0].match", "unreachable"),
    ({"services": {"web": app(localityFailover={"failover": [{"from": "eu", "to": "us"}]})}}, "apps.services.web.localityFailover", "outlier detection"),
    ({"services": {"web": app(blueGreen={"active": "v3"})}}, "apps.services.web.blueGreen.active", "unknown version"),
    ({"services": {"web": app(routes=[{"to": [{"version": "v1"}], "mirror": {"version": "v7"}}])}}, "apps.services.web.routes[0].mirror.version", "unknown version"),
    ({"services": {"web": app(peerAuthentication={"portLevelMtls": [{"port": 9999, "mode": "DISABLE"}]})}}, "apps.services.web.peerAuthentication.portLevelMtls[0].port", "not a container port"),
    ({"services": {"web": app(authorization=[{"action": "DENY"}])}}, "apps.services.web.authorization[0].rules", "at least one rule"),
    ({"services": {"web": app(routes=[{"to": [{"version": "v1"}], "retries": {"attempts": 2, "retryOn": ["bogus"]}}])}}, "apps.services.web.routes[0].retries.retryOn[0]", "unknown retry condition"),
    ({"services": {"web": app(typo=1)}}, "apps.services.web.typo", "unknown key"),
    # Two apps with one ServiceAccount rendered it twice (found by fuzz/fuzz_apps.py --mode valid).
    ({"services": {"web": app(serviceAccount="shared"), "api": app(serviceAccount="shared")}}, "apps.services.api.serviceAccount", "already the identity of app 'web'"),
    ({"services": {"web": app(), "api": app(serviceAccount="web")}}, "apps.services.api.serviceAccount", "already the identity of app 'web'"),
    ({"bookinfo": {}, "services": {"web": app(serviceAccount="bookinfo-reviews")}}, "apps.services.web.serviceAccount", "'reviews'"),
    # Gateway API cannot express these: clear errors, not silent drops.
    ({"target": "gatewayApi", "services": {"web": app(routes=[{"to": [{"version": "v1"}], "fault": {"delay": {"fixedDelay": "1s"}}}])}}, "apps.services.web.routes[0].fault", "Gateway API"),
    ({"target": "gatewayApi", "services": {"web": app(routes=[{"to": [{"version": "v1"}], "retries": {"attempts": 1}}])}}, "apps.services.web.routes[0].retries", "Gateway API"),
    ({"target": "gatewayApi", "services": {"web": app(routes=[{"match": [{"sourceLabels": {"app": "x"}}], "to": [{"version": "v1"}]}, {"to": [{"version": "v2"}]}])}}, "apps.services.web.routes[0].match[0].sourceLabels", "Gateway API"),
    ({"target": "gatewayApi", "bookinfo": {"scenario": "ratings-abort-jason"}}, "apps.bookinfo.scenario", "fault injection"),
]  # fmt: skip


@pytest.mark.parametrize(("section", "path", "text"), CASES, ids=[c[1] + ":" + c[2] for c in CASES])
def test_invalid_config_names_the_path(section: dict[str, Any], path: str, text: str) -> None:
    found = errors(section)
    assert path in found, found
    assert text in found[path]


def test_every_problem_is_reported_at_once() -> None:
    found = errors(
        {
            "services": {
                "a": app(routes=[{"to": [{"version": "v1", "weight": -5}, {"version": "v2", "weight": 1}]}]),
                "b": app(rateLimit={"maxTokens": 1, "fillInterval": "1ms"}),
                "c": {"versions": {"v1": {"image": "x", "replicas": -1}}},
            }
        }
    )
    assert {
        "apps.services.a.routes[0].to[0].weight",
        "apps.services.b.rateLimit.fillInterval",
        "apps.services.c.versions.v1.replicas",
    } <= set(found)


def test_gateway_api_weights_are_proportional() -> None:
    cfg = AppsConfig.parse({"enabled": True, "target": "gatewayApi", "services": {"web": app(routes=split(1, 3))}})
    assert cfg.apps["web"].routes[0].weighted == [("v1", 1), ("v2", 3)]


def test_retries_within_timeout_are_accepted() -> None:
    HttpRoute.parse({"to": [{"version": "v1"}], "timeout": "3s", "retries": {"attempts": 2, "perTryTimeout": "1s"}})


def test_factories() -> None:
    assert fields.match(Match.header("end-user", exact="jason")) == {"headers": {"end-user": {"exact": "jason"}}}
    assert fields.load_balancer(LoadBalancer.consistent_hash_header("x-user")) == {
        "consistentHash": {"httpHeaderName": "x-user"}
    }
    assert fields.load_balancer(LoadBalancer.round_robin()) == {"simple": "ROUND_ROBIN"}
    assert HttpRoute.weighted_split({"v1": 80, "v2": 20}).splits_traffic
    cookie = Match.cookie("user", "jason")
    assert cookie.headers["cookie"].regex is not None


@pytest.mark.parametrize("namespace", ["*", "team-a", "team-*", "*-prod", "t*"])
def test_authorization_namespace_accepts_istio_prefix_and_suffix_matches(namespace: str) -> None:
    from meshstack.model.policy.authorization import AuthorizationRule

    assert AuthorizationRule.parse({"namespaces": [namespace]}).namespaces == [namespace]


@pytest.mark.parametrize("namespace", ["Team", "team-*-x", "**", "-team*", "team_*"])
def test_authorization_namespace_refuses_other_shapes(namespace: str) -> None:
    from meshstack.errors import ConfigError
    from meshstack.model.policy.authorization import AuthorizationRule

    with pytest.raises(ConfigError) as err:
        AuthorizationRule.parse({"namespaces": [namespace]})
    assert "a namespace name, optionally a prefix (team-*) or suffix (*-prod) match" in str(err.value)
