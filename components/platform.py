"""MeshPlatform: the mesh platform of one environment — control plane, namespaces, gateways, addons.

Arguments are flat and typed (each section as its model object), validated together as a
:class:`~meshstack.model.platform.PlatformSpec`: the environment's defaults fill what is left unset,
exactly as they do for stack config. Hand :attr:`MeshPlatform.mesh` to the apps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.components.addons import MeshAddons, MeshAddonsArgs
from meshstack.components.control_plane import MeshControlPlane, MeshControlPlaneArgs
from meshstack.components.gateways import MeshGateways, MeshGatewaysArgs
from meshstack.components.mesh_reference import MeshReference
from meshstack.components.namespaces import WorkloadNamespaces, WorkloadNamespacesArgs
from meshstack.errors import ConfigError
from meshstack.model import arguments
from meshstack.model.addons import AddonsConfig
from meshstack.model.environment import Environment
from meshstack.model.gateway import GatewaysConfig
from meshstack.model.mesh import MeshConfig
from meshstack.model.namespace import WorkloadNamespace
from meshstack.model.platform import PlatformSpec
from meshstack.model.secrets import SecretsConfig
from meshstack.render import platform as render


@dataclass(frozen=True, kw_only=True)
class MeshPlatformArgs:
    """What the platform installs. Sections left out take the environment's defaults."""

    #: dev or prod: the defaults under everything left unset, and the rules (prod: STRICT mTLS …).
    environment: Environment | str
    mesh: MeshConfig | None = None
    gateways: GatewaysConfig | None = None
    namespaces: Mapping[str, WorkloadNamespace] | None = None
    addons: AddonsConfig | None = None
    secrets: SecretsConfig | None = None
    #: A kubeconfig (its contents, e.g. an EKS cluster's Output): the platform then deploys with a
    #: provider of its own (handed to the apps through :attr:`MeshPlatform.mesh`). Unset: the
    #: provider of ``opts``, else the default provider.
    kubeconfig: pulumi.Input[str] | None = None
    #: The spec as already validated (``from_spec``), so it is not validated twice.
    _validated: PlatformSpec | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        arguments.prepare(self)

    def spec(self) -> PlatformSpec:
        """The validated platform spec, or every problem in one ConfigError naming Python attribute
        paths: the arguments' types, and the spec's rules on the arguments that have the right type."""
        if self._validated is not None:
            return self._validated
        problems = arguments.problems_of(self, MeshPlatformArgs)
        bad = arguments.bad_fields(problems)
        given: dict[str, Any] = {
            "environment": self.environment,
            "mesh": self.mesh,
            "gateways": self.gateways,
            "namespaces": dict(self.namespaces) if isinstance(self.namespaces, Mapping) else None,
            "addons": self.addons,
            "secrets": self.secrets,
        }
        spec: PlatformSpec | None = None
        try:
            spec = PlatformSpec(**{k: v for k, v in given.items() if v is not None and k not in bad})
        except ConfigError as refused:  # what it says of an argument already refused is left out
            problems += [p for p in refused.problems if arguments.bad_fields([p]).isdisjoint(bad)]
        arguments.refuse(problems)
        assert spec is not None  # validated: no problem
        return spec

    @classmethod
    def from_spec(cls, spec: PlatformSpec, kubeconfig: pulumi.Input[str] | None = None) -> MeshPlatformArgs:
        """The arguments of an already validated spec (a StackSpec, for example)."""
        return cls(
            environment=spec.environment,
            mesh=spec.mesh,
            gateways=spec.gateways,
            namespaces=spec.namespaces,
            addons=spec.addons,
            secrets=spec.secrets,
            kubeconfig=kubeconfig,
            _validated=spec,
        )


class MeshPlatform(pulumi.ComponentResource):
    """The Istio control plane (official charts), workload namespaces, gateways and addons."""

    #: The validated spec this platform was built from.
    spec: PlatformSpec
    #: The handle apps join the mesh with (carries the dependency on the platform and its provider).
    mesh: MeshReference
    #: The control-plane namespace.
    control_plane_namespace: pulumi.Output[str]
    #: The ingress Service's load-balancer address once assigned, else its in-cluster name (None: no ingress).
    ingress_address: pulumi.Output[str] | None
    #: In-cluster URL of every enabled addon.
    addon_urls: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: MeshPlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        spec = _check(name, args, opts)  # every problem at once, before anything is registered
        super().__init__("meshstack:platform:MeshPlatform", name, None, opts)
        self.spec = spec
        provider: pulumi.ProviderResource | None = None
        if args.kubeconfig is not None:
            provider = k8s.Provider(
                f"{name}-k8s",
                kubeconfig=args.kubeconfig,
                enable_server_side_apply=True,
                opts=pulumi.ResourceOptions(parent=self),
            )
        child = pulumi.ResourceOptions(parent=self, providers=[provider] if provider is not None else None)
        provider = provider or _kubernetes_provider(opts)
        self.control_plane = MeshControlPlane(
            "mesh",
            MeshControlPlaneArgs(
                mesh=spec.mesh,
                extension_providers=render.extension_providers(spec),
                tracing_provider=render.tracing_provider(spec),
                network_policies=render.control_plane_network_policies(spec),
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
        self.mesh = MeshReference(
            ref=render.mesh_ref(spec),
            # Concrete resources (a component would be expanded to all its children on every app
            # object): CRDs, istiod (its injection webhook) and the workload namespaces.
            ready=(*self.control_plane.ready, *self.namespaces.namespaces.values()),
            provider=provider,
        )
        self.control_plane_namespace = self.control_plane.namespace
        self.ingress_address = self.gateways.ingress_address
        self.addon_urls = pulumi.Output.from_input({name: ep.url for name, ep in render.dashboards(spec).items()})
        self.outputs: dict[str, Any] = {
            "controlPlaneNamespace": self.control_plane_namespace,
            **render.platform_outputs(spec),
        }
        if self.ingress_address is not None:
            self.outputs["ingressAddress"] = self.ingress_address
        self.register_outputs(self.outputs)


def _check(name: str, args: MeshPlatformArgs, opts: pulumi.ResourceOptions | None) -> PlatformSpec:
    """The validated spec of a ``MeshPlatform(name, args, opts)``, or every problem in one ConfigError."""
    problems = arguments.check_call(MeshPlatform.__init__, name=name, opts=opts)
    if not isinstance(args, MeshPlatformArgs):
        arguments.refuse([*problems, *arguments.problems_of(args, MeshPlatformArgs)])
    spec: PlatformSpec | None = None
    try:
        spec = args.spec()
    except ConfigError as refused:
        problems += refused.problems
    arguments.refuse(problems)
    assert spec is not None  # validated: no problem
    return spec


def _kubernetes_provider(opts: pulumi.ResourceOptions | None) -> pulumi.ProviderResource | None:
    """The Kubernetes provider ``opts`` names (``provider=`` or ``providers=``), if any."""
    if opts is None:
        return None
    candidates: list[object] = [opts.provider]
    if isinstance(opts.providers, Mapping):
        candidates.append(opts.providers.get("kubernetes"))
    elif opts.providers:
        candidates.extend(opts.providers)
    for candidate in candidates:
        if isinstance(candidate, k8s.Provider):
            return candidate
    return None
