"""Every Bookinfo scenario is one config value away and renders the documented resources."""

from __future__ import annotations

from typing import Any

import pytest

from meshstack.apps.bookinfo import BookinfoScenario
from meshstack.errors import ConfigError
from meshstack.model.refs import GatewayRef, MeshRef
from meshstack.render.app import render_apps
from meshstack.stacks.config import parse_apps
from tests.schemas import validate_manifests

INGRESS = GatewayRef("istio-ingressgateway", "istio-ingress", selector={"istio": "ingressgateway"})


def render(scenario: str, target: str = "istio", **bookinfo: Any) -> list[dict[str, Any]]:
    cfg = parse_apps(
        {"enabled": True, "namespace": "bookinfo", "target": target, "bookinfo": {"scenario": scenario, **bookinfo}}
    )
    manifests = render_apps(cfg, MeshRef(ingress=INGRESS)).all()
    assert validate_manifests(manifests) == []
    return manifests


def one(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name)
    return found[0]


def routes(manifests: list[dict[str, Any]], host: str) -> list[dict[str, Any]]:
    return one(manifests, "VirtualService", host)["spec"]["http"]


def dests(http: dict[str, Any]) -> list[tuple[str, int | None]]:
    return [(r["destination"]["subset"], r.get("weight")) for r in http["route"]]


JASON = [{"headers": {"end-user": {"exact": "jason"}}}]


def test_default_has_workloads_subsets_and_ingress_but_no_mesh_routes() -> None:
    m = render("default")
    assert {d["metadata"]["name"] for d in m if d["kind"] == "Deployment"} == {
        "productpage-v1", "details-v1", "ratings-v1", "reviews-v1", "reviews-v2", "reviews-v3"
    }  # fmt: skip
    assert [s["name"] for s in one(m, "DestinationRule", "reviews")["spec"]["subsets"]] == ["v1", "v2", "v3"]
    assert one(m, "Service", "reviews")["spec"]["ports"] == [
        {"name": "http", "port": 9080, "targetPort": 9080, "protocol": "TCP", "appProtocol": "http"}
    ]
    assert one(m, "ServiceAccount", "bookinfo-reviews")
    assert not [x for x in m if x["kind"] == "VirtualService" and x["metadata"]["name"] == "reviews"]
    ingress = one(m, "VirtualService", "productpage-ingress")["spec"]
    assert ingress["gateways"] == ["istio-ingress/istio-ingressgateway"]
    uris = [u["uri"] for u in ingress["http"][0]["match"]]
    assert (
        {"exact": "/productpage"} in uris and {"prefix": "/static"} in uris and {"prefix": "/api/v1/products"} in uris
    )
    assert {"exact": "/login"} in uris and {"exact": "/logout"} in uris


def test_reviews_pod_is_hardened_with_writable_dirs() -> None:
    pod = one(render("default"), "Deployment", "reviews-v2")["spec"]["template"]["spec"]
    ctr = pod["containers"][0]
    assert ctr["securityContext"]["allowPrivilegeEscalation"] is False
    assert ctr["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert ctr["securityContext"]["runAsNonRoot"] is True
    assert {v["mountPath"] for v in ctr["volumeMounts"]} == {"/tmp", "/opt/ibm/wlp/output"}
    assert ctr["image"] == "docker.io/istio/examples-bookinfo-reviews-v2:1.20.3"
    assert pod["serviceAccountName"] == "bookinfo-reviews"


def test_all_v1() -> None:
    m = render("all-v1")
    for svc in ("productpage", "details", "reviews", "ratings"):
        assert [dests(h) for h in routes(m, svc)] == [[("v1", None)]]


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("reviews-v1-v2-80-20", [("v1", 80), ("v2", 20)]),
        ("reviews-v1-v3-50-50", [("v1", 50), ("v3", 50)]),
        ("reviews-v2-v3-50-50", [("v2", 50), ("v3", 50)]),
        ("reviews-v3", [("v3", None)]),
    ],
)
def test_weighted_reviews(scenario: str, expected: list[tuple[str, int | None]]) -> None:
    assert [dests(h) for h in routes(render(scenario), "reviews")] == [expected]


def test_jason_to_v2() -> None:
    http = routes(render("jason-v2"), "reviews")
    assert http[0]["match"] == JASON and dests(http[0]) == [("v2", None)]
    assert "match" not in http[1] and dests(http[1]) == [("v1", None)]


def test_jason_to_v2_default_v3() -> None:
    http = routes(render("jason-v2-default-v3"), "reviews")
    assert dests(http[0]) == [("v2", None)] and dests(http[1]) == [("v3", None)]


def test_ratings_delay_for_jason() -> None:
    http = routes(render("ratings-delay-jason"), "ratings")
    assert http[0]["match"] == JASON
    assert http[0]["fault"] == {"delay": {"fixedDelay": "7s", "percentage": {"value": 100.0}}}
    assert "fault" not in http[1]


def test_ratings_abort_for_jason() -> None:
    http = routes(render("ratings-abort-jason"), "ratings")
    assert http[0]["fault"] == {"abort": {"httpStatus": 500, "percentage": {"value": 100.0}}}


