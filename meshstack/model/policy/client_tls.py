"""Client-side TLS of calls to an app (DestinationRule ``trafficPolicy.tls``).

``ISTIO_MUTUAL`` uses the mesh certificates (Bookinfo's destination-rule-all-mtls);
``DISABLE`` sends plaintext and conflicts with a STRICT PeerAuthentication of the app or its
namespace (rejected at validation).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from meshstack.model.base import Model


class TlsMode(StrEnum):
    DISABLE = "DISABLE"
    SIMPLE = "SIMPLE"
    MUTUAL = "MUTUAL"
    ISTIO_MUTUAL = "ISTIO_MUTUAL"


class ClientTls(Model):
    mode: TlsMode = Field(strict=False, description="TLS mode for connections to the app.")
    credential_name: str | None = Field(
        None, min_length=1, max_length=253, description="Secret with client certs (SIMPLE/MUTUAL)."
    )
    sni: str | None = Field(None, min_length=1, max_length=253, description="SNI to present. Unset: none.")

    @classmethod
    def istio_mutual(cls) -> ClientTls:
        return cls(mode=TlsMode.ISTIO_MUTUAL)

    @classmethod
    def disabled(cls) -> ClientTls:
        return cls(mode=TlsMode.DISABLE)

    def to_istio(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode.value}
        if self.credential_name is not None:
            out["credentialName"] = self.credential_name
        if self.sni is not None:
            out["sni"] = self.sni
        return out
