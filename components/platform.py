"""MeshPlatform: the whole mesh platform of a stack — control plane, namespaces, gateways, addons.

The program builds one of these and hands :attr:`mesh_ref` to the apps, which should also wait
for the platform (``depends_on=[platform]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.addons import MeshAddons, MeshAddonsArgs
from components.control_plane import MeshControlPlane, MeshControlPlaneArgs
from components.gateways import MeshGateways, MeshGatewaysArgs
from components.namespaces import WorkloadNamespaces, WorkloadNamespacesArgs
from meshstack.model.refs import MeshRef
from meshstack.model.stack import StackSpec
from meshstack.render import platform as render


@dataclass(frozen=True)
class MeshPlatformArgs:
    spec: StackSpec


class MeshPlatform(pulumi.ComponentResource):
    mesh_ref: MeshRef

    def __init__(self, name: str, args: MeshPlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshstack:platform:MeshPlatform", name, None, opts)
        spec = args.spec
        child = pulumi.ResourceOptions(parent=self)
        self.control_plane = MeshControlPlane(
            "mesh",
            MeshControlPlaneArgs(
                mesh=spec.mesh,
                extension_providers=render.extension_providers(spec),
                tracing_provider=render.tracing_provider(spec),
            ),
            child,
        )
        self.namespaces = WorkloadNamespaces(
            "namespaces", WorkloadNamespacesArgs(namespaces=dict(spec.namespaces), mesh=spec.mesh), child
        )
        self.gateways = MeshGateways(
            "gateways",
            MeshGatewaysArgs(gateways=spec.gateways, mesh=spec.mesh, control_plane=self.control_plane.ready),
            child,
        )
        self.addons = MeshAddons(
            "addons",
            MeshAddonsArgs(
                addons=spec.addons,
                namespace=spec.mesh.namespace,
                after=[self.control_plane.ns],
                secret_generator=spec.secrets.generator,
            ),
            child,
        )
        self.mesh_ref = render.mesh_ref(spec)
        self.outputs: dict[str, Any] = {
            "controlPlaneNamespace": self.control_plane.namespace,
            **render.platform_outputs(spec),
        }
        if self.gateways.ingress_address is not None:
            self.outputs["ingressAddress"] = self.gateways.ingress_address
        self.register_outputs(self.outputs)
