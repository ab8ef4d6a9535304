"""The program's resource graph under mocks: parents, providers, ordering edges, protection."""

from __future__ import annotations

import pytest

from tests.harness import Recording


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_kubernetes_resource_uses_the_stack_provider(stack: str, request: pytest.FixtureRequest) -> None:
    rec: Recording = request.getfixturevalue(stack)
    [provider] = rec.find(type="pulumi:providers:kubernetes")
    for res in rec.resources:
        if res.custom and res.type.startswith("kubernetes:"):
            assert res.provider and res.provider.startswith(provider.urn), res.urn


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_control_plane_order_namespace_crds_istiod_then_custom_resources(
    stack: str, request: pytest.FixtureRequest
) -> None:
    rec: Recording = request.getfixturevalue(stack)
    ns = rec.one(kind="Namespace", k8s_name="istio-system")
    base = rec.one(type="kubernetes:helm.sh/v4:Chart", name="mesh-base")
    istiod = rec.one(type="kubernetes:helm.sh/v4:Chart", name="mesh-istiod")
    assert rec.depends_on(base, ns)
    assert rec.depends_on(istiod, base)
    for kind in ("PeerAuthentication", "Telemetry"):
        cr = rec.one(kind=kind, namespace="istio-system", k8s_name="default" if kind == "PeerAuthentication" else None)
        assert rec.depends_on(cr, base), f"{kind} must wait for its CRD"
        assert rec.depends_on(cr, istiod), f"{kind} must wait for istiod (validation webhook)"


def test_components_parent_their_children(dev: Recording) -> None:
    [component] = dev.find(type="meshstack:control_plane:MeshControlPlane")
    children = {r.name for r in dev.children_of(component)}
    assert {"mesh-namespace", "mesh-base", "mesh-istiod"} <= children


def test_control_plane_namespace_is_protected_and_retained_only_in_prod(dev: Recording, prod: Recording) -> None:
    dev_ns = dev.one(kind="Namespace", k8s_name="istio-system")
    prod_ns = prod.one(kind="Namespace", k8s_name="istio-system")
    assert (dev_ns.protect, dev_ns.retain_on_delete) == (False, False)
    assert (prod_ns.protect, prod_ns.retain_on_delete) == (True, True)
