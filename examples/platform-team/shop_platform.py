"""The shop team's platform, composed from meshstack's components in the team's own program.

The team brings its own Kubernetes provider (here from a kubeconfig; in their real stack, an EKS
cluster's Output), installs a prod-like mesh built in code, and adds its own checkout service with
a typed canary route, an AuthorizationPolicy and a circuit breaker.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from meshstack.components import MeshApp, MeshAppArgs, MeshPlatform, MeshPlatformArgs
from meshstack.model import (
    AddonsConfig,
    AppSpec,
    AuthorizationPolicy,
    AuthorizationRule,
    CircuitBreaker,
    Environment,
    GatewayDeployment,
    GatewaysConfig,
    HttpRoute,
    MeshConfig,
    Retries,
    SecretGenerator,
    SecretsConfig,
    ServicePort,
    ServiceType,
    Version,
    WorkloadNamespace,
)

SHOP = "shop"


def checkout(canary_weight: int) -> AppSpec:
    """Checkout v1 (stable) and v2 (canary), reachable only from the shop's own namespace."""
    return AppSpec(
        ports=[ServicePort(port=8080)],
        versions={
            "v1": Version(image="registry.example.com/shop/checkout:1.4.2"),
            "v2": Version(image="registry.example.com/shop/checkout:1.5.0"),
        },
        routes=[
            HttpRoute.weighted_split(
                {"v1": 100 - canary_weight, "v2": canary_weight},
                timeout="3s",
                retries=Retries(attempts=2, per_try_timeout="1s"),
            )
        ],
        authorization=[AuthorizationPolicy.allow(AuthorizationRule(namespaces=[SHOP], methods=["GET", "POST"]))],
        circuit_breaker=CircuitBreaker(max_connections=100, consecutive_5xx_errors=5, base_ejection_time="30s"),
    )


def main() -> None:
    config = pulumi.Config()
    provider = k8s.Provider("team-cluster", kubeconfig=config.get("kubeconfig"), enable_server_side_apply=True)
    mesh = MeshConfig(chart_repository=config.get("istioCharts")) if config.get("istioCharts") else MeshConfig()
    platform = MeshPlatform(
        "mesh",
        MeshPlatformArgs(
            environment=Environment.PROD,  # STRICT mTLS, HA istiod, dashboards behind login, CRDs kept
            mesh=mesh,
            gateways=GatewaysConfig(
                ingress=GatewayDeployment(service_type=ServiceType(config.get("ingressServiceType") or "LoadBalancer"))
            ),
            namespaces={SHOP: WorkloadNamespace()},
            addons=AddonsConfig(),
            secrets=SecretsConfig(generator=SecretGenerator(config.get("secretsGenerator") or "random")),
        ),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
    app = MeshApp(
        "checkout",
        MeshAppArgs(app=checkout(config.get_int("checkoutCanaryWeight") or 10), mesh=platform.mesh, namespace=SHOP),
    )
    pulumi.export("checkoutUrl", app.url)
    pulumi.export("controlPlaneNamespace", platform.control_plane_namespace)
    pulumi.export("addonUrls", platform.addon_urls)
