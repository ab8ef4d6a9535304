"""The meshstack program: stack config → typed model → components. ``__main__.py`` calls :func:`main`."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import config as runtime_config

from components.control_plane import MeshControlPlane, MeshControlPlaneArgs
from meshstack.errors import ConfigError
from meshstack.model.stack import StackSpec
from stacks.config import collect, load_stack_spec


def read_spec() -> StackSpec:
    """The validated stack spec; bad config stops the program before any resource is registered."""
    flat = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    try:
        return load_stack_spec(collect(flat))
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None


def main() -> None:
    spec = read_spec()
    provider = k8s.Provider(
        "k8s",
        kubeconfig=spec.kubernetes.kubeconfig,
        context=spec.kubernetes.context,
        delete_unreachable=spec.kubernetes.delete_unreachable,
        enable_server_side_apply=True,
    )
    control_plane = MeshControlPlane(
        "mesh",
        MeshControlPlaneArgs(mesh=spec.mesh),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
    pulumi.export("environment", spec.environment.value)
    pulumi.export("istioVersion", spec.mesh.version)
    pulumi.export("controlPlaneNamespace", control_plane.namespace)
