"""strict-mtls: the mesh runs STRICT mutual TLS, and nothing weakens it.

* a mesh-wide PeerAuthentication exists — in Istio's root namespace, without a selector — with
  ``spec.mtls.mode: STRICT`` (unset means PERMISSIVE: Istio's default);
* no PeerAuthentication anywhere sets ``spec.mtls.mode`` or a ``spec.portLevelMtls`` mode to
  PERMISSIVE or DISABLE (STRICT and UNSET, which inherits, are allowed);
* no DestinationRule turns TLS off (``tls.mode: DISABLE``, on its traffic policy, a port of it, a
  subset or a subset's port) towards an in-mesh host: anything but a host of a MESH_EXTERNAL
  ServiceEntry.

The root namespace is the ``rootNamespace`` of the mesh config istiod's chart renders (the
``istio`` ConfigMap), else the namespace istiod runs in, else ``istio-system``.

A stack-wide rule: whether mTLS is STRICT depends on the mesh-wide policy and every other one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from meshstack.guardrails.core import (
    Resource,
    Violation,
    dig,
    host_matches,
    mapping,
    qualify,
    quoted,
    sequence,
    service_entry_hosts,
    text,
)

NAME = "strict-mtls"
DESCRIPTION = "STRICT mTLS mesh-wide; no PeerAuthentication or DestinationRule weakens it."
DEFAULT_ROOT_NAMESPACE = "istio-system"
WEAK_MODES = ("PERMISSIVE", "DISABLE")
PA_ALLOWED = "allowed: STRICT, or UNSET (inherits the mesh's STRICT)"


def root_namespace(resources: Sequence[Resource]) -> str:
    """Istio's root namespace for this stack."""
    for r in resources:
        if r.is_kubernetes and r.kind == "ConfigMap" and (r.name == "istio" or r.name.startswith("istio-")):
            raw = text(dig(r.props, "data", "mesh"))
            if raw is None:
                continue
            try:
                root = dig(yaml.safe_load(raw), "rootNamespace")
            except yaml.YAMLError:
                continue
            if isinstance(root, str) and root:
                return root
    for r in resources:
        if r.is_kubernetes and r.kind == "Deployment" and r.labels.get("app") == "istiod" and r.namespace:
            return r.namespace
    for r in resources:  # a chart component's inputs (visible under mocks, not to the engine's policies)
        chart = text(r.props.get("chart"))
        if r.type.startswith("kubernetes:helm.sh/") and chart and chart.rstrip("/").endswith("istiod"):
            ns = text(r.props.get("namespace"))
            if ns:
                return ns
    return DEFAULT_ROOT_NAMESPACE


def _selects_workloads(pa: Resource) -> bool:
    selector = mapping(pa.spec.get("selector"))
    return bool(mapping(selector.get("matchLabels")))


def check(resources: Sequence[Resource]) -> list[Violation]:
    root = root_namespace(resources)
    external = service_entry_hosts(resources, external_only=True)
    out: list[Violation] = []
    mesh_wide: list[Resource] = []
    for res in resources:
        if not res.is_kubernetes:
            continue
        if res.kind == "PeerAuthentication":
            if res.namespace == root and not _selects_workloads(res):
                mesh_wide.append(res)
            out += [Violation(m, res.urn) for m in _peer_authentication(res, root)]
        elif res.kind == "DestinationRule":
            out += [Violation(m, res.urn) for m in _destination_rule(res, external)]
    if not mesh_wide:
        out.append(
            Violation(
                f"no mesh-wide mTLS policy: the stack has no PeerAuthentication in the root namespace {root} "
                "without a selector; it needs one with spec.mtls.mode: STRICT"
            )
        )
    return out


def _peer_authentication(res: Resource, root: str) -> list[str]:
    out: list[str] = []
    mode = dig(res.spec, "mtls", "mode")
    is_mesh_wide = res.namespace == root and not _selects_workloads(res)
    if is_mesh_wide and (mode is None or mode in ("UNSET", *WEAK_MODES)):
        shown = quoted(mode) if mode is not None else "not set (Istio's default: PERMISSIVE)"
        out.append(
            f"{res.ref}: spec.mtls.mode is {shown} on the mesh-wide policy (root namespace {root}, no selector); "
            "allowed: STRICT"
        )
    elif mode in WEAK_MODES:
        out.append(f"{res.ref}: spec.mtls.mode is {quoted(mode)}; {PA_ALLOWED}")
    for port, setting in mapping(res.spec.get("portLevelMtls")).items():
        port_mode = dig(setting, "mode")
        if port_mode in WEAK_MODES:
            out.append(f'{res.ref}: spec.portLevelMtls["{port}"].mode is {quoted(port_mode)}; {PA_ALLOWED}')
    return out


def _tls_settings(spec: Any) -> Iterator[tuple[str, Any]]:
    """(path, tls mode) of every TLS setting of a DestinationRule spec."""

    def policy(prefix: str, tp: Any) -> Iterator[tuple[str, Any]]:
        yield f"{prefix}.tls.mode", dig(tp, "tls", "mode")
        for k, port in enumerate(sequence(dig(tp, "portLevelSettings"))):
            yield f"{prefix}.portLevelSettings[{k}].tls.mode", dig(port, "tls", "mode")

    yield from policy("spec.trafficPolicy", dig(spec, "trafficPolicy"))
    for j, subset in enumerate(sequence(dig(spec, "subsets"))):
        yield from policy(f"spec.subsets[{j}].trafficPolicy", dig(subset, "trafficPolicy"))


def _destination_rule(res: Resource, external: set[str]) -> list[str]:
    host = text(res.spec.get("host"))
    if host is None:
        return []
    fqdn = qualify(host, res.namespace)
    if any(host_matches(entry, fqdn) for entry in external):
        return []
    return [
        f"{res.ref}: {path} is DISABLE for the in-mesh host {fqdn}: plaintext past the mesh's STRICT mTLS; "
        "allowed: ISTIO_MUTUAL, or unset (Istio's auto mTLS)"
        for path, mode in _tls_settings(res.spec)
        if mode == "DISABLE"
    ]
