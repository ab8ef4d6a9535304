"""MeshControlPlane: namespace → base (CRDs) → istiod → mesh-wide PeerAuthentication/Telemetry."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import custom_resource, helm_chart
from meshstack.model.mesh import MeshConfig
from meshstack.render import control_plane as render
from meshstack.render.helm import chart_source


@dataclass(frozen=True)
class MeshControlPlaneArgs:
    """Inputs of :class:`MeshControlPlane`."""

    mesh: MeshConfig


def retain_crds(mesh: MeshConfig) -> pulumi.ResourceTransform:
    """A transform for the base chart: CRDs get ``retain_on_delete``/``protect`` from the mesh config.

    Deleting a CRD deletes every object of its kind, so prod keeps them on destroy. The transform
    only touches CustomResourceDefinitions: the default validating webhook is always deleted.
    """

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ != "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition":
            return None
        opts = pulumi.ResourceOptions.merge(
            args.opts, pulumi.ResourceOptions(retain_on_delete=mesh.retain_on_delete, protect=mesh.protect)
        )
        return pulumi.ResourceTransformResult(props=args.props, opts=opts)

    return transform


class MeshControlPlane(pulumi.ComponentResource):
    """The Istio control plane from the official charts, ordered and health-gated."""

    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: MeshControlPlaneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshstack:control_plane:MeshControlPlane", name, None, opts)
        mesh = args.mesh
        child = pulumi.ResourceOptions(parent=self)

        ns_manifest = render.control_plane_namespace(mesh)
        self.ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=ns_manifest["metadata"],
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(retain_on_delete=mesh.retain_on_delete, protect=mesh.protect)
            ),
        )
        self.base = helm_chart(
            f"{name}-base",
            chart_source(mesh.chart_repository, "base", mesh.chart_version),
            mesh.namespace,
            render.base_values(mesh),
            pulumi.ResourceOptions(parent=self, depends_on=[self.ns], transforms=[retain_crds(mesh)]),
            release_name="istio-base",
        )
        self.istiod = helm_chart(
            f"{name}-istiod",
            chart_source(mesh.chart_repository, "istiod", mesh.chart_version),
            mesh.namespace,
            render.istiod_values(mesh),
            pulumi.ResourceOptions(parent=self, depends_on=[self.base]),
            release_name="istiod" if not mesh.revision else f"istiod-{mesh.revision}",
        )
        after_istiod = pulumi.ResourceOptions(parent=self, depends_on=[self.base, self.istiod])
        self.peer_authentication = custom_resource(f"{name}-mtls", render.mesh_peer_authentication(mesh), after_istiod)
        self.telemetry = custom_resource(f"{name}-telemetry", render.mesh_telemetry(mesh), after_istiod)
        self.namespace = self.ns.metadata.name
        self.register_outputs({"namespace": self.namespace})
