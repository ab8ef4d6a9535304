"""One mesh app: a Service with one or more versions and the policies that govern its traffic.

Everything cross-referencing inside an app is validated here (versions a route, mirror,
blue/green names exist; ports named in policies exist; consistent hash vs weighted routes;
locality failover needs outlier detection; PeerAuthentication STRICT vs client tls DISABLE;
unreachable routes). Target-specific rules (Istio weights sum to 100, what Gateway API cannot
express) are checked by :class:`meshstack.model.apps.AppsConfig`, which knows the target.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from meshstack.errors import allowing, fail
from meshstack.model.base import DNS_LABEL, LabelKey, LabelValue, Model, Name, Port
from meshstack.model.policy.authorization import AuthorizationPolicy
from meshstack.model.policy.blue_green import BlueGreen
from meshstack.model.policy.circuit_breaker import CircuitBreaker
from meshstack.model.policy.client_tls import ClientTls
from meshstack.model.policy.exposure import Exposure
from meshstack.model.policy.load_balancer import LoadBalancer
from meshstack.model.policy.locality import LocalityFailover
from meshstack.model.policy.peer_authentication import PeerAuthentication
from meshstack.model.policy.rate_limit import LocalRateLimit
from meshstack.model.policy.request_authentication import RequestAuthentication
from meshstack.model.policy.route import Destination, HttpRoute
from meshstack.model.probe import Probe
from meshstack.model.release import RELEASE
from meshstack.model.resources import Resources
from meshstack.model.rollout.policy import Rollout
from meshstack.model.rollout.state import RolloutState
from meshstack.model.tls import TlsMode
from meshstack.model.workload import DEFAULT_RESOURCES, MountPath, PodSecurity


class Protocol(StrEnum):
    """Service port protocol; rendered as the port-name prefix and ``appProtocol`` (IST0118)."""

    HTTP = "http"
    HTTP2 = "http2"
    GRPC = "grpc"
    HTTPS = "https"
    TLS = "tls"
    TCP = "tcp"


PortName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        max_length=15,
        json_schema_extra=allowing("a DNS label of at most 15 characters"),
    ),
]
Image = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9]([a-z0-9._/:@-]*[A-Za-z0-9_.-])?$",
        max_length=512,
        json_schema_extra=allowing("a container image reference"),
    ),
]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=256)]


class ServicePort(Model):
    name: PortName = Field("http", description="Port name; prefixed with the protocol if it isn't. Default: http.")
    port: Port = Field(description="Service port.")
    target_port: Port | None = Field(None, description="Container port. Default: same as port.")
    protocol: Protocol = Field(Protocol.HTTP, strict=False, description="Application protocol. Default: http.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        head = self.name.split("-", 1)[0]
        if head in {p.value for p in Protocol} and head != self.protocol.value:
            raise fail(f"port name {self.name!r} says {head} but protocol is {self.protocol.value}", "name")
        return self

    @property
    def container_port(self) -> int:
        return self.target_port if self.target_port is not None else self.port

    @property
    def rendered_name(self) -> str:
        """Istio's protocol selection by port name: ``<protocol>`` or ``<protocol>-<suffix>``."""
        head = self.name.split("-", 1)[0]
        if head == self.protocol.value:
            return self.name
        return f"{self.protocol.value}-{self.name}"[:15].rstrip("-")

    @property
    def is_http(self) -> bool:
        return self.protocol in (Protocol.HTTP, Protocol.HTTP2, Protocol.GRPC)


