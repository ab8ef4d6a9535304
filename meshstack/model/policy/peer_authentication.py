"""PeerAuthentication: which mTLS mode the app's sidecars accept, per workload and per port.

``STRICT`` refuses plaintext; a DestinationRule ``tls: DISABLE`` towards the same app would then
fail every call, so that combination is rejected at validation.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Model, Port
from meshstack.model.tls import MtlsMode


class PortMtls(Model):
    port: Port = Field(description="A container (target) port of the app.")
    mode: MtlsMode = Field(strict=False, description="mTLS mode on that port.")


class PeerAuthentication(Model):
    mode: MtlsMode = Field(MtlsMode.STRICT, strict=False, description="mTLS mode of the workload. Default: STRICT.")
    port_level_mtls: list[PortMtls] = Field(default_factory=list, description="Per-port overrides. Default: none.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        seen: set[int] = set()
        for i, entry in enumerate(self.port_level_mtls):
            if entry.port in seen:
                raise fail(f"port {entry.port} listed twice", ["portLevelMtls", i, "port"])
            seen.add(entry.port)
        return self

    @classmethod
    def strict(cls) -> PeerAuthentication:
        return cls(mode=MtlsMode.STRICT)

    @classmethod
    def permissive(cls) -> PeerAuthentication:
        return cls(mode=MtlsMode.PERMISSIVE)

    @property
    def is_strict_anywhere(self) -> bool:
        return self.mode is MtlsMode.STRICT or any(p.mode is MtlsMode.STRICT for p in self.port_level_mtls)
