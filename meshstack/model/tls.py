"""The TLS vocabulary shared by every model object: one ``MtlsMode`` and one ``TlsMode``.

``MtlsMode`` is what a server-side sidecar accepts (PeerAuthentication: mesh-wide, namespace,
workload or port). ``TlsMode`` is how a connection is secured: client side (DestinationRule
``trafficPolicy.tls``) or at a gateway server. Each place allows the modes Istio allows there
(:data:`CLIENT_TLS_MODES`, :data:`SERVER_TLS_MODES`).
"""

from __future__ import annotations

from enum import StrEnum


class MtlsMode(StrEnum):
    """STRICT: only mTLS accepted. PERMISSIVE: mTLS and plaintext (migration). DISABLE: plaintext
    only. UNSET: inherit from the parent (namespace, then mesh); not valid mesh-wide."""

    UNSET = "UNSET"
    DISABLE = "DISABLE"
    PERMISSIVE = "PERMISSIVE"
    STRICT = "STRICT"


class TlsMode(StrEnum):
    """DISABLE: plaintext. SIMPLE: TLS (a gateway terminates with ``credentialName``). MUTUAL: TLS
    with client certificates. ISTIO_MUTUAL: the mesh's certificates. PASSTHROUGH: a gateway routes
    on SNI without terminating."""

    DISABLE = "DISABLE"
    SIMPLE = "SIMPLE"
    MUTUAL = "MUTUAL"
    ISTIO_MUTUAL = "ISTIO_MUTUAL"
    PASSTHROUGH = "PASSTHROUGH"


#: Modes of a DestinationRule's client TLS (ClientTLSSettings).
CLIENT_TLS_MODES = (TlsMode.DISABLE, TlsMode.SIMPLE, TlsMode.MUTUAL, TlsMode.ISTIO_MUTUAL)
#: Modes of a gateway server (ServerTLSSettings).
SERVER_TLS_MODES = (TlsMode.SIMPLE, TlsMode.MUTUAL, TlsMode.PASSTHROUGH, TlsMode.ISTIO_MUTUAL)


def allowed(modes: tuple[TlsMode, ...]) -> str:
    return ", ".join(m.value for m in modes)
