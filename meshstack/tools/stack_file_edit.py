"""Rewrite the ``config:`` of a stack file in place, keeping what a person wrote around it.

``meshstack promote`` records the promoted release in the target's stack file for the pipeline
to commit. A plain YAML dump would drop the file's comments (the prod file explains its choices
in them) and reorder keys; this edit changes only the values that differ, so the commit's diff is
exactly the promotion.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _merge(node: CommentedMap, new: Mapping[str, Any]) -> None:
    for key in [k for k in node if k not in new]:
        del node[key]
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(node.get(key), CommentedMap):
            _merge(node[key], value)
        elif key not in node or node[key] != value:
            node[key] = value


def update_stack_file(path: Path, config: Mapping[str, Any], *, out: Path | None = None) -> None:
    """Make ``path``'s ``config:`` equal ``config`` (written to ``out`` if given, else in place)."""
    yaml = _yaml()
    doc = yaml.load(path.read_text()) if path.exists() else None
    if not isinstance(doc, CommentedMap):
        doc = CommentedMap()
    if not isinstance(doc.get("config"), CommentedMap):
        doc["config"] = CommentedMap()
    _merge(doc["config"], config)
    with (out or path).open("w") as fh:
        yaml.dump(doc, fh)
