"""The meshstack program: stack config → typed model → components. ``__main__.py`` calls :func:`main`.

:func:`deploy` is the program for a validated :class:`StackSpec`, however it was built: from the
stack's config (:func:`read_spec`) or in Python (``StackSpec.for_environment("prod", ...)``).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import config as runtime_config

from meshstack.components.apps import MeshApps, MeshAppsArgs
from meshstack.components.platform import MeshPlatform, MeshPlatformArgs
from meshstack.errors import ConfigError
from meshstack.model.stack import StackSpec
from meshstack.stacks.config import PREFIX, collect, load_stack_spec


def read_spec() -> StackSpec:
    """The validated stack spec; bad config stops the program before any resource is registered."""
    flat = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    try:
        return load_stack_spec(collect(flat))
    except ConfigError as err:
        raise pulumi.RunError(str(ConfigError(err.problems, PREFIX))) from None


def deploy(spec: StackSpec) -> MeshPlatform:
    """Register the whole stack: a provider for the cluster, the platform, the apps, the outputs."""
    provider = k8s.Provider(
        "k8s",
        kubeconfig=spec.kubernetes.kubeconfig,
        context=spec.kubernetes.context,
        delete_unreachable=spec.kubernetes.delete_unreachable,
        enable_server_side_apply=True,
    )
    k8s_opts = pulumi.ResourceOptions(providers=[provider])
    # The platform: control plane, workload namespaces, gateways, addons (docs/platform.md).
    platform = MeshPlatform("platform", MeshPlatformArgs.from_spec(spec), opts=k8s_opts)
    # The apps (docs/apps.md): they wait for what the mesh reference names (istiod, namespaces, gateways).
    if spec.apps.enabled:
        MeshApps("apps", MeshAppsArgs.from_config(spec.apps, platform.mesh), opts=k8s_opts)

    pulumi.export("environment", spec.environment.value)
    pulumi.export("istioVersion", spec.mesh.version)
    for key, value in platform.outputs.items():
        pulumi.export(key, value)
    return platform


def main() -> None:
    deploy(read_spec())
