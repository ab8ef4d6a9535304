"""MeshApps: the apps of one namespace as a section — the namespace (labelled for injection), its
PeerAuthentication, a Gateway when the apps must bring their own, and a :class:`MeshApp` per app.

The section is validated as a whole (:class:`~meshstack.model.apps.AppsConfig`: one app per
ServiceAccount, the namespace's mTLS vs an app's client TLS, the render target) and against the
mesh (:func:`meshstack.model.checks.section_problems`: prod's rules, an ingress for exposed apps,
the analysis against Prometheus), then rendered once, before anything is registered. What deploys
but most likely not as meant (:func:`meshstack.model.checks.section_warnings`: an app nothing may
call) is logged as a warning (``pulumi.log.warn``), at the config key when the section came from
stack config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from meshstack.components.app import MeshApp, MeshAppArgs
from meshstack.components.k8s import kubernetes_object, object_key
from meshstack.components.mesh_reference import MeshReference
from meshstack.errors import ConfigError, Loc, Problem, join_path
from meshstack.model import arguments, checks
from meshstack.model.app import AppSpec
from meshstack.model.apps import AppsConfig
from meshstack.model.base import Name, python_path
from meshstack.model.policy.peer_authentication import PeerAuthentication
from meshstack.model.rollout.state import RolloutState
from meshstack.model.target import RenderTarget
from meshstack.render.app import render_apps


@dataclass(frozen=True, kw_only=True)
class MeshAppsArgs:
    """The apps of a namespace and the policies they share."""

    #: The mesh they join (``MeshPlatform.mesh``).
    mesh: MeshReference
    #: Apps by Service name.
    apps: Mapping[str, AppSpec] = field(default_factory=dict)
    #: Their namespace, created and labelled for injection by this component.
    namespace: Name = "apps"
    target: RenderTarget = RenderTarget.ISTIO
    #: Namespace-wide PeerAuthentication. Unset: the mesh-wide mode applies.
    peer_authentication: PeerAuthentication | None = None
    #: Where each app's rollout stands, by app (unset: its start).
    rollout_states: Mapping[str, RolloutState] = field(default_factory=dict)
    #: The section as already validated (``from_config``), so it is not validated twice.
    _validated: AppsConfig | None = field(default=None, repr=False, compare=False)
    #: The section's config key when it came from stack config (``meshstack:apps``): warnings name
    #: config paths below it instead of Python attributes.
    _config_key: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        arguments.prepare(self)

    def config(self) -> AppsConfig:
        """The validated section (raises ConfigError naming Python paths, ``apps["web"].routes[0].to``)."""
        if self._validated is not None:
            return self._validated
        arguments.refuse(arguments.problems_of(self, MeshAppsArgs))
        return AppsConfig(
            enabled=True,
            namespace=self.namespace,
            target=self.target,
            apps=dict(self.apps),
            peer_authentication=self.peer_authentication,
        )

    @classmethod
    def from_config(
        cls,
        config: AppsConfig,
        mesh: MeshReference,
        rollout_states: Mapping[str, RolloutState] | None = None,
        config_key: str | None = None,
    ) -> MeshAppsArgs:
        """The args of a section read from stack config at ``config_key`` (``meshstack:apps``)."""
        return cls(
            rollout_states=dict(rollout_states or {}),
            mesh=mesh,
            apps=config.apps,
            namespace=config.namespace,
            target=config.target,
            peer_authentication=config.peer_authentication,
            _validated=config,
            _config_key=config_key,
        )


class MeshApps(pulumi.ComponentResource):
    """Every app of one namespace."""

    namespace: str
    target: RenderTarget
    #: The app components, by Service name.
    apps: dict[str, MeshApp]

    def __init__(self, name: str, args: MeshAppsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        config = _check(name, args, opts)  # every problem at once, before anything is registered
        args.mesh.members.add_section(name, config.namespace, config.apps)
        mesh = checks.MeshContext.of(args.mesh.ref)
        for loc, message in config.located(checks.section_warnings(config.apps, mesh)):
            where = f"{args._config_key}.{join_path(loc)}" if args._config_key else python_path(AppsConfig, list(loc))
            pulumi.log.warn(f"{where}: {message}")
        rendered = render_apps(config, args.mesh.ref, args.rollout_states)
        super().__init__("meshstack:apps:MeshApps", name, None, args.mesh.options(opts))
        child = pulumi.ResourceOptions(parent=self)
        ready = list(args.mesh.ready)
        self.namespace_resources = [
            kubernetes_object(object_key(m), m, pulumi.ResourceOptions(parent=self, depends_on=ready))
            for m in rendered.namespace
        ]
        shared = [
            kubernetes_object(
                object_key(m),
                m,
                pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=self.namespace_resources)),
            )
            for m in rendered.shared
        ]
        # The apps wait for the namespace and a Gateway they bring; not for its policies. The
        # namespace waits for the mesh, so the apps do too without an edge of their own to each
        # mesh resource (an edge costs the program and the engine on every object).
        gateways = [r for m, r in zip(rendered.shared, shared, strict=True) if m["kind"] == "Gateway"]
        self.apps = {
            app_name: MeshApp._planned(
                f"{name}-{app_name}",
                app_name,
                MeshAppArgs(
                    app=config.apps[app_name], mesh=args.mesh, namespace=config.namespace, target=config.target
                ),
                manifests,
                after=[*(self.namespace_resources or ready), *gateways],
                opts=child,
            )
            for app_name, manifests in rendered.apps.items()
        }
        self.namespace = config.namespace
        self.target = config.target
        self.register_outputs({"namespace": self.namespace, "apps": sorted(self.apps)})


def _check(name: str, args: MeshAppsArgs, opts: pulumi.ResourceOptions | None) -> AppsConfig:
    """The validated section of a ``MeshApps(name, args, opts)``, or every problem in one
    ConfigError (Python paths: ``apps["web"].routes[0].to``, ``namespace`` …): its arguments' types,
    the section's own rules, the rules with the mesh (prod's …) and what the apps already in the
    mesh leave it (a name and a namespace of its own, Services no ``MeshApp`` defines)."""
    problems = [
        *arguments.check_call(MeshApps.__init__, name=name, opts=opts),
        *arguments.problems_of(args, MeshAppsArgs),
    ]
    if not isinstance(args, MeshAppsArgs):
        arguments.refuse(problems)
    bad = arguments.bad_fields(problems)
    config: AppsConfig | None = None
    if not bad & {"apps", "namespace", "target", "peer_authentication"}:
        try:
            config = args.config()
        except ConfigError as refused:  # its own rules; the mesh's rules still run on its apps
            problems += refused.problems
    found: list[tuple[Loc, str]] = []
    if "mesh" not in bad:
        mesh = checks.MeshContext.of(args.mesh.ref)
        if config is not None:
            found += config.located(
                checks.section_problems(
                    config.apps, config.target, config.peer_authentication, mesh, namespace=config.namespace
                )
            )
        elif not bad & {"apps", "target", "peer_authentication"}:
            namespace = None if "namespace" in bad else args.namespace
            found += checks.section_problems(args.apps, args.target, args.peer_authentication, mesh, namespace)
        if not bad & {"name", "namespace", "apps"}:
            found += args.mesh.members.section_problems(name, args.namespace, list(args.apps))
    problems += [Problem(python_path(AppsConfig, list(loc)), m) for loc, m in found]
    arguments.refuse(problems)
    assert config is not None  # no problem: the section was validated
    return config
