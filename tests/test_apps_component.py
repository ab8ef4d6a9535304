"""MeshApps under Pulumi mocks: resources, parents, apply order, and no registration on bad config."""

from __future__ import annotations

import pulumi
import pytest
from pulumi.errors import RunError

from components.apps import MeshApps, MeshAppsArgs
from meshstack.model.apps import AppsConfig
from meshstack.model.refs import GatewayRef
from tools.mockrun import Recording, run_program

INGRESS = GatewayRef("istio-ingressgateway", "istio-ingress", selector={"istio": "ingressgateway"})


def run(section: dict, **args: object) -> Recording:
    def program() -> None:
        config = AppsConfig.parse(section, path=["apps"])
        MeshApps("apps", MeshAppsArgs(config=config, ingress=INGRESS, **args))  # type: ignore[arg-type]

    return run_program("dev", config={}, program=program)


def test_bookinfo_resources_and_order() -> None:
    rec = run({"enabled": True, "bookinfo": {"scenario": "jason-v2"}, "services": {
        "web": {"versions": {"v1": {"image": "example/web:1"}}, "rateLimit": {"maxTokens": 5},
                "authorization": [{"rules": [{"namespaces": ["apps"]}]}]}}})  # fmt: skip
    ns = rec.one(type="Namespace")
    assert ns.inputs["metadata"]["labels"]["istio-injection"] == "enabled"
    dep = rec.one(type="Deployment", k8s_name="reviews-v2")
    dr = rec.one(kind="DestinationRule", k8s_name="reviews")
    vs = rec.one(kind="VirtualService", k8s_name="reviews")
    assert rec.depends_on(dep, ns)
    assert rec.depends_on(dr, dep)
    assert rec.depends_on(vs, dr)
    authz = rec.one(kind="AuthorizationPolicy", k8s_name="web-0")
    assert rec.depends_on(authz, rec.one(kind="DestinationRule", k8s_name="web"))
    assert rec.one(kind="EnvoyFilter", k8s_name="web-local-ratelimit")
    app = rec.parent_of(vs)
    assert app is not None and app.type == "meshstack:apps:MeshApp"
    top = rec.parent_of(app)
    assert top is not None and top.type == "meshstack:apps:MeshApps"


def test_disabled_registers_only_the_component() -> None:
    rec = run({"enabled": False})
    assert not rec.kubernetes_objects


def test_both_injection_labels_fail_before_registration() -> None:
    with pytest.raises(RunError) as exc:
        run({"enabled": True, "bookinfo": {}}, injection_labels={"istio-injection": "enabled", "istio.io/rev": "x"})
    assert "apps.namespace" in str(exc.value)
    assert not getattr(exc.value, "recording").resources  # noqa: B009


def test_exposure_without_ingress_fails_before_registration() -> None:
    def program() -> None:
        config = AppsConfig.parse({"enabled": True, "bookinfo": {}})
        MeshApps("apps", MeshAppsArgs(config=config, ingress=None), opts=pulumi.ResourceOptions())

    with pytest.raises(RunError) as exc:
        run_program("dev", config={}, program=program)
    assert "meshstack:apps.bookinfo.expose" in str(exc.value)
