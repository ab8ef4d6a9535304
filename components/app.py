"""MeshApp: one service of the mesh — workloads → DestinationRules → routes → security policies.

``MeshApp`` validates and renders itself: its arguments' types (:mod:`meshstack.model.arguments`),
the app's own rules (checked when the :class:`~meshstack.model.app.AppSpec` was built), the rules
with context (:func:`meshstack.model.checks.app_problems`: what the render target can express,
prod's rules, what the mesh can serve) and what the apps already in the mesh leave it
(:class:`meshstack.model.checks.Members`: a name of its own, a namespace of the mesh), all at
once and before it registers anything. Errors name its arguments and Python attribute paths
below them (``name``, ``namespace``, ``app.routes[0].to``); so do the warnings it logs
(``pulumi.log.warn``: :func:`meshstack.model.checks.reachability_warnings`, an app nothing may
call).

Apply order is explicit (children do not inherit a parent's ``depends_on``) and holds only the
edges safety needs: everything waits for the mesh (:attr:`MeshReference.ready`: CRDs, istiod) and
``opts.depends_on``; the VirtualService/HTTPRoute also waits for the Deployments and DestinationRule
subsets it routes to. ServiceAccount, Services, Deployments, DestinationRules and security policies
are applied in parallel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from meshstack.components.k8s import kubernetes_object, object_key
from meshstack.components.mesh_reference import MeshReference
from meshstack.errors import Loc, Problem, join_path
from meshstack.model import arguments, checks
from meshstack.model.app import AppSpec
from meshstack.model.base import Name, python_path
from meshstack.model.rollout.state import RolloutState
from meshstack.model.target import RenderTarget
from meshstack.render.app import AppManifests, plan_app


@dataclass(frozen=True, kw_only=True)
class MeshAppArgs:
    """One app and where it runs."""

    #: The app: versions, ports and policies (validated at construction).
    app: AppSpec
    #: The mesh it joins (``MeshPlatform.mesh``): carries the dependency on the platform.
    mesh: MeshReference
    #: Its namespace: a workload namespace of the platform (or of a ``MeshApps`` section); for a
    #: mesh another program installed (``MeshReference(MeshRef(...))``), one labelled for injection.
    namespace: Name
    #: How routes are rendered: Istio VirtualService (default) or Gateway API HTTPRoute.
    target: RenderTarget = RenderTarget.ISTIO
    #: Images by version that come from other resources (an Output of an image build); they
    #: replace ``versions.<v>.image``, which may then be left unset.
    images: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    #: Hosts the ingress serves the app on when they come from another resource (a DNS record);
    #: replaces ``expose.hosts``.
    hosts: pulumi.Input[Sequence[str]] | None = None
    #: Where the app's rollout stands (``app.rollout``); unset: its start (the stable version serves).
    rollout_state: RolloutState | None = None

    def __post_init__(self) -> None:
        arguments.prepare(self)  # ``target="gatewayApi"`` as well as RenderTarget.GATEWAY_API


class MeshApp(pulumi.ComponentResource):
    """A service of the mesh and its traffic, resilience and security policies."""

    #: The Service name (also the mesh host).
    service_name: str
    namespace: str
    #: Versions, in declaration order.
    versions: list[str]
    #: In-cluster URL of the app's first port.
    url: str
    #: The Deployment of each version.
    deployments: dict[str, pulumi.CustomResource]
    #: The mesh route (VirtualService or HTTPRoute), if the app has routes.
    route: pulumi.CustomResource | None
    #: Every object, by apply group.
    resources: dict[str, list[pulumi.CustomResource]]

    def __init__(self, name: Name, args: MeshAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _check(name, args, opts)  # every problem at once, before anything is registered
        args.mesh.members.add_app(name, args.namespace)
        for loc, message in checks.reachability_warnings(name, args.app, checks.MeshContext.of(args.mesh.ref)):
            pulumi.log.warn(f"{_python('app', loc)}: {message}")
        plan = plan_app(name, args.app, args.namespace, args.mesh.ref, args.target, state=args.rollout_state)
        super().__init__("meshstack:apps:MeshApp", name, None, args.mesh.options(opts))
        extra: list[pulumi.CustomResource] = []
        if plan.own_gateway is not None:
            extra.append(
                kubernetes_object(
                    object_key(plan.own_gateway),
                    plan.own_gateway,
                    pulumi.ResourceOptions(parent=self, depends_on=list(args.mesh.ready)),
                )
            )
        after = [*args.mesh.ready, *(opts.depends_on if opts is not None and isinstance(opts.depends_on, list) else [])]
        self._register(name, args, plan.manifests, [*after, *extra])

    @classmethod
    def _planned(
        cls,
        name: str,
        service: str,
        args: MeshAppArgs,
        manifests: AppManifests,
        after: Sequence[pulumi.Resource],
        opts: pulumi.ResourceOptions,
    ) -> MeshApp:
        """A MeshApp of an already validated and rendered app (MeshApps renders its section at once)."""
        self = cls.__new__(cls)
        pulumi.ComponentResource.__init__(self, "meshstack:apps:MeshApp", name, None, opts)
        self._register(service, args, manifests, after)
        return self

    def _register(
        self, name: str, args: MeshAppArgs, manifests: AppManifests, after: Sequence[pulumi.Resource]
    ) -> None:
        spec = args.app
        _apply_inputs(manifests, args)
        base = list(after)

        def create(group: str, depends_on: list[pulumi.Resource]) -> list[pulumi.CustomResource]:
            opts = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
            return [kubernetes_object(object_key(m), m, opts) for m in getattr(manifests, group)]

        # Only the edges safety needs, so independent objects are applied in parallel: workloads,
        # DestinationRules and security policies wait for the mesh and the namespace; a route waits
        # for the Deployments and DestinationRule subsets it sends traffic to.
        self.resources = {"workload": create("workload", base), "destination": create("destination", base)}
        deployments = [
            r for m, r in zip(manifests.workload, self.resources["workload"], strict=True) if m["kind"] == "Deployment"
        ]
        # What the route needs waits for ``base`` already: the route depends on ``base`` through it.
        self.resources["routes"] = create("routes", [*deployments, *self.resources["destination"]] or base)
        self.resources["security"] = create("security", base)
        self.service_name = name
        self.namespace = args.namespace
        self.versions = list(spec.versions)
        port = spec.ports[0].port
        self.url = f"http://{name}.{args.namespace}.svc.cluster.local:{port}"
        self.deployments = {
            m["metadata"]["labels"]["version"]: r
            for m, r in zip(manifests.workload, self.resources["workload"], strict=True)
            if m["kind"] == "Deployment"
        }
        mesh_routes = [
            r for m, r in zip(manifests.routes, self.resources["routes"], strict=True) if m["metadata"]["name"] == name
        ]
        self.route = mesh_routes[0] if mesh_routes else None
        self.register_outputs({"service": name, "versions": self.versions, "url": self.url})


def _apply_inputs(manifests: AppManifests, args: MeshAppArgs) -> None:
    """Put the Inputs of ``args`` (images, hosts) into the rendered manifests."""
    for m in manifests.workload:
        if m["kind"] == "Deployment":
            version = m["metadata"]["labels"]["version"]
            if version in args.images:
                m["spec"]["template"]["spec"]["containers"][0]["image"] = args.images[version]
    if args.hosts is None:
        return
    for m in manifests.routes:
        if m["metadata"]["name"] == f"{m['metadata']['labels']['app']}-ingress":
            key = "hosts" if m["kind"] == "VirtualService" else "hostnames"
            spec: dict[str, Any] = m["spec"]
            spec[key] = args.hosts


def _check(name: str, args: MeshAppArgs, opts: pulumi.ResourceOptions | None) -> None:
    """Every problem of a ``MeshApp(name, args, opts)`` in one ConfigError (Python paths: ``name``,
    ``app.routes[0].to``, ``namespace`` …): its arguments' types, the app's rules with context, and
    what the apps already in the mesh leave it (a name of its own, a namespace of the mesh). A rule
    whose input is refused is not run."""
    problems = [
        *arguments.check_call(MeshApp.__init__, name=name, opts=opts),
        *arguments.problems_of(args, MeshAppArgs),
    ]
    if not isinstance(args, MeshAppArgs):
        arguments.refuse(problems)
        return
    bad = arguments.bad_fields(problems)
    if not bad & {"name", "app", "target"}:
        supplied = frozenset(args.images) if isinstance(args.images, Mapping) else frozenset()
        if "mesh" in bad:  # the rules that need no mesh
            found = [*checks.target_problems(name, args.app, args.target), *checks.image_problems(args.app, supplied)]
        else:
            mesh = checks.MeshContext.of(args.mesh.ref)
            found = checks.app_problems(name, args.app, args.target, mesh, supplied_images=supplied)
        problems += [Problem(_python("app", loc), message) for loc, message in found]
    if not bad & {"name", "mesh", "namespace"}:
        joining = args.mesh.members.app_problems(name, args.namespace, checks.MeshContext.of(args.mesh.ref))
        problems += [Problem(join_path(loc), message) for loc, message in joining]
    arguments.refuse(problems)


def _python(head: str, loc: Loc) -> str:
    """A path below the app as a Python user wrote it (``app.routes[0].to``)."""
    text = python_path(AppSpec, list(loc))
    return head + ("" if not text else text if text.startswith("[") else "." + text)
