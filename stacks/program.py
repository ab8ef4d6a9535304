"""The meshstack program: stack config → typed model → components. ``__main__.py`` calls :func:`main`.

:func:`deploy` is the program for a validated :class:`StackSpec`, however it was built: from the
stack's config (:func:`read_spec`) or in Python (``StackSpec.for_environment("prod", ...)``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack._sdk import stack_traces
from meshstack._sdk.config import all_config
from meshstack.components.k8s import kubernetes_object, object_key
from meshstack.errors import ConfigError
from meshstack.model.rollout.state import RolloutState
from meshstack.model.stack import StackSpec
from meshstack.render import platform as platform_render
from meshstack.render.app import render_apps
from meshstack.stacks import gc_thresholds, release, rollout_positions
from meshstack.stacks.config import PREFIX, collect, load_stack_spec

if TYPE_CHECKING:
    from meshstack.components.platform import MeshPlatform


class StackConfigRefused(pulumi.RunError):
    """The stack's config is invalid: the program stops before registering anything. The engine
    shows the message (every problem, with its ``meshstack:`` path); a caller in this process (the
    offline render) also has :attr:`problems`."""

    def __init__(self, err: ConfigError) -> None:
        self.error = ConfigError(err.problems, PREFIX)
        super().__init__(str(self.error))


def read_spec() -> tuple[StackSpec, dict[str, RolloutState], dict[str, Any]]:
    """The validated stack spec, the runner's rollout states for this update, and the raw config
    values; bad config stops the program before any resource is registered."""
    try:
        values = collect(all_config())
        explicit = rollout_positions.parse_states(values.pop(rollout_positions.STATE_KEY, None))
        return load_stack_spec(values), explicit, values
    except ConfigError as err:
        raise StackConfigRefused(err) from None


def previous_outputs() -> tuple[dict[str, Any], bool]:
    """The outputs this stack recorded last, as this update found them (none for a new stack), and
    whether any of them is a secret.

    They are the root stack resource's state in the snapshot the engine holds for this update:
    the engine keeps an unchanged component's previous outputs on its ``same`` state, and
    ``pulumi:pulumi:getResource`` answers from that, in memory, once the root's registration is
    done (the invoke waits for its URN). ``readStackOutputs`` (a stack reference to itself) would
    load and decrypt the whole state again: about a second of a step on a 100-service stack
    (docs/benchmarks.md). The answer marks the state as a whole secret when any output is one, so
    the values come back plain and the flag says to carry them over as secrets."""
    root = pulumi.runtime.get_root_resource()
    if root is None:
        return {}, False
    result = pulumi.runtime.invoke("pulumi:pulumi:getResource", {"urn": root.urn})
    state = (result.value or {}).get("state")
    return (dict(state) if isinstance(state, dict) else {}), result.is_secret


def _provider(spec: StackSpec) -> k8s.Provider:
    """The Kubernetes provider of the stack. With ``kubernetes.eks`` its kubeconfig comes from the
    EKS API, looked up here, synchronously, before any resource is registered (docs/eks.md)."""
    kubeconfig = spec.kubernetes.kubeconfig
    if spec.kubernetes.eks is not None:
        from meshstack.stacks import eks  # noqa: PLC0415 - boto3 is loaded only for EKS stacks

        try:
            kubeconfig = eks.kubeconfig(spec.kubernetes.eks)
        except ConfigError as err:
            raise StackConfigRefused(err) from None
    return k8s.Provider(
        "k8s",
        kubeconfig=kubeconfig,
        context=spec.kubernetes.context,
        delete_unreachable=spec.kubernetes.delete_unreachable,
        enable_server_side_apply=True,
    )


def deploy(
    spec: StackSpec,
    rollout_states: Mapping[str, RolloutState] | Callable[[], Mapping[str, RolloutState]] | None = None,
) -> MeshPlatform:
    """Register the whole stack: a provider for the cluster, the platform, the apps, the outputs.
    ``rollout_states`` are where the apps' rollouts stand (unset: their start), or a function
    returning them, called once the platform is registered: reading them back from the stack's
    state (:func:`previous_outputs`) then overlaps the platform's registration."""
    # Imported here: a rollout step (:func:`deploy_route`) registers one route and needs none of them.
    from meshstack.components.apps import MeshApps, MeshAppsArgs  # noqa: PLC0415
    from meshstack.components.platform import MeshPlatform, MeshPlatformArgs  # noqa: PLC0415

    provider = _provider(spec)
    k8s_opts = pulumi.ResourceOptions(providers=[provider])
    # The platform: control plane, workload namespaces, gateways, addons (docs/platform.md).
    platform = MeshPlatform("platform", MeshPlatformArgs.from_spec(spec), opts=k8s_opts)
    states = dict((rollout_states() if callable(rollout_states) else rollout_states) or {})
    # The apps (docs/apps.md): they wait for what the mesh reference names (istiod, namespaces, gateways).
    route_urns: dict[str, pulumi.Output[str]] = {}
    if spec.apps.enabled:
        section = MeshAppsArgs.from_config(spec.apps, platform.mesh, states, config_key=f"{PREFIX}apps")
        apps = MeshApps("apps", section, opts=k8s_opts)
        route_urns = {name: route.urn for name in states if (route := apps.apps[name].route) is not None}

    pulumi.export("environment", spec.environment.value)
    pulumi.export("istioVersion", spec.mesh.version)
    for key, value in platform.outputs.items():
        pulumi.export(key, value)
    if states:
        pulumi.export(rollout_positions.OUTPUT, rollout_positions.record(spec, states, route_urns))
    return platform


