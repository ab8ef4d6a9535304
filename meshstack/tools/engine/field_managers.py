"""Server-side apply field managers that a killed update left behind (docs/cd.md#a-killed-job).

pulumi-kubernetes applies each object with a field manager of its own (``pulumi-kubernetes-<random>``)
and records that name in the stack's state. When a job is killed before it records a create, the
object stays in the cluster with its fields owned by the dead job's manager, which no later update
uses. ``meshstack recover`` adopts such objects (a forced apply under a new manager, recorded), but
every field whose value did not change stays *co-owned* by the dead manager, so the next change of
such a field (a replica count, an image) is an apply conflict.

:func:`release` removes those entries: for each Kubernetes object of the stack, the ``Apply``
entries of other ``pulumi-kubernetes-*`` managers that no resource of the stack records, and only
those whose fields the stack's own manager also owns (so nothing is left unowned, and another
program's manager that owns anything else is left alone). The removal is a JSON patch that first
tests each entry's manager name, so an object changed meanwhile is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: The field manager names pulumi-kubernetes makes up (``fieldManagerName``: a random suffix).
PULUMI_MANAGER = re.compile(r"^pulumi-kubernetes-[0-9a-z]+$")


@dataclass(frozen=True)
class StackObject:
    """A Kubernetes object of the stack as its state records it."""

    api_version: str
    kind: str
    name: str
    namespace: str | None
    manager: str


def stack_objects(deployment: Mapping[str, Any]) -> list[StackObject]:
    """The Kubernetes objects of an exported deployment (``pulumi stack export``), with the field
    manager each was applied with."""
    out: list[StackObject] = []
    for resource in deployment.get("resources") or []:
        outputs = resource.get("outputs") or {}
        meta = outputs.get("metadata")
        manager = outputs.get("__fieldManager")
        if not str(resource.get("type", "")).startswith("kubernetes:") or not isinstance(meta, Mapping):
            continue
        if not isinstance(manager, str) or not outputs.get("apiVersion") or not outputs.get("kind"):
            continue
        namespace = meta.get("namespace")
        out.append(
            StackObject(
                outputs["apiVersion"],
                outputs["kind"],
                str(meta.get("name")),
                namespace if isinstance(namespace, str) and namespace else None,
                manager,
            )
        )
    return out


def covered(fields: Mapping[str, Any], by: Mapping[str, Any]) -> bool:
    """Every field in ``fields`` (a ``fieldsV1`` set: nested ``f:``/``k:``/``v:``/``i:`` keys, ``.``
    for the node itself) is in ``by``."""
    for key, sub in fields.items():
        if key not in by:
            return False
        if isinstance(sub, Mapping) and sub and not covered(sub, by[key] if isinstance(by[key], Mapping) else {}):
            return False
    return True


def stale(managed_fields: list[Mapping[str, Any]], ours: str, known: Iterable[str]) -> list[int]:
    """Indexes of the entries to remove from an object's ``managedFields``: ``Apply`` entries of a
    ``pulumi-kubernetes-*`` manager other than ``ours`` and not among ``known`` (the managers the
    stack records), each of whose fields an ``Apply`` entry of ``ours`` for the same API version and
    subresource also owns. None when ``ours`` owns nothing here."""
    recorded = {ours, *known}
    mine = [e for e in managed_fields if e.get("manager") == ours and e.get("operation") == "Apply"]
    out: list[int] = []
    for index, entry in enumerate(managed_fields):
        manager = str(entry.get("manager") or "")
        if manager in recorded or not PULUMI_MANAGER.match(manager) or entry.get("operation") != "Apply":
            continue
        same = [
            m
            for m in mine
            if m.get("apiVersion") == entry.get("apiVersion")
            and (m.get("subresource") or "") == (entry.get("subresource") or "")
        ]
        if any(covered(entry.get("fieldsV1") or {}, m.get("fieldsV1") or {}) for m in same):
            out.append(index)
    return out


def removal(managed_fields: list[Mapping[str, Any]], indexes: Iterable[int]) -> list[dict[str, Any]]:
    """A JSON patch removing those entries, each guarded by a test of its manager's name (highest
    index first, so each path still points at its entry)."""
    ops: list[dict[str, Any]] = []
    for index in sorted(indexes, reverse=True):
        path = f"/metadata/managedFields/{index}"
        ops.append({"op": "test", "path": f"{path}/manager", "value": managed_fields[index]["manager"]})
        ops.append({"op": "remove", "path": path})
    return ops


def release(deployment: Mapping[str, Any], api_client: Any) -> dict[str, int]:
    """Remove, from every Kubernetes object of the stack in the cluster ``api_client`` talks to,
    the entries :func:`stale` finds. Returns how many objects were looked at and changed, and how
    many entries were removed. Objects that are gone, or changed meanwhile, are skipped."""
    from kubernetes.client.exceptions import ApiException  # noqa: PLC0415 - only `recover` needs the client
    from kubernetes.dynamic import DynamicClient  # noqa: PLC0415
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError  # noqa: PLC0415

    objects = stack_objects(deployment)
    known = {o.manager for o in objects}
    dynamic = DynamicClient(api_client)
    done = {"objects": 0, "changed": 0, "entries": 0}
    for obj in objects:
        try:
            api = dynamic.resources.get(api_version=obj.api_version, kind=obj.kind)
            live = api.get(name=obj.name, namespace=obj.namespace).to_dict()
        except (ResourceNotFoundError, DynamicApiError, ApiException):
            continue
        done["objects"] += 1
        managed = list((live.get("metadata") or {}).get("managedFields") or [])
        indexes = stale(managed, obj.manager, known)
        if not indexes:
            continue
        try:
            api.patch(
                body=removal(managed, indexes),
                name=obj.name,
                namespace=obj.namespace,
                content_type="application/json-patch+json",
            )
        except (DynamicApiError, ApiException):
            continue  # changed meanwhile (the test op failed) or gone: the next recover looks again
        done["changed"] += 1
        done["entries"] += len(indexes)
    return done
