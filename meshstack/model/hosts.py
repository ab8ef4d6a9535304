"""Host names as Istio accepts them, checked at the model so a bad host never reaches a cluster.

* :data:`Hostname` — a VirtualService / ServiceEntry host: ``*``, a DNS name (``shop.example.com``,
  a short name ``reviews``, an IPv4 address) or a wildcard whose leftmost label is ``*``
  (``*.example.com``). Lowercase DNS-1123 labels of at most 63 characters, at most 253 in all; no
  port, scheme, path, CIDR or Unicode (Istio's ``ValidateWildcardDomain``).
* :data:`GatewayHost` — a Gateway server host: a :data:`Hostname` optionally scoped by a namespace,
  ``<namespace>/<host>``, where the namespace is ``*``, ``.`` or a namespace name (Istio's
  ``validateNamespaceSlashWildcardHostname``).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from meshstack.errors import allowing, fail

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
HOST_TEXT = "'*', a lowercase DNS name (labels of a-z, 0-9 and '-', at most 63 characters each), or '*.' and a DNS name"


def host_problem(host: str) -> str | None:
    """Why ``host`` is not a host Istio accepts, or None."""
    if host == "*":
        return None
    if not host:
        return "empty"
    if len(host) > 253:
        return f"{len(host)} characters; a host name has at most 253"
    if "://" in host:
        return "a host, not a URL: drop the scheme"
    if ":" in host:
        return "a host without a port: ports belong to the server or route"
    if "/" in host:
        return "a host has no '/' (no path, no CIDR)"
    name = host[2:] if host.startswith("*.") else host
    if not name:
        return "a wildcard needs a domain after '*.'"
    for label in name.split("."):
        if "*" in label:
            return "'*' may only be the whole leftmost label ('*.example.com')"
        if len(label) > 63:
            return f"label of {len(label)} characters; DNS labels have at most 63"
        if not _LABEL.fullmatch(label):
            return f"label {label!r} is not a lowercase DNS label (a-z, 0-9 and '-', not at either end)"
    return None


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 60 else repr(value[:57] + "...")


def _hostname(value: str) -> str:
    if problem := host_problem(value):
        raise fail(f"{_shown(value)} is not a valid host: {problem}; allowed: {HOST_TEXT}")
    return value


def _gateway_host(value: str) -> str:
    if "/" in value and "://" not in value:
        namespace, _, host = value.partition("/")
        if namespace not in ("*", ".") and not _NAMESPACE.fullmatch(namespace):
            raise fail(f"{_shown(value)}: {namespace!r} is not '*', '.' or a namespace name")
        value_host = host
    else:
        value_host = value
    if problem := host_problem(value_host):
        raise fail(f"{_shown(value)} is not a valid host: {problem}; allowed: [namespace/]host with host {HOST_TEXT}")
    if value_host != "*" and "." not in value_host:
        raise fail(f"{_shown(value)}: a gateway serves fully qualified names (shop.example.com), not short names")
    return value


Hostname = Annotated[
    str,
    Field(min_length=1, max_length=253, json_schema_extra=allowing(f"{HOST_TEXT}")),
    AfterValidator(_hostname),
]
GatewayHost = Annotated[
    str,
    Field(min_length=1, max_length=317, json_schema_extra=allowing(f"[namespace/]host, the host {HOST_TEXT}")),
    AfterValidator(_gateway_host),
]