#: With ``pulumi up --target <that route's URN>``: the program is :func:`step` for this app, it
#: registers only the app's route (a rollout step in seconds, whatever the stack's size). The rollout
#: runner runs :func:`step` in its own process instead.
ROUTE_ONLY = "MESHSTACK_ROUTE_ONLY"


def deploy_route(
    spec: StackSpec,
    states: Mapping[str, RolloutState],
    app: str,
    previous: Mapping[str, Any],
    *,
    secret: bool = False,
) -> pulumi.CustomResource:
    """The route of ``app`` alone, under the same parents and provider as in :func:`deploy` (so the
    same URN), validated exactly as a full run validates. Only for a targeted update of that route:
    untargeted resources the program does not register are left as they are. Every output the stack
    recorded (``previous``) is carried over, as secrets when ``secret``, the rollouts updated."""
    if not spec.apps.enabled or app not in spec.apps.apps:
        raise pulumi.RunError(f"{ROUTE_ONLY}={app}: no such app in this stack")
    rendered = render_apps(spec.apps, platform_render.mesh_ref(spec), states).apps[app]
    [manifest] = [m for m in rendered.routes if m["metadata"]["name"] == app]
    opts = pulumi.ResourceOptions(providers=[_provider(spec)])
    section = pulumi.ComponentResource("meshstack:apps:MeshApps", "apps", None, opts)
    component = pulumi.ComponentResource(
        "meshstack:apps:MeshApp", f"apps-{app}", None, pulumi.ResourceOptions(parent=section)
    )
    route = kubernetes_object(object_key(manifest), manifest, pulumi.ResourceOptions(parent=component))
    for key, value in previous.items():
        if key != rollout_positions.OUTPUT:
            pulumi.export(key, pulumi.Output.secret(value) if secret else value)
    recorded = {name: rollout_positions.route_urn(previous, name) for name in states if name != app}
    urns = {**{k: pulumi.Output.from_input(v) for k, v in recorded.items() if v}, app: route.urn}
    pulumi.export(rollout_positions.OUTPUT, rollout_positions.record(spec, states, urns))
    return route


def step(app: str) -> None:
    """The program of a rollout step: the route of ``app`` alone (:func:`deploy_route`), at the
    position the runner gives in ``meshstack:rolloutStates``, every other recorded output carried
    over. The runner runs it in its own process (an inline program,
    :meth:`~meshstack.tools.engine.Engine.targeted_up`); ``MESHSTACK_ROUTE_ONLY=<app>`` selects it
    for ``pulumi up --target <the route's URN>`` run by hand."""
    spec, explicit, _ = read_spec()
    previous, secret = previous_outputs()
    current = rollout_positions.current_states(spec, explicit, rollout_positions.recorded_states(previous))
    deploy_route(spec, current, app, previous, secret=secret)


def tune_runtime() -> None:
    """What meshstack's program sets for its own process, and a program composing meshstack's
    components may set too: fewer collections of a graph that only grows (a third of the
    evaluation's CPU, :mod:`meshstack.stacks.gc_thresholds`), and the SDK's per-resource stack
    trace at a fraction of its cost, same result (:mod:`meshstack._sdk.stack_traces`)."""
    gc_thresholds.install()
    stack_traces.install()


def main() -> None:
    tune_runtime()
    if app := os.environ.get(ROUTE_ONLY):
        step(app)
        return
    spec, explicit, values = read_spec()

    def states() -> dict[str, RolloutState]:
        # The recorded positions are read only when a rollout needs them, once the platform is
        # registered (the root stack's registration is long done by then).
        recorded = (
            rollout_positions.recorded_states(previous_outputs()[0]) if rollout_positions.rollouts_of(spec) else {}
        )
        return rollout_positions.current_states(spec, explicit, recorded)

    deploy(spec, states)
    # What this stack runs, for `meshstack promote` to read back from its state (docs/cd.md).
    pulumi.export(release.OUTPUT, release.record(values))
    if spec.promotion is not None:
        pulumi.export(release.PROMOTION_OUTPUT, spec.promotion.to_config())
