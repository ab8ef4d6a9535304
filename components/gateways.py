"""MeshGateways: ingress/egress gateway deployments (Istio's ``gateway`` chart) and the Gateway
objects routes attach to (Istio Gateway, or Gateway API Gateway with its pinned CRDs).

Every gateway waits for the control plane: the chart's ``image: auto`` is filled by istiod's
injector, and the Gateway objects are validated by istiod's webhook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.components.k8s import helm_chart, kubernetes_object
from meshstack.model import arguments
from meshstack.model.gateway import GatewayApi, GatewaysConfig
from meshstack.model.mesh import MeshConfig
from meshstack.render import gateways as render
from meshstack.render.helm import chart_source
from meshstack.render.namespaces import gateway_namespace
from meshstack.versions import GATEWAY_API_VERSION


@dataclass(frozen=True)
class MeshGatewaysArgs:
    gateways: GatewaysConfig
    mesh: MeshConfig
    #: What the gateways wait for (the control plane's ``ready``).
    control_plane: Sequence[pulumi.Resource]

    def __post_init__(self) -> None:
        arguments.prepare(self)


class MeshGateways(pulumi.ComponentResource):
    def __init__(self, name: str, args: MeshGatewaysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        arguments.refuse(
            [
                *arguments.check_call(MeshGateways.__init__, name=name, opts=opts),
                *arguments.problems_of(args, MeshGatewaysArgs),
            ]
        )
        super().__init__("meshstack:gateways:MeshGateways", name, None, opts)
        gws, mesh = args.gateways, args.mesh
        enabled = gws.enabled()
        self.namespaces = {
            ns: kubernetes_object(f"{name}-ns-{ns}", gateway_namespace(ns), pulumi.ResourceOptions(parent=self))
            for ns in sorted({gw.namespace for gw in enabled.values()})
        }
        self.crds: k8s.yaml.v2.ConfigGroup | None = None
        if gws.api is GatewayApi.GATEWAY_API and "ingress" in enabled:
            # Pinned Gateway API CRDs (not part of Istio's base chart); kept on destroy like Istio's.
            self.crds = k8s.yaml.v2.ConfigGroup(
                f"{name}-gateway-api-crds-{GATEWAY_API_VERSION}",
                files=render.gateway_api_crd_files(gws.gateway_api_crds),
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=mesh.retain_on_delete, protect=mesh.protect),
            )
        self.charts: dict[str, k8s.helm.v4.Chart] = {}
        for gw_name, gw in gws.chart_deployed().items():
            self.charts[gw_name] = helm_chart(
                f"{name}-{gw_name}",
                chart_source(mesh.chart_repository, "gateway", mesh.version),
                gw.namespace,
                render.gateway_chart_values(gw, mesh),
                pulumi.ResourceOptions(parent=self, depends_on=[self.namespaces[gw.namespace], *args.control_plane]),
                release_name=gw.release_name,
            )
        self.gateways: dict[str, pulumi.CustomResource] = {}
        for gw_name, gw in enabled.items():
            if not gw.servers:
                continue
            if gw_name == "ingress" and self.crds is not None:
                manifest = render.gateway_api_gateway(gw, mesh)
                deps: list[pulumi.Resource] = [self.crds, self.namespaces[gw.namespace], *args.control_plane]
            else:
                manifest = render.istio_gateway(gw)
                deps = [self.charts[gw_name], *args.control_plane]
            self.gateways[gw_name] = kubernetes_object(
                f"{name}-{gw_name}-gateway", manifest, pulumi.ResourceOptions(parent=self, depends_on=deps)
            )
        # Under a default deny the gateways must be opened (the ingress to anyone, an egress gateway to
        # the mesh); with NetworkPolicies each gateway namespace admits only what it serves.
        self.policies: list[pulumi.CustomResource] = []
        for manifest in render.gateway_policies(gws, mesh):
            deps = [self.namespaces[manifest["metadata"]["namespace"]], *args.control_plane]
            self.policies.append(
                kubernetes_object(
                    f"{name}-{manifest['kind'].lower()}-{manifest['metadata']['namespace']}-{manifest['metadata']['name']}",
                    manifest,
                    pulumi.ResourceOptions(parent=self, depends_on=deps),
                )
            )
        #: The ingress address: the LoadBalancer's IP or hostname once assigned, else the in-cluster name.
        self.ingress_address: pulumi.Output[str] | None = None
        if "ingress" in enabled:
            fallback = (
                f"{render.gateway_service_name('ingress', gws.ingress, gws)}.{gws.ingress.namespace}.svc.cluster.local"
            )
            chart = self.charts.get("ingress")
            self.ingress_address = (
                load_balancer_address(chart, fallback) if chart is not None else pulumi.Output.from_input(fallback)
            )
        self.register_outputs({"gateways": sorted(self.gateways), "ingressAddress": self.ingress_address})


def _ingress_of(status: Any) -> str | None:
    """The first ``status.loadBalancer.ingress`` IP or hostname of a Service, if any."""
    lb = getattr(status, "load_balancer", None)
    for entry in getattr(lb, "ingress", None) or []:
        if address := getattr(entry, "ip", None) or getattr(entry, "hostname", None):
            return str(address)
    return None


def load_balancer_address(chart: k8s.helm.v4.Chart, fallback: str) -> pulumi.Output[str]:
    """The address of the chart's Service, read from the chart's own children (no extra read, so a
    first preview works); ``fallback`` until a load balancer is assigned or for non-LB Services."""

    def pick(resources: Sequence[Any] | None) -> pulumi.Input[str]:
        services = [r for r in resources or [] if isinstance(r, k8s.core.v1.Service)]
        if not services:
            return fallback
        return services[0].status.apply(lambda status: _ingress_of(status) or fallback)

    return chart.resources.apply(pick)