def test_reviews_timeout() -> None:
    m = render("reviews-timeout")
    assert routes(m, "reviews")[0]["timeout"] == "0.5s"
    assert routes(m, "ratings")[0]["fault"]["delay"]["fixedDelay"] == "2s"


@pytest.mark.parametrize("mtls", [False, True])
def test_destination_rules_with_and_without_istio_mutual(mtls: bool) -> None:
    m = render("all-v1", mtls=mtls)
    for svc in ("productpage", "details", "reviews", "ratings"):
        spec = one(m, "DestinationRule", svc)["spec"]
        assert ("trafficPolicy" in spec) is mtls
        if mtls:
            assert spec["trafficPolicy"]["tls"] == {"mode": "ISTIO_MUTUAL"}


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("all-v1", [("reviews-v1", None)]),
        ("reviews-v1-v2-80-20", [("reviews-v1", 80), ("reviews-v2", 20)]),
        ("reviews-v1-v3-50-50", [("reviews-v1", 50), ("reviews-v3", 50)]),
        ("reviews-v2-v3-50-50", [("reviews-v2", 50), ("reviews-v3", 50)]),
        ("reviews-v3", [("reviews-v3", None)]),
    ],
)
def test_gateway_api_variants(scenario: str, expected: list[tuple[str, int | None]]) -> None:
    m = render(scenario, target="gatewayApi")
    route = one(m, "HTTPRoute", "reviews")["spec"]
    assert route["parentRefs"] == [{"group": "", "kind": "Service", "name": "reviews", "port": 9080}]
    assert [(b["name"], b.get("weight")) for b in route["rules"][-1]["backendRefs"]] == expected
    assert one(m, "Service", "reviews-v2")["spec"]["selector"] == {"app": "reviews", "version": "v2"}
    assert not [x for x in m if x["kind"] in ("VirtualService", "DestinationRule")]
    # the platform's ingress is an Istio Gateway, so Bookinfo gets its own Gateway API gateway
    assert one(m, "Gateway", "bookinfo-gateway")["spec"]["gatewayClassName"] == "istio"
    ingress = one(m, "HTTPRoute", "productpage-ingress")["spec"]
    assert ingress["parentRefs"][0]["name"] == "bookinfo-gateway"
    assert {"path": {"type": "PathPrefix", "value": "/static"}} in ingress["rules"][0]["matches"]


def test_gateway_api_jason_header_match() -> None:
    rules = one(render("jason-v2", target="gatewayApi"), "HTTPRoute", "reviews")["spec"]["rules"]
    assert rules[0]["matches"] == [{"headers": [{"type": "Exact", "name": "end-user", "value": "jason"}]}]
    assert rules[0]["backendRefs"] == [{"name": "reviews-v2", "port": 9080}]


@pytest.mark.parametrize("scenario", ["ratings-delay-jason", "ratings-abort-jason", "reviews-timeout"])
def test_gateway_api_refuses_faults(scenario: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_apps({"enabled": True, "target": "gatewayApi", "bookinfo": {"scenario": scenario}})
    assert exc.value.paths == ["apps.bookinfo.scenario"]
    assert "fault injection" in str(exc.value)


def test_every_scenario_is_covered() -> None:
    for scenario in BookinfoScenario:
        assert render(scenario.value)


# --- weights override: one canary step is one config value ---------------------------------------


def test_weights_override_replaces_the_scenarios_route_for_that_service() -> None:
    from tests.harness import run_stack

    base = run_stack("dev")
    moved = run_stack("dev", apps={"bookinfo": {"weights": {"reviews": {"v1": 70, "v2": 30}}}})
    vs = moved.one(kind="VirtualService", namespace="bookinfo", k8s_name="reviews")
    assert [(d["destination"]["subset"], d["weight"]) for d in vs.inputs["spec"]["http"][0]["route"]] == [
        ("v1", 70),
        ("v2", 30),
    ]
    # Exactly one Kubernetes object differs from the committed dev stack: the reviews route.
    before = {(r.type, r.name): r.inputs for r in base.kubernetes_objects}
    after = {(r.type, r.name): r.inputs for r in moved.kubernetes_objects}
    assert before.keys() == after.keys()
    assert [key for key in before if before[key] != after[key]] == [(vs.type, vs.name)]


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        (
            {"reviews": {"v1": 70, "v2": 20}},
            "meshstack:apps.bookinfo.weights.reviews: Istio route weights must sum to 100, got 90",
        ),
        (
            {"reviews": {"v1": 50, "v4": 50}},
            "meshstack:apps.bookinfo.weights.reviews.v4: reviews has no version v4; allowed: v1, v2, v3",
        ),
        (
            {"reviewz": {"v1": 100}},
            "meshstack:apps.bookinfo.weights.reviewz: not a Bookinfo service; allowed: productpage, details, reviews, ratings",
        ),
    ],
)
def test_bad_weights_name_their_path(weights: dict[str, dict[str, int]], expected: str) -> None:
    from tests.harness import config_error

    message, registered = config_error("dev", apps={"bookinfo": {"weights": weights}})
    assert f"  {expected}" in message.splitlines()
    assert registered == []
