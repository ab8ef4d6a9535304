"""Read a ``Pulumi.<stack>.yaml`` file the way the pulumi CLI does, or say exactly what is wrong.

Every problem is one :class:`ConfigError` naming the file and line: a YAML syntax error, a
document that is not a mapping, ``config:`` that is not a mapping, a key that is not a string, a
key given twice (the CLI refuses those too; PyYAML would keep the last silently), or nesting deeper
than :data:`MAX_DEPTH` (refused before any recursive code sees it, so it cannot crash the reader).
:func:`json_depth` guards the engine path the same way: there the CLI hands the program JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from meshstack.errors import ConfigError, Problem

#: Far deeper than any meshstack config (about 10 levels), far below Python's recursion limit.
MAX_DEPTH = 64


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate and non-string mapping keys."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=False)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise _Located(line, f"key {key!r} is not a string; config keys are strings")
        if key in seen:
            raise _Located(line, f"key {key!r} is given twice (first on line {seen[key]}); the pulumi CLI refuses that")
        seen[key] = line
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class _Located(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH using the event stream (no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else 1
                raise _Located(line, f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def read_config(path: Path) -> dict[str, Any]:
    """The ``config:`` mapping of a stack file (empty when the file has none)."""
    text = path.read_text()
    where = path.name
    try:
        _check_depth(text)
        doc = yaml.load(text, Loader=_Loader)
    except _Located as err:
        raise ConfigError([Problem(f"{where}:{err.line}", err.message)]) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError([Problem(f"{where}{line}", f"not valid YAML: {err.problem or err}")]) from None
    except yaml.YAMLError as err:
        raise ConfigError([Problem(where, f"not valid YAML: {err}")]) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError([Problem(f"{where}:1", f"a stack file is a mapping (config: …), not a {_kind(doc)}")])
    config = doc.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ConfigError(
            [Problem(f"{where}:{_line_of(text, 'config')}", f"config is a mapping of keys, not a {_kind(config)}")]
        )
    return config


def _kind(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _line_of(text: str, key: str) -> int:
    for i, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return i
    return 1


def json_depth(text: str) -> int:
    """How deeply a JSON text nests (counted without parsing it, so without recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest
