"""Plain references passed from the platform to the apps (no validation: built by our own code).

The platform (control plane + gateways) hands these to the app components so an app can expose
itself through a gateway and label its namespace for the right control-plane revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class GatewayKind(StrEnum):
    ISTIO = "istio"  # networking.istio.io Gateway, bound by a VirtualService's `gateways`
    GATEWAY_API = "gatewayApi"  # gateway.networking.k8s.io Gateway, bound by an HTTPRoute's parentRefs


@dataclass(frozen=True)
class GatewayRef:
    """A gateway apps can attach routes to."""

    name: str  # the Gateway object's name
    namespace: str  # the Gateway object's namespace
    kind: GatewayKind = GatewayKind.ISTIO
    hosts: tuple[str, ...] = ("*",)
    port: int = 80  # the listener/server port routes attach to
    selector: dict[str, str] = field(default_factory=dict)  # Istio Gateway workload selector
    #: The gateway pods' SPIFFE identity (``cluster.local/ns/<ns>/sa/<sa>``): what a default-deny
    #: mesh opens an exposed app to.
    principal: str | None = None

    @property
    def qualified(self) -> str:
        """``namespace/name``, as a VirtualService's ``gateways`` list names it."""
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class MeshRef:
    """What apps need to know about the control plane."""

    namespace: str = "istio-system"
    #: Labels every workload namespace carries: exactly one of ``istio-injection: enabled`` or
    #: ``istio.io/rev: <revision|tag>`` (never both: istio-injection would win, IST0123).
    injection_labels: dict[str, str] = field(default_factory=lambda: {"istio-injection": "enabled"})
    ingress: GatewayRef | None = None
    egress: GatewayRef | None = None
    #: The mesh's environment ("dev", "prod"; None: unknown). Apps joining a prod mesh get prod's rules.
    environment: str | None = None
    #: The Pod Security Admission level workload namespaces enforce ("privileged": none).
    pod_security: str = "privileged"
    #: Whether meshstack namespaces are fenced by NetworkPolicies.
    network_policies: bool = False
    #: Whether the mesh allows nothing until an app opens it (exposed apps are opened to the ingress).
    default_deny: bool = False
    #: Prometheus's scrape interval (None: the mesh has no Prometheus); rollouts analyse with it.
    prometheus_scrape_interval: str | None = None
    #: The workload namespaces the platform creates, where apps may join (None: not known, e.g. a
    #: mesh another program installed: any namespace labelled for injection).
    namespaces: tuple[str, ...] | None = None

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"
