"""MeshReference: the one typed handle apps get from the mesh platform.

It carries what an app must know (the control-plane namespace, the injection label of workload
namespaces, the ingress and egress gateways) *and* what it must wait for (the control plane's CRDs
and webhooks, the workload namespaces, the gateways) and the provider the platform deploys with, so
``MeshApp(..., MeshAppArgs(mesh=platform.mesh, ...))`` needs no ``depends_on`` and no provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from meshstack.model.refs import GatewayRef, MeshRef


@dataclass(frozen=True)
class MeshReference:
    """A mesh apps can join. Build one with :attr:`MeshPlatform.mesh`, or :meth:`external` for a
    mesh installed by another program (its namespace, labels and gateways as that program set them)."""

    #: The control-plane (root) namespace.
    namespace: str = "istio-system"
    #: The one injection label of workload namespaces (``istio-injection`` or ``istio.io/rev``).
    injection_labels: Mapping[str, str] = field(default_factory=lambda: {"istio-injection": "enabled"})
    #: The ingress gateway exposed apps attach to (None: the mesh has none).
    ingress: GatewayRef | None = None
    #: The egress gateway (None: the mesh has none).
    egress: GatewayRef | None = None
    #: What an app's objects wait for: CRDs, istiod (its injection webhook), namespaces, gateways.
    ready: Sequence[pulumi.Resource] = ()
    #: The Kubernetes provider the mesh was deployed with (None: the caller's default provider).
    provider: pulumi.ProviderResource | None = None

    @classmethod
    def external(
        cls,
        ref: MeshRef,
        ready: Sequence[pulumi.Resource] = (),
        provider: pulumi.ProviderResource | None = None,
    ) -> MeshReference:
        """A mesh this program did not install, described by ``ref``."""
        return cls(ref.namespace, dict(ref.injection_labels), ref.ingress, ref.egress, tuple(ready), provider)

    @property
    def ref(self) -> MeshRef:
        """The plain data part (what render functions take)."""
        return MeshRef(self.namespace, dict(self.injection_labels), self.ingress, self.egress)

    def options(self, opts: pulumi.ResourceOptions | None = None) -> pulumi.ResourceOptions:
        """``opts`` with this mesh's provider when ``opts`` names none."""
        opts = opts or pulumi.ResourceOptions()
        if self.provider is not None and opts.provider is None and not opts.providers:
            return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[self.provider]))
        return opts
