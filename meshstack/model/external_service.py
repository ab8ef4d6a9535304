"""External services the mesh may reach when outbound traffic is REGISTRY_ONLY (ServiceEntries).

``mesh.externalServices.<name>: {hosts: [api.example.com], ports: [{number: 443, protocol: TLS}]}``
becomes a ServiceEntry (MESH_EXTERNAL) in the control-plane namespace, exported to every namespace.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Model, Port
from meshstack.model.hosts import Hostname


class ExternalProtocol(StrEnum):
    HTTP = "HTTP"
    HTTPS = "HTTPS"
    HTTP2 = "HTTP2"
    GRPC = "GRPC"
    TLS = "TLS"
    TCP = "TCP"


class Resolution(StrEnum):
    """DNS: resolve the hosts. NONE: pass through to the requested address (wildcard hosts)."""

    DNS = "DNS"
    NONE = "NONE"


class ExternalPort(Model):
    number: Port = Field(description="The port the service listens on.")
    protocol: ExternalProtocol = Field(ExternalProtocol.TLS, strict=False, description="Its protocol. Default: TLS.")


class ExternalService(Model):
    """Hosts outside the mesh that workloads may call."""

    hosts: list[Hostname] = Field(min_length=1, description="Host names (wildcards like *.example.com allowed).")
    ports: list[ExternalPort] = Field(
        default_factory=lambda: [ExternalPort(number=443)], min_length=1, description="Default: TLS 443."
    )
    resolution: Resolution = Field(Resolution.DNS, strict=False, description="DNS (default) or NONE (wildcards).")

    @model_validator(mode="after")
    def _check(self) -> Self:
        for i, host in enumerate(self.hosts):
            if host == "*":
                raise fail("'*' would open every host; name the hosts", ["hosts", i])
            if host.startswith("*.") and self.resolution is Resolution.DNS:
                raise fail(f"{host} cannot be resolved by DNS; use resolution NONE", ["hosts", i])
        numbers = [p.number for p in self.ports]
        if len(set(numbers)) != len(numbers):
            raise fail("a port is listed twice", "ports")
        return self

    @classmethod
    def tls(cls, *hosts: str, port: int = 443) -> ExternalService:
        """``ExternalService.tls("api.example.com")``: TLS on 443."""
        return cls(hosts=list(hosts), ports=[ExternalPort(number=port, protocol=ExternalProtocol.TLS)])
