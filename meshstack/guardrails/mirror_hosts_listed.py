"""mirror-hosts-listed: traffic is copied only to hosts the stack itself declares.

A mirror copies live requests — headers, tokens, bodies — to another host. The hosts allowed are
the stack's own: its Kubernetes Services (``name``, ``name.ns``, ``name.ns.svc``,
``name.ns.svc.cluster.local``) and the hosts of its ServiceEntries (wildcards included). Checked:
VirtualService ``spec.http[].mirror.host`` and ``spec.http[].mirrors[].destination.host`` (short
names resolve in the VirtualService's namespace), and HTTPRoute ``RequestMirror`` filters
(``backendRef``: a Service of the stack, or an Istio ``Hostname`` among the ServiceEntry hosts).

A stack-wide rule: it needs every Service and ServiceEntry the stack registers.
"""

from __future__ import annotations

from collections.abc import Sequence

from meshstack.guardrails.core import (
    CLUSTER_DOMAIN,
    Resource,
    Violation,
    dig,
    host_matches,
    mapping,
    qualify,
    quoted,
    sequence,
    service_entry_hosts,
    service_hosts,
    text,
)

NAME = "mirror-hosts-listed"
DESCRIPTION = "Traffic is mirrored only to hosts the stack declares (its Services and ServiceEntries)."
#: How many declared hosts a message lists.
SHOWN = 6


def check(resources: Sequence[Resource]) -> list[Violation]:
    services = service_hosts(resources)
    entries = service_entry_hosts(resources)
    out: list[Violation] = []
    for res in resources:
        if not res.is_kubernetes:
            continue
        if res.kind == "VirtualService":
            for i, route in enumerate(sequence(res.spec.get("http"))):
                targets = [(f"spec.http[{i}].mirror.host", dig(route, "mirror", "host"))]
                targets += [
                    (f"spec.http[{i}].mirrors[{j}].destination.host", dig(m, "destination", "host"))
                    for j, m in enumerate(sequence(mapping(route).get("mirrors")))
                ]
                for path, host in targets:
                    if isinstance(host, str) and not _declared(qualify(host, res.namespace), services, entries):
                        out.append(Violation(_message(res, path, host, services, entries), res.urn))
        elif res.kind == "HTTPRoute":
            for i, rule in enumerate(sequence(res.spec.get("rules"))):
                for j, flt in enumerate(sequence(mapping(rule).get("filters"))):
                    if dig(flt, "type") != "RequestMirror":
                        continue
                    ref = mapping(dig(flt, "requestMirror", "backendRef"))
                    name = text(ref.get("name"))
                    if name is None:
                        continue
                    path = f"spec.rules[{i}].filters[{j}].requestMirror.backendRef"
                    if text(ref.get("kind")) == "Hostname":
                        host = name
                    else:
                        host = f"{name}.{text(ref.get('namespace')) or res.namespace or 'default'}.{CLUSTER_DOMAIN}"
                    if not _declared(host, services, entries):
                        out.append(Violation(_message(res, path, host, services, entries), res.urn))
    return out


def _declared(host: str, services: set[str], entries: set[str]) -> bool:
    if host in services:
        return True
    # ``name.ns`` and ``name.ns.svc`` name the Service as well.
    if f"{host}.{CLUSTER_DOMAIN}" in services:
        return True
    return any(host_matches(entry, host) for entry in entries)


def _message(res: Resource, path: str, host: str, services: set[str], entries: set[str]) -> str:
    ns = res.namespace or "default"
    declared = sorted(services | entries, key=lambda h: (f".{ns}." not in h, h))
    shown = ", ".join(declared[:SHOWN]) + (f", … ({len(declared)} in all)" if len(declared) > SHOWN else "")
    return (
        f"{res.ref}: {path} {quoted(host)} is not a host this stack declares; mirror only to the stack's "
        f"Services or ServiceEntry hosts ({shown or 'none declared'})"
    )
