"""MeshReference: the one typed handle apps get from the mesh platform.

It carries what an app must know (:class:`~meshstack.model.refs.MeshRef`: the control-plane
namespace, the injection label of workload namespaces, the gateways, the environment and the
mesh's security posture) *and* what it must wait for (the control plane's CRDs and webhooks, the
workload namespaces, the gateways) and the provider the platform deploys with, so
``MeshApp(..., MeshAppArgs(mesh=platform.mesh, ...))`` needs no ``depends_on`` and no provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from meshstack.errors import ConfigError
from meshstack.model import arguments
from meshstack.model.checks import Members
from meshstack.model.refs import GatewayRef, MeshRef


@dataclass(frozen=True)
class MeshReference:
    """A mesh apps can join. Build one with :attr:`MeshPlatform.mesh`, or ``MeshReference(MeshRef(...))``
    for a mesh installed by another program (its namespace, labels and gateways as that program set them).

    The apps that join it learn of each other through it (:attr:`members`): a second ``MeshApp``
    of the same name, or an app in a namespace the platform does not manage, is refused before
    it registers anything. Share one reference among the apps of one mesh."""

    #: What apps need to know about the mesh.
    ref: MeshRef = field(default_factory=MeshRef)
    #: What an app's objects wait for: CRDs, istiod (its injection webhook), namespaces, gateways.
    ready: Sequence[pulumi.Resource] = ()
    #: The Kubernetes provider the mesh was deployed with (None: the caller's default provider).
    provider: pulumi.ProviderResource | None = None
    #: The apps and sections that joined this mesh so far in this program.
    members: Members = field(default_factory=Members, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems, _ = arguments.check_fields(self)
        if problems:
            raise ConfigError(problems)

    @property
    def namespace(self) -> str:
        """The control-plane (root) namespace."""
        return self.ref.namespace

    @property
    def ingress(self) -> GatewayRef | None:
        """The ingress gateway exposed apps attach to (None: the mesh has none)."""
        return self.ref.ingress

    @property
    def environment(self) -> str | None:
        return self.ref.environment

    def options(self, opts: pulumi.ResourceOptions | None = None) -> pulumi.ResourceOptions:
        """``opts`` with this mesh's provider when ``opts`` names none."""
        opts = opts or pulumi.ResourceOptions()
        if self.provider is not None and opts.provider is None and not opts.providers:
            return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[self.provider]))
        return opts
