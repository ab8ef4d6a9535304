"""Pulumi ComponentResources of meshstack: compose them into your own programs.

    from meshstack.components import MeshPlatform, MeshPlatformArgs, MeshApp, MeshAppArgs

Each takes flat, typed arguments (model objects from :mod:`meshstack.model`, Pulumi Inputs where a
value may come from another resource), registers its children with ``parent=self`` and explicit
ordering, passes providers through, and exposes typed outputs as attributes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meshstack.components.addons import MeshAddons, MeshAddonsArgs
    from meshstack.components.app import MeshApp, MeshAppArgs
    from meshstack.components.apps import MeshApps, MeshAppsArgs
    from meshstack.components.control_plane import MeshControlPlane, MeshControlPlaneArgs
    from meshstack.components.gateways import MeshGateways, MeshGatewaysArgs
    from meshstack.components.mesh_reference import MeshReference
    from meshstack.components.namespaces import WorkloadNamespaces, WorkloadNamespacesArgs
    from meshstack.components.platform import MeshPlatform, MeshPlatformArgs

#: Where each name lives. Modules are imported on first use, so a program that needs one module
#: (``meshstack.components.k8s`` for a rollout step's single route) does not import the others.
_MODULES = {
    "MeshAddons": "addons", "MeshAddonsArgs": "addons", "MeshApp": "app", "MeshAppArgs": "app",
    "MeshApps": "apps", "MeshAppsArgs": "apps", "MeshControlPlane": "control_plane",
    "MeshControlPlaneArgs": "control_plane", "MeshGateways": "gateways", "MeshGatewaysArgs": "gateways",
    "MeshReference": "mesh_reference", "WorkloadNamespaces": "namespaces", "WorkloadNamespacesArgs": "namespaces",
    "MeshPlatform": "platform", "MeshPlatformArgs": "platform",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "MeshAddons", "MeshAddonsArgs", "MeshApp", "MeshAppArgs", "MeshApps", "MeshAppsArgs", "MeshControlPlane",
    "MeshControlPlaneArgs", "MeshGateways", "MeshGatewaysArgs", "MeshPlatform", "MeshPlatformArgs",
    "MeshReference", "WorkloadNamespaces", "WorkloadNamespacesArgs",
]  # fmt: skip
