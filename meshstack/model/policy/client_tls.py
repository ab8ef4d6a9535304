"""Client-side TLS of calls to an app (DestinationRule ``trafficPolicy.tls``).

``ISTIO_MUTUAL`` uses the mesh certificates (Bookinfo's destination-rule-all-mtls);
``DISABLE`` sends plaintext and conflicts with a STRICT PeerAuthentication of the app or its
namespace (rejected at validation).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from meshstack.errors import fail
from meshstack.model.base import Model
from meshstack.model.tls import CLIENT_TLS_MODES, TlsMode, allowed


class ClientTls(Model):
    mode: TlsMode = Field(strict=False, description="TLS mode for connections to the app.")
    credential_name: str | None = Field(
        None, min_length=1, max_length=253, description="Secret with client certs (SIMPLE/MUTUAL)."
    )
    sni: str | None = Field(None, min_length=1, max_length=253, description="SNI to present. Unset: none.")
    ca_certificates: str | None = Field(
        None,
        pattern=r"^/[-A-Za-z0-9._/]*$",
        max_length=1024,
        description="CA bundle (a file in the proxy) verifying the server; required for SIMPLE and MUTUAL.",
    )

    @model_validator(mode="after")
    def _client_mode(self) -> ClientTls:
        if self.mode not in CLIENT_TLS_MODES:
            raise fail(f"{self.mode.value} is a gateway-server mode; allowed: {allowed(CLIENT_TLS_MODES)}", "mode")
        if self.mode in (TlsMode.SIMPLE, TlsMode.MUTUAL) and self.ca_certificates is None:
            raise fail(
                f"{self.mode.value} TLS without caCertificates would not verify the server (istioctl IST0128)",
                "caCertificates",
            )
        return self

    @classmethod
    def istio_mutual(cls) -> ClientTls:
        return cls(mode=TlsMode.ISTIO_MUTUAL)

    @classmethod
    def disabled(cls) -> ClientTls:
        return cls(mode=TlsMode.DISABLE)
