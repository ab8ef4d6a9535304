"""MeshApp and MeshApps as a library user composes them, under Pulumi mocks: resources, parents,
apply order, the mesh reference's dependency and provider, Inputs, and Python-path errors raised
before anything is registered."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_kubernetes as k8s
import pytest

from meshstack.components import MeshApp, MeshAppArgs, MeshApps, MeshAppsArgs, MeshReference
from meshstack.errors import ConfigError
from meshstack.model import (
    AppSpec,
    AuthorizationPolicy,
    AuthorizationRule,
    CircuitBreaker,
    Exposure,
    GatewayRef,
    HttpRoute,
    LoadBalancer,
    MeshRef,
    RenderTarget,
    ServicePort,
    Version,
)
from meshstack.stacks.config import parse_apps
from meshstack.testing import Recording, run

INGRESS = GatewayRef("ingress", "istio-ingress", selector={"istio": "ingressgateway"})


def web(**fields: object) -> AppSpec:
    versions = {"v1": Version(image="example/web:1"), "v2": Version(image="example/web:2")}
    return AppSpec(ports=[ServicePort(port=8080)], versions=versions, **fields)  # type: ignore[arg-type]


def mocked(body: Callable[[pulumi.Resource], object]) -> Recording:
    """Run ``body(ready)`` where ``ready`` stands for the platform the mesh reference waits for."""

    def program() -> None:
        ready = k8s.core.v1.Namespace("platform-ready", metadata={"name": "istio-system"})
        body(ready)

    return run(program)


def test_mesh_apps_resources_order_and_parents() -> None:
    def body(ready: pulumi.Resource) -> None:
        section = parse_apps(
            {
                "enabled": True,
                "bookinfo": {"scenario": "jason-v2"},
                "services": {
                    "web": {
                        "versions": {"v1": {"image": "example/web:1"}},
                        "rateLimit": {"maxTokens": 5},
                        "authorization": [{"rules": [{"namespaces": ["apps"]}]}],
                    }
                },
            }
        )
        MeshApps("apps", MeshAppsArgs.from_config(section, MeshReference(MeshRef(ingress=INGRESS), ready=[ready])))

    rec = mocked(body)
    ns = rec.one(type="Namespace", k8s_name="apps")
    assert ns.inputs["metadata"]["labels"]["istio-injection"] == "enabled"
    ready = rec.one(type="Namespace", k8s_name="istio-system")
    dep = rec.one(type="Deployment", k8s_name="reviews-v2")
    dr = rec.one(kind="DestinationRule", k8s_name="reviews")
    vs = rec.one(kind="VirtualService", k8s_name="reviews")
    # The mesh reference carries the wait: the namespace waits for the mesh, the apps for the namespace.
    assert rec.depends_on(ns, ready) and rec.waits_for(dep, ready) and rec.waits_for(vs, ready)
    assert not rec.depends_on(dep, ready)  # no edge of its own: one per object was most of the graph
    assert rec.depends_on(dep, ns) and rec.depends_on(dr, ns)
    # The route waits for what it sends traffic to; everything else is applied in parallel.
    assert rec.depends_on(vs, dr) and rec.depends_on(vs, dep)
    assert not rec.waits_for(dr, dep) and not rec.waits_for(dep, dr)
    authz = rec.one(kind="AuthorizationPolicy", k8s_name="web-0")
    assert rec.depends_on(authz, ns) and not rec.depends_on(authz, rec.one(kind="VirtualService", k8s_name="reviews"))
    assert rec.one(kind="EnvoyFilter", k8s_name="web-local-ratelimit")
    app = rec.parent_of(vs)
    assert app is not None and app.type == "meshstack:apps:MeshApp"
    top = rec.parent_of(app)
    assert top is not None and top.type == "meshstack:apps:MeshApps"


def test_section_apps_know_their_service_route_and_url() -> None:
    made: dict[str, MeshApps] = {}

    def body(ready: pulumi.Resource) -> None:
        made["apps"] = MeshApps(
            "apps",
            MeshAppsArgs(
                mesh=MeshReference(ready=[ready]),
                apps={"web": web(routes=[HttpRoute.weighted_split({"v1": 90, "v2": 10})])},
                namespace="shop",
            ),
        )

    rec = mocked(body)
    child = made["apps"].apps["web"]
    assert (child.service_name, child.url) == ("web", "http://web.shop.svc.cluster.local:8080")
    assert child.route is not None
    assert rec.one(kind="VirtualService", k8s_name="web").name == "shop/web"


def test_a_standalone_mesh_app_with_typed_canary_authz_and_circuit_breaker() -> None:
    created: dict[str, MeshApp] = {}

    def body(ready: pulumi.Resource) -> None:
        created["web"] = MeshApp(
            "web",
            MeshAppArgs(
                app=web(
                    routes=[HttpRoute.weighted_split({"v1": 90, "v2": 10})],
                    authorization=[AuthorizationPolicy.allow(AuthorizationRule(namespaces=["shop"]))],
                    circuit_breaker=CircuitBreaker(consecutive_5xx_errors=5),
                    load_balancer=LoadBalancer.least_request(),
                ),
                mesh=MeshReference(MeshRef(ingress=INGRESS), ready=[ready]),
                namespace="shop",
            ),
        )

    rec = mocked(body)
    vs = rec.one(kind="VirtualService", k8s_name="web")
    weights = [(r["destination"]["subset"], r["weight"]) for r in vs.inputs["spec"]["http"][0]["route"]]
    assert weights == [("v1", 90), ("v2", 10)]
    dr = rec.one(kind="DestinationRule", k8s_name="web")
    assert dr.inputs["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] == 5
    assert rec.one(kind="AuthorizationPolicy", namespace="shop")
    ready = rec.one(type="Namespace", k8s_name="istio-system")
    assert rec.depends_on(rec.one(type="Deployment", k8s_name="web-v1"), ready)
    assert rec.depends_on(vs, dr)
    app = created["web"]
    assert (app.service_name, app.versions, app.url) == ("web", ["v1", "v2"], "http://web.shop.svc.cluster.local:8080")
    assert set(app.deployments) == {"v1", "v2"} and app.route is not None


def test_target_rules_apply_to_a_single_app_with_python_paths() -> None:
    def body(ready: pulumi.Resource) -> None:
        MeshApp(
            "web",
            MeshAppArgs(
                app=web(routes=[HttpRoute.weighted_split({"v1": 90, "v2": 20})]),
                mesh=MeshReference(ready=[ready]),
                namespace="shop",
            ),
        )

    with pytest.raises(ConfigError) as exc:
        mocked(body)
    assert exc.value.paths == ["app.routes[0].to"]
    assert "Istio route weights must sum to 100, got 110" in str(exc.value)
    assert [r.type for r in getattr(exc.value, "recording").resources] == ["kubernetes:core/v1:Namespace"]  # noqa: B009


def test_section_errors_name_python_paths() -> None:
    with pytest.raises(ConfigError) as exc:
        MeshAppsArgs(
            mesh=MeshReference(),
            apps={"web": web(routes=[HttpRoute.weighted_split({"v1": 90, "v2": 20})])},
            namespace="shop",
        ).config()
    assert exc.value.paths == ['apps["web"].routes[0].to']
    assert "meshstack:" not in str(exc.value)


def test_model_errors_name_python_paths_and_factories_are_typed() -> None:
    with pytest.raises(ConfigError) as exc:
        AppSpec(versions={"v1": Version(image="x/y:1")}, routes=[HttpRoute.to_version("v9")])
    assert exc.value.paths == ["routes[0].to[0].version"]
    with pytest.raises(ConfigError) as exc:
        HttpRoute.to_version("v1", timeout="soon")
    assert exc.value.paths == ["timeout"]
    assert "a duration such as 100ms" in str(exc.value)


def test_exposure_without_ingress_fails_before_registration() -> None:
    def body(ready: pulumi.Resource) -> None:
        MeshApp(
            "web",
            MeshAppArgs(app=web(expose=Exposure.of(prefix=["/"])), mesh=MeshReference(ready=[ready]), namespace="shop"),
        )

    with pytest.raises(ConfigError) as exc:
        mocked(body)
    assert exc.value.paths == ["app.expose"]


def test_images_and_hosts_may_come_from_other_resources() -> None:
    def body(ready: pulumi.Resource) -> None:
        built = k8s.core.v1.ConfigMap("image-build", metadata={"name": "build"}, data={"tag": "sha256:abc"})
        image = built.data.apply(lambda d: f"registry.example.com/web@{(d or {})['tag']}")
        spec = AppSpec(
            versions={"v1": Version()},  # no image in the spec: it comes from the build
            expose=Exposure.of(prefix=["/"], hosts=["placeholder.example.com"]),
        )
        MeshApp(
            "web",
            MeshAppArgs(
                app=spec,
                mesh=MeshReference(MeshRef(ingress=INGRESS), ready=[ready]),
                namespace="shop",
                images={"v1": image},
                hosts=pulumi.Output.from_input(["shop.example.com"]),
            ),
        )

    rec = mocked(body)
    container = rec.one(type="Deployment", k8s_name="web-v1").inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/web@sha256:abc"
    assert rec.one(kind="VirtualService", k8s_name="web-ingress").inputs["spec"]["hosts"] == ["shop.example.com"]


def test_a_version_without_image_needs_one_from_somewhere() -> None:
    def body(ready: pulumi.Resource) -> None:
        MeshApp("web", MeshAppArgs(app=AppSpec(versions={"v1": Version()}), mesh=MeshReference(), namespace="shop"))

    with pytest.raises(ConfigError) as exc:
        mocked(body)
    assert exc.value.paths == ['app.versions["v1"].image']


def test_the_mesh_reference_hands_its_provider_to_the_apps() -> None:
    def body(ready: pulumi.Resource) -> None:
        provider = k8s.Provider("team-cluster", kubeconfig="{}")
        mesh = MeshReference(MeshRef(ingress=INGRESS), ready=[ready], provider=provider)
        MeshApp("web", MeshAppArgs(app=web(), mesh=mesh, namespace="shop", target=RenderTarget.GATEWAY_API))

    rec = mocked(body)
    provider = rec.one(type="pulumi:providers:kubernetes", name="team-cluster")
    route = rec.one(type="Deployment", k8s_name="web-v1")
    assert route.provider is not None and route.provider.startswith(provider.urn)
    assert rec.one(kind="Service", k8s_name="web-v2")  # Gateway API: per-version Services


def test_disabled_section_registers_nothing() -> None:
    assert not parse_apps({"enabled": False}).apps
