"""Pulumi ComponentResources of meshstack: compose them into your own programs.

    from meshstack.components import MeshPlatform, MeshPlatformArgs, MeshApp, MeshAppArgs

Each takes flat, typed arguments (model objects from :mod:`meshstack.model`, Pulumi Inputs where a
value may come from another resource), registers its children with ``parent=self`` and explicit
ordering, passes providers through, and exposes typed outputs as attributes.
"""

from meshstack.components.addons import MeshAddons, MeshAddonsArgs
from meshstack.components.app import MeshApp, MeshAppArgs
from meshstack.components.apps import MeshApps, MeshAppsArgs
from meshstack.components.control_plane import MeshControlPlane, MeshControlPlaneArgs
from meshstack.components.gateways import MeshGateways, MeshGatewaysArgs
from meshstack.components.mesh_reference import MeshReference
from meshstack.components.namespaces import WorkloadNamespaces, WorkloadNamespacesArgs
from meshstack.components.platform import MeshPlatform, MeshPlatformArgs

__all__ = [
    "MeshAddons", "MeshAddonsArgs", "MeshApp", "MeshAppArgs", "MeshApps", "MeshAppsArgs", "MeshControlPlane",
    "MeshControlPlaneArgs", "MeshGateways", "MeshGatewaysArgs", "MeshPlatform", "MeshPlatformArgs",
    "MeshReference", "WorkloadNamespaces", "WorkloadNamespacesArgs",
]  # fmt: skip
