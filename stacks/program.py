"""The meshstack program: stack config → typed model → components. ``__main__.py`` calls :func:`main`."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import config as runtime_config

from components.platform import MeshPlatform, MeshPlatformArgs
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
    k8s_opts = pulumi.ResourceOptions(providers=[provider])
    # The platform: control plane, workload namespaces, gateways, addons (docs/platform.md).
    platform = MeshPlatform("platform", MeshPlatformArgs(spec=spec), opts=k8s_opts)
    # The apps attach here: platform.mesh_ref (injection labels, ingress/egress GatewayRef), and
    # they wait for the platform: pulumi.ResourceOptions(providers=[provider], depends_on=[platform]).

    pulumi.export("environment", spec.environment.value)
    pulumi.export("istioVersion", spec.mesh.version)
    for key, value in platform.outputs.items():
        pulumi.export(key, value)