class Version(Model):
    """One Deployment of the app, labelled ``app`` and ``version``."""

    image: Image | None = Field(
        None,
        description="Container image. Required in stack config; in Python it may instead come from another "
        "resource (MeshAppArgs.images).",
        json_schema_extra=RELEASE,
    )
    replicas: int = Field(1, ge=0, le=1000, description="Pods. Default: 1.")
    env: dict[EnvName, str] = Field(default_factory=dict, description="Environment variables. Default: none.")
    resources: Resources = Field(default=DEFAULT_RESOURCES, description="Default: 100m/128Mi requests, 256Mi limit.")
    security: PodSecurity = Field(
        default_factory=PodSecurity, description="Default: hardened (see PodSecurity).", json_schema_extra=RELEASE
    )
    writable_paths: list[MountPath] = Field(
        default_factory=list,
        description="emptyDir mounts for a read-only root filesystem. Default: none.",
        json_schema_extra=RELEASE,
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Extra pod labels. Default: none.", json_schema_extra=RELEASE
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(set(self.writable_paths)) != len(self.writable_paths):
            raise fail("duplicate path", "writablePaths")
        for key in self.labels:
            if key in ("app", "version"):
                raise fail("app and version labels are set by meshstack", ["labels", key])
        return self


class AppSpec(Model):
    """A service of the mesh and its policies (route + resilience + security), all optional."""

    ports: list[ServicePort] = Field(
        default_factory=lambda: [ServicePort(port=8080)],
        min_length=1,
        description="Default: http 8080.",
        json_schema_extra=RELEASE,
    )
    versions: dict[str, Version] = Field(
        min_length=1, description="Deployments by version name (a DNS label: v1, v2 …)."
    )
    service_account: Name | None = Field(
        None, description="ServiceAccount name. Default: the app name.", json_schema_extra=RELEASE
    )
    probe: Probe = Field(
        default_factory=Probe,
        description="Readiness and liveness check. Default: TCP on the first port.",
        json_schema_extra=RELEASE,
    )
    # routing
    routes: list[HttpRoute] = Field(
        default_factory=list,
        description="Ordered HTTP routes. Default: none (all versions).",
        json_schema_extra=RELEASE,
    )
    blue_green: BlueGreen | None = Field(
        None, description="Blue/green switch (instead of routes).", json_schema_extra=RELEASE
    )
    rollout: Rollout | None = Field(
        None,
        description="Progressive delivery from a stable to a canary version (meshstack rollout run).",
        json_schema_extra=RELEASE,
    )
    expose: Exposure | None = Field(None, description="Paths served by the ingress gateway. Default: mesh-only.")
    # resilience (DestinationRule)
    load_balancer: LoadBalancer | None = Field(
        None, description="Default: Istio's (LEAST_REQUEST).", json_schema_extra=RELEASE
    )
    circuit_breaker: CircuitBreaker | None = Field(None, description="Default: none.", json_schema_extra=RELEASE)
    locality_failover: LocalityFailover | None = Field(None, description="Default: none.")
    tls: ClientTls | None = Field(None, description="Client TLS towards the app. Default: Istio auto mTLS.")
    # security
    peer_authentication: PeerAuthentication | None = Field(None, description="Default: the namespace's/mesh's.")
    authorization: list[AuthorizationPolicy] = Field(
        default_factory=list, description="Default: none.", json_schema_extra=RELEASE
    )
    request_authentication: RequestAuthentication | None = Field(
        None, description="JWT. Default: none.", json_schema_extra=RELEASE
    )
    rate_limit: LocalRateLimit | None = Field(
        None, description="Local rate limit. Default: none.", json_schema_extra=RELEASE
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        for version in self.versions:
            if len(version) > 63 or not re.fullmatch(DNS_LABEL, version):
                raise fail(
                    "allowed: a DNS label (lowercase letters, digits and '-', at most 63 characters)",
                    ["versions", version],
                )
        names = [p.rendered_name for p in self.ports]
        for i, port in enumerate(self.ports):
            if names.index(port.rendered_name) != i:
                raise fail(f"port name {port.rendered_name!r} used twice", ["ports", i, "name"])
            if [p.port for p in self.ports].index(port.port) != i:
                raise fail(f"port {port.port} used twice", ["ports", i, "port"])
        if self.probe.port is not None and self.probe.port not in {p.container_port for p in self.ports}:
            raise fail(f"port {self.probe.port} is not a container port of the app", ["probe", "port"])
        ra = self.request_authentication
        if ra is not None and ra.require_jwt and not any(p.is_http for p in self.ports):
            raise fail(
                "requireJwt needs an HTTP port (a JWT rides on HTTP requests)", ["requestAuthentication", "requireJwt"]
            )
        if self.rollout is not None:
            self._check_rollout(self.rollout)
            images = {name: version.image for name, version in self.versions.items()}
            object.__setattr__(self, "rollout", self.rollout.with_images(images))
        if self.routes and self.blue_green is not None:
            raise fail("set routes or blueGreen, not both", "blueGreen")
        for i, route in enumerate(self.routes):
            for j, dest in enumerate(route.to):
                self._version(dest.version, ["routes", i, "to", j, "version"])
            if route.mirror is not None:
                self._version(route.mirror.version, ["routes", i, "mirror", "version"])
            if (not route.match or any(m.is_empty for m in route.match)) and i < len(self.routes) - 1:
                raise fail(
                    "this route matches every request, so the routes after it are unreachable; move it last",
                    ["routes", i, "match"],
                )
            for k, match in enumerate(route.match):
                if match.port is not None and match.port not in {p.port for p in self.ports}:
                    raise fail(f"port {match.port} is not a port of the app", ["routes", i, "match", k, "port"])
        if self.blue_green is not None:
            self._version(self.blue_green.active, ["blueGreen", "active"])
            if self.blue_green.preview is not None:
                self._version(self.blue_green.preview, ["blueGreen", "preview"])
        if (
            self.expose is not None
            and self.expose.port is not None
            and self.expose.port not in {p.port for p in self.ports}
        ):
            raise fail(f"port {self.expose.port} is not a port of the app", ["expose", "port"])
        if self.load_balancer is not None and self.load_balancer.consistent_hash is not None:
            for i, route in enumerate(self.routes):
                if route.splits_traffic:
                    raise fail(
                        f"consistent hashing cannot hold across weighted destinations (routes[{i}] splits "
                        "traffic between versions); use a simple algorithm or route to one version",
                        ["loadBalancer", "consistentHash"],
                    )
        if self.locality_failover is not None and not (
            self.circuit_breaker is not None and self.circuit_breaker.has_outlier_detection
        ):
            raise fail(
                "locality failover needs outlier detection: set circuitBreaker.consecutive5xxErrors (or another outlier field)",
                "localityFailover",
            )
        if (
            self.peer_authentication is not None
            and self.peer_authentication.is_strict_anywhere
            and self.tls is not None
            and self.tls.mode is TlsMode.DISABLE
        ):
            raise fail("tls DISABLE sends plaintext but the app's PeerAuthentication is STRICT", ["tls", "mode"])
        if self.peer_authentication is not None:
            container_ports = {p.container_port for p in self.ports}
            for i, pm in enumerate(self.peer_authentication.port_level_mtls):
                if pm.port not in container_ports:
                    raise fail(
                        f"port {pm.port} is not a container port of the app ({sorted(container_ports)})",
                        ["peerAuthentication", "portLevelMtls", i, "port"],
                    )
        names_seen: set[str] = set()
        for i, policy in enumerate(self.authorization):
            key = policy.name or str(i)
            if key in names_seen:
                raise fail(f"authorization policy name {key!r} used twice", ["authorization", i, "name"])
            names_seen.add(key)
        return self

    def _check_rollout(self, rollout: Rollout) -> None:
        self._version(rollout.stable, ["rollout", "stable"])
        self._version(rollout.canary, ["rollout", "canary"])
        if self.blue_green is not None:
            raise fail("set rollout or blueGreen, not both (a rollout has a blueGreen strategy)", "rollout")
        for i, route in enumerate(self.routes):
            if not route.match or any(m.is_empty for m in route.match):
                raise fail(
                    "with a rollout, the catch-all route is the rollout's: keep only matched routes here",
                    ["routes", i, "match"],
                )
        lb = self.load_balancer
        if lb is not None and lb.consistent_hash is not None and rollout.splits_traffic:
            raise fail(
                "consistent hashing cannot hold while the rollout's weight steps split traffic between versions",
                ["loadBalancer", "consistentHash"],
            )

    def at(self, state: RolloutState | None) -> AppSpec:
        """The app as it stands at a rollout position: the step's routes after the app's matched
        routes, the old or failed version scaled down or removed once cleaned up. Without a rollout,
        the app itself."""
        rollout = self.rollout
        if rollout is None:
            return self
        versions: dict[str, Version] = {}
        for name, version in self.versions.items():
            replicas = rollout.replicas_at(state, name, version.replicas)
            if replicas is not None:
                versions[name] = (
                    version if replicas == version.replicas else version.model_copy(update={"replicas": replicas})
                )
        routes = [*self.routes, *rollout.routes_at(state)]
        return self.model_copy(update={"versions": versions, "routes": routes, "rollout": None})

    def _version(self, name: str, loc: list[str | int]) -> None:
        if name not in self.versions:
            raise fail(f"unknown version {name!r}; the app's versions are {', '.join(self.versions)}", loc)

    # --- derived views used by render ----------------------------------------------------------

    def effective_routes(self) -> list[HttpRoute]:
        """Routes with blue/green expanded (preview match first, then everything to active)."""
        if self.blue_green is None:
            return list(self.routes)
        out = []
        bg = self.blue_green
        if bg.preview is not None and bg.preview_match is not None:
            out.append(HttpRoute(name="preview", match=[bg.preview_match], to=[Destination(version=bg.preview)]))
        out.append(HttpRoute(name="active", to=[Destination(version=bg.active)]))
        return out

    def default_route(self) -> HttpRoute | None:
        """The catch-all route (gateway traffic follows it), or None when traffic is unrestricted."""
        for route in self.effective_routes():
            if not route.match or any(m.is_empty for m in route.match):
                return route
        return None

    def primary_port(self, port: int | None = None) -> ServicePort:
        for p in self.ports:
            if port is None or p.port == port:
                return p
        return self.ports[0]

    @property
    def imageless_versions(self) -> list[str]:
        """Versions without an image (the component must be given one for each)."""
        return [name for name, version in self.versions.items() if version.image is None]

    @property
    def has_destination_policy(self) -> bool:
        return any(x is not None for x in (self.load_balancer, self.circuit_breaker, self.locality_failover, self.tls))
