"""The team's own unit test: its program under Pulumi mocks, with meshstack.testing."""

from __future__ import annotations

import shop_platform

from meshstack.testing import run


def test_the_shop_gets_a_prod_mesh_and_its_canary() -> None:
    rec = run(shop_platform.main, project="shop-platform", config={"checkoutCanaryWeight": 20})
    vs = rec.one(kind="VirtualService", k8s_name="checkout")
    route = vs.inputs["spec"]["http"][0]["route"]
    assert [(r["destination"]["subset"], r["weight"]) for r in route] == [("v1", 80), ("v2", 20)]
    assert rec.one(kind="AuthorizationPolicy", namespace="shop").inputs["spec"]["rules"]
    dr = rec.one(kind="DestinationRule", k8s_name="checkout").inputs["spec"]["trafficPolicy"]
    assert dr["outlierDetection"]["consecutive5xxErrors"] == 5
    assert rec.one(kind="PeerAuthentication", namespace="istio-system").inputs["spec"]["mtls"]["mode"] == "STRICT"
    istiod = rec.one(type="kubernetes:helm.sh/v4:Chart", name="mesh-istiod").inputs["values"]
    assert istiod["pilot"]["replicaCount"] == 3  # the prod environment's default, built in code
    ns = rec.one(type="Namespace", k8s_name="shop")
    assert ns.inputs["metadata"]["labels"]["istio-injection"] == "enabled"
    team_provider = rec.one(type="pulumi:providers:kubernetes", name="team-cluster")
    deployment = rec.one(type="Deployment", k8s_name="checkout-v2")
    assert deployment.provider is not None and deployment.provider.startswith(team_provider.urn)
    assert rec.depends_on(deployment, ns)  # the mesh reference carries the wait for the platform
    assert rec.outputs["checkoutUrl"] == "http://checkout.shop.svc.cluster.local:8080"
