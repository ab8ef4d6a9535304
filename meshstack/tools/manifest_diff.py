"""Object-level differences between two renders (``meshstack diff``): which Kubernetes objects
are added, removed or changed, and for a changed one each field path with its old and new value.

Objects are matched by (apiVersion, kind, namespace, name). Fields are compared recursively:
mappings key by key; lists whose items are all mappings with a unique ``name`` (containers,
ports, env, webhooks …) item by name, as ``containers[name=discovery]``; any other list position
by position, as ``args[2]``. A path names mapping keys that are not plain identifiers in
brackets: ``metadata.annotations["pulumi.com/waitFor"]``.

Pure: no Pulumi, no processes.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from meshstack.tools.canonical import ObjectKey, apply_order, object_key

Op = Literal["added", "removed", "changed"]
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class FieldChange:
    """One field of a changed object: ``old`` is None when ``op`` is added, ``new`` when removed."""

    path: str
    op: Op
    old: Any = None
    new: Any = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "op": self.op}
        if self.op != "added":
            out["old"] = self.old
        if self.op != "removed":
            out["new"] = self.new
        return out


@dataclass(frozen=True)
class ObjectChange:
    key: ObjectKey
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class RenderDiff:
    """What changes from render A to render B, each list in install order."""

    added: tuple[ObjectKey, ...] = ()
    removed: tuple[ObjectKey, ...] = ()
    changed: tuple[ObjectChange, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_json(self) -> dict[str, Any]:
        return {
            "added": [_key_json(k) for k in self.added],
            "removed": [_key_json(k) for k in self.removed],
            "changed": [{**_key_json(c.key), "fields": [f.as_json() for f in c.fields]} for c in self.changed],
        }


class DuplicateObject(ValueError):
    """A render holds one object twice: it cannot be compared object by object."""


def _key_json(key: ObjectKey) -> dict[str, str]:
    api_version, kind, namespace, name = key
    return {"apiVersion": api_version, "kind": kind, "namespace": namespace, "name": name}


def describe(key: ObjectKey) -> str:
    """``apps/v1 Deployment istio-system/istiod`` (no namespace part for a cluster-scoped object)."""
    api_version, kind, namespace, name = key
    return f"{api_version} {kind} {namespace}/{name}" if namespace else f"{api_version} {kind} {name}"


def _index(objects: Sequence[Mapping[str, Any]], side: str) -> dict[ObjectKey, Mapping[str, Any]]:
    out: dict[ObjectKey, Mapping[str, Any]] = {}
    for obj in objects:
        key = object_key(obj)
        if key in out:
            raise DuplicateObject(f"render {side} holds {describe(key)} twice")
        out[key] = obj
    return out


def diff_renders(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> RenderDiff:
    """The differences from the objects of render ``a`` to those of render ``b``."""
    old, new = _index(a, "A"), _index(b, "B")

    def ordered(keys: set[ObjectKey], side: dict[ObjectKey, Mapping[str, Any]]) -> tuple[ObjectKey, ...]:
        return tuple(sorted(keys, key=lambda k: apply_order(side[k])))

    changed = []
    for key in ordered(old.keys() & new.keys(), old):
        fields = tuple(diff_values(old[key], new[key]))
        if fields:
            changed.append(ObjectChange(key, fields))
    return RenderDiff(
        added=ordered(new.keys() - old.keys(), new),
        removed=ordered(old.keys() - new.keys(), old),
        changed=tuple(changed),
    )


def _key_path(path: str, key: str) -> str:
    if _PLAIN.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _named_items(items: Sequence[Any]) -> dict[str, Any] | None:
    """The items of a list of named mappings by name; None unless every item has a unique name."""
    names = [i.get("name") if isinstance(i, Mapping) else None for i in items]
    named = {n: i for n, i in zip(names, items, strict=True) if isinstance(n, str)}
    return named if items and len(named) == len(items) else None


def diff_values(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    """The field changes from ``old`` to ``new`` below ``path``, in key order."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[FieldChange] = []
        for key in sorted(old.keys() | new.keys(), key=str):
            where = _key_path(path, str(key))
            if key not in new:
                out.append(FieldChange(where, "removed", old=old[key]))
            elif key not in old:
                out.append(FieldChange(where, "added", new=new[key]))
            else:
                out += diff_values(old[key], new[key], where)
        return out
    if isinstance(old, list) and isinstance(new, list):
        by_name_old, by_name_new = _named_items(old), _named_items(new)
        if by_name_old is not None and by_name_new is not None:
            return diff_values_named(by_name_old, by_name_new, path)
        out = []
        for i in range(max(len(old), len(new))):
            where = f"{path}[{i}]"
            if i >= len(new):
                out.append(FieldChange(where, "removed", old=old[i]))
            elif i >= len(old):
                out.append(FieldChange(where, "added", new=new[i]))
            else:
                out += diff_values(old[i], new[i], where)
        return out
    if old == new and type(old) is type(new):
        return []
    return [FieldChange(path, "changed", old=old, new=new)]


def diff_values_named(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[FieldChange]:
    """:func:`diff_values` of two lists of named mappings, item by name (in the new list's order,
    then the removed items)."""
    out: list[FieldChange] = []
    for name in [*new, *(n for n in old if n not in new)]:
        where = f"{path}[name={name}]"
        if name not in new:
            out.append(FieldChange(where, "removed", old=old[name]))
        elif name not in old:
            out.append(FieldChange(where, "added", new=new[name]))
        else:
            out += diff_values(old[name], new[name], where)
    return out


def _shown(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def format_diff(diff: RenderDiff, a: str, b: str) -> str:
    """The diff for people: one line per object (``+`` added, ``-`` removed, ``~`` changed) and,
    under a changed one, one line per field (long values shortened; of a multi-line string, the
    lines removed and added)."""
    lines = [f"--- {a}", f"+++ {b}"]
    lines += [f"+ {describe(k)}" for k in diff.added]
    lines += [f"- {describe(k)}" for k in diff.removed]
    for change in diff.changed:
        lines.append(f"~ {describe(change.key)}")
        for f in change.fields:
            if f.op == "added":
                lines.append(f"    {f.path}: + {_shown(f.new)}")
            elif f.op == "removed":
                lines.append(f"    {f.path}: - {_shown(f.old)}")
            elif isinstance(f.old, str) and isinstance(f.new, str) and "\n" in f.old + f.new:
                # A config file in a string (a ConfigMap's mesh config): the lines that change.
                lines.append(f"    {f.path}:")
                changed = difflib.unified_diff(f.old.splitlines(), f.new.splitlines(), lineterm="", n=0)
                lines += [f"      {line}" for line in changed if not line.startswith(("---", "+++", "@@"))]
            else:
                lines.append(f"    {f.path}: {_shown(f.old)} → {_shown(f.new)}")
    lines.append(f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed")
    return "\n".join(lines) + "\n"
