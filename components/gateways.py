"""MeshGateways: ingress/egress gateway deployments (Istio's ``gateway`` chart) and the Gateway
objects routes attach to (Istio Gateway, or Gateway API Gateway with its pinned CRDs).

Every gateway waits for the control plane: the chart's ``image: auto`` is filled by istiod's
injector, and the Gateway objects are validated by istiod's webhook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import helm_chart
from components.native import kubernetes_object
from meshstack.model.gateway import GatewayApi, GatewaysConfig
from meshstack.model.mesh import MeshConfig
from meshstack.render import gateways as render
from meshstack.render.gateway_api_crds import crd_files
from meshstack.render.helm import chart_source
from meshstack.render.namespaces import gateway_namespace
from meshstack.versions import GATEWAY_API_VERSION


@dataclass(frozen=True)
class MeshGatewaysArgs:
    gateways: GatewaysConfig
    mesh: MeshConfig
    #: What the gateways wait for (the control plane's ``ready``).
    control_plane: Sequence[pulumi.Resource]


class MeshGateways(pulumi.ComponentResource):
    def __init__(self, name: str, args: MeshGatewaysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
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
                files=crd_files(GATEWAY_API_VERSION),
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
        self.register_outputs({"gateways": sorted(self.gateways)})
