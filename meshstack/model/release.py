"""What a release is, and what an environment is: the split ``meshstack promote`` works by.

A **release** is what a team ships and tests in dev before prod runs it: which apps and versions
exist, their images, routes, traffic and security policies, rollout policies — and, only when
asked, the mesh version. An **environment** is what a stack is: sizes, replicas, HA, auth modes,
exposure, secrets, the cluster. Promoting dev to prod takes dev's release and prod's environment.

The split is declared on the model's fields themselves: ``Field(..., json_schema_extra=RELEASE)``
(or :data:`MESH_RELEASE` for the opt-in mesh version). Every other field is the environment's. A
mapping of models whose entries contain release fields (``apps.services``, an app's ``versions``)
is keyed by the release: an app or version exists in the promoted stack iff it exists in the
source. docs/cd.md#promotion lists the split; :func:`split_table` generates that list.

Everything here works on stack config in its wire form (camelCase keys, the same dicts a stack
file holds), so a promotion is a change of stack config that the model then validates as usual —
a dev release that breaks a prod rule fails with prod's path-named errors.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic.fields import FieldInfo

from meshstack.model.base import Model

#: Promoted with the release.
RELEASE: dict[str, Any] = {"promote": "release"}
#: Promoted only when asked (``meshstack promote --mesh-version``): the Istio version.
MESH_RELEASE: dict[str, Any] = {"promote": "mesh"}
#: Keys a model's wire form holds beyond its fields, with their models (samples under ``apps``).
Extras = Mapping[type[Model], Mapping[str, type[Model]]]
#: The groups a promotion can take: ``release`` always, ``mesh`` on request.
GROUPS = ("release", "mesh")


def _mark(field: FieldInfo) -> str | None:
    extra = field.json_schema_extra
    value = extra.get("promote") if isinstance(extra, Mapping) else None
    return value if isinstance(value, str) else None


def _models_in(annotation: Any) -> tuple[type[Model] | None, bool]:
    """(the Model class a field holds, whether it is a ``dict[str, Model]``), unwrapping ``X | None``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _models_in(arg)
            if found[0] is not None:
                return found
        return None, False
    if origin is dict:
        _, value = typing.get_args(annotation)
        inner, _ = _models_in(value)
        return inner, inner is not None
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation, False
    return None, False


def _by_key(model: type[Model]) -> dict[str, FieldInfo]:
    return {(f.alias or name): f for name, f in model.model_fields.items()}


def has_release(model: type[Model], _seen: frozenset[type[Model]] = frozenset()) -> bool:
    """Whether ``model`` or anything under it holds a release field."""
    if model in _seen:
        return False
    for field in model.model_fields.values():
        if _mark(field) is not None:
            return True
        inner, _ = _models_in(field.annotation)
        if inner is not None and has_release(inner, _seen | {model}):
            return True
    return False


def promote(
    model: type[Model],
    target: Mapping[str, Any],
    source: Mapping[str, Any],
    *,
    groups: tuple[str, ...] = ("release",),
    extras: Extras | None = None,
    section: bool = True,
) -> dict[str, Any]:
    """``target`` (wire form of ``model``) with its release replaced by ``source``'s.

    ``extras``: per model, keys outside its fields with their own model (the samples under
    ``apps``: ``{AppsConfig: {"bookinfo": BookinfoConfig}}``). ``section``: ``target`` keeps the
    nested parts it has even when ``source`` lacks them (a stack's sections); below a section, a
    part holding release fields (a sample) exists iff the source has it.
    """
    fields = _by_key(model)
    out: dict[str, Any] = {}
    for key in [*target, *(k for k in source if k not in target)]:
        field = fields.get(key)
        extra = (extras or {}).get(model, {}).get(key)
        if field is None and extra is None:
            if key in target:  # not ours to judge: the model reports unknown keys
                out[key] = target[key]
            continue
        mark = _mark(field) if field is not None else None
        inner, keyed = _models_in(field.annotation) if field is not None else (extra, False)
        if mark is not None:
            if mark in groups:
                if key in source:
                    out[key] = source[key]
            elif key in target:
                out[key] = target[key]
        elif inner is not None and has_release(inner):
            theirs, ours = source.get(key), target.get(key)
            if keyed:
                entries = theirs if isinstance(theirs, Mapping) else {}
                mine = ours if isinstance(ours, Mapping) else {}
                out[key] = {
                    name: promote(
                        inner, _mapping(mine.get(name)), _mapping(value), groups=groups, extras=extras, section=False
                    )
                    for name, value in entries.items()
                }
            elif (section and key in target) or key in source:
                out[key] = promote(inner, _mapping(ours), _mapping(theirs), groups=groups, extras=extras, section=False)
        elif key in target:
            out[key] = target[key]
    return out


def release_of(
    model: type[Model],
    config: Mapping[str, Any],
    *,
    groups: tuple[str, ...] = GROUPS,
    extras: Extras | None = None,
) -> dict[str, Any]:
    """The release parts of ``config`` alone (what a stack records of its release)."""
    return promote(model, {}, config, groups=groups, extras=extras, section=False)


def split_table(
    model: type[Model], prefix: str = "", _seen: frozenset[type[Model]] = frozenset()
) -> list[tuple[str, str]]:
    """``(config path, release|mesh|environment)`` for every field holding release fields and its
    neighbours: the table docs/cd.md shows."""
    rows: list[tuple[str, str]] = []
    if model in _seen:
        return rows
    for key, field in _by_key(model).items():
        path = f"{prefix}{key}"
        mark = _mark(field)
        inner, keyed = _models_in(field.annotation)
        if mark is not None:
            rows.append((path, mark))
        elif inner is not None and has_release(inner):
            rows.extend(split_table(inner, f"{path}.<name>." if keyed else f"{path}.", _seen | {model}))
        else:
            rows.append((path, "environment"))
    return rows


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
