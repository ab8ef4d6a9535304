"""Installation presets mirroring the istioctl profiles, as typed Python objects.

A profile answers the questions a stack's config leaves open: which gateways exist, whether access
logs are on, how much is traced and how big istiod and the sidecars are. Anything the stack sets
explicitly wins over the profile. Pick one with ``mesh.profile`` (config) or a factory method::

    Profile.demo().egress_gateway        # True
    Profile.named(ProfileName.MINIMAL)   # no gateways at all

Only the profiles that make sense for a sidecar mesh installed from the Helm charts are offered:
``default``, ``demo`` and ``minimal``. ``ambient`` (istio-cni + ztunnel, no sidecars) is not
offered: it needs the cni and ztunnel charts and a different injection model (see docs/platform.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from meshstack.model.resources import Resources


class ProfileName(StrEnum):
    """``default``: istiod + ingress gateway, production-sized. ``demo``: + egress gateway, access
    logs, 100% tracing, tiny requests (a laptop cluster). ``minimal``: istiod only, no gateways."""

    DEFAULT = "default"
    DEMO = "demo"
    MINIMAL = "minimal"


@dataclass(frozen=True)
class Profile:
    """What a preset installs and the values it gives to everything the stack leaves unset."""

    name: ProfileName
    #: Install the ingress gateway (``gateways.ingress.enabled`` unset).
    ingress_gateway: bool
    #: Install the egress gateway (``gateways.egress.enabled`` unset).
    egress_gateway: bool
    #: Envoy access logs to stdout (``mesh.accessLogging`` unset).
    access_logging: bool
    #: Percentage of requests traced (``mesh.tracing.sampling`` unset).
    trace_sampling: float
    #: istiod container resources (``mesh.istiod.resources`` unset).
    istiod_resources: Resources
    #: Sidecar (istio-proxy) resources (``mesh.proxy.resources`` unset).
    proxy_resources: Resources
    #: Gateway pod resources (``gateways.<name>.resources`` unset).
    gateway_resources: Resources

    @classmethod
    def default(cls) -> Profile:
        """istioctl's ``default``: istiod and an ingress gateway, no access logs, 1% tracing."""
        return cls(
            name=ProfileName.DEFAULT,
            ingress_gateway=True,
            egress_gateway=False,
            access_logging=False,
            trace_sampling=1.0,
            istiod_resources=Resources.of("500m", "2048Mi"),
            proxy_resources=Resources.of("100m", "128Mi", "2000m", "1024Mi"),
            gateway_resources=Resources.of("100m", "128Mi", "2000m", "1024Mi"),
        )

    @classmethod
    def demo(cls) -> Profile:
        """istioctl's ``demo``: both gateways, access logs, every request traced, tiny requests."""
        return cls(
            name=ProfileName.DEMO,
            ingress_gateway=True,
            egress_gateway=True,
            access_logging=True,
            trace_sampling=100.0,
            istiod_resources=Resources.of("10m", "100Mi"),
            proxy_resources=Resources.of("10m", "40Mi", "2000m", "1024Mi"),
            gateway_resources=Resources.of("10m", "40Mi", "2000m", "1024Mi"),
        )

    @classmethod
    def minimal(cls) -> Profile:
        """istioctl's ``minimal``: the control plane only (the default profile without gateways)."""
        return replace(cls.default(), name=ProfileName.MINIMAL, ingress_gateway=False)

    @classmethod
    def named(cls, name: ProfileName | str) -> Profile:
        """The preset called ``name`` (``default``, ``demo`` or ``minimal``)."""
        factories = {ProfileName.DEFAULT: cls.default, ProfileName.DEMO: cls.demo, ProfileName.MINIMAL: cls.minimal}
        return factories[ProfileName(name)]()
