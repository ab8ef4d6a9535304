"""The meshstack program: stack config → typed model → components. ``__main__.py`` calls :func:`main`."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import config as runtime_config

from components.apps import MeshApps, MeshAppsArgs
from components.platform import MeshPlatform, MeshPlatformArgs
from meshstack.errors import ConfigError
from meshstack.model.stack import StackSpec
from meshstack.render import platform as platform_render
from meshstack.render.app import RenderContext, render_apps
from stacks.config import collect, load_stack_spec


def read_spec() -> StackSpec:
    """The validated stack spec; bad config stops the program before any resource is registered."""
    flat = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    try:
        spec = load_stack_spec(collect(flat))
        if spec.apps.enabled:
            # The apps' own rules need the platform (is there an ingress to expose through?):
            # render them once here, purely, so they too fail before anything is registered.
            ref = platform_render.mesh_ref(spec)
            render_apps(
                spec.apps,
                RenderContext(
                    injection_labels=ref.injection_labels, ingress=ref.ingress, environment=spec.environment.value
                ),
            )
    except ConfigError as err:
        raise pulumi.RunError(str(ConfigError(err.problems, "meshstack:"))) from None
    return spec


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
    # The apps (docs/apps.md): they wait for the whole platform (istiod's webhooks, the gateways).
    if spec.apps.enabled:
        MeshApps(
            "apps",
            MeshAppsArgs(
                config=spec.apps,
                environment=spec.environment.value,
                injection_labels=platform.mesh_ref.injection_labels,
                ingress=platform.mesh_ref.ingress,
            ),
            opts=pulumi.ResourceOptions(providers=[provider], depends_on=[platform]),
        )

    pulumi.export("environment", spec.environment.value)
    pulumi.export("istioVersion", spec.mesh.version)
    for key, value in platform.outputs.items():
        pulumi.export(key, value)
