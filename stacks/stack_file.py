"""A stack file, ``Pulumi.<stack>.yaml``: everything meshstack reads from one or writes into one.

* :func:`read_config` reads its ``config:`` the way the pulumi CLI does, or says exactly what is
  wrong: each problem is one :class:`ConfigError` naming the file and line (a YAML syntax error,
  a document that is not a mapping, ``config:`` that is not a mapping, a key that is not a
  string, a key given twice, which the CLI refuses too, nesting deeper than :data:`MAX_DEPTH`,
  refused before any recursive code sees it);
* :func:`flat_config` turns that config into what the engine hands a program (a flat map of
  strings, objects JSON-encoded), for the mock runtime and the engine driver alike;
* :func:`update_config` rewrites a file's ``config:`` in place keeping what a person wrote around
  it: comments, key order and quoting (``meshstack promote`` records a promotion this way, so the
  commit's diff is exactly the promotion);
* :func:`write_generated` writes a stack file nobody edits (the engine's project mirror) fast;
* :data:`SECRETS_MANAGER_KEYS` are the keys where pulumi keeps a stack's secrets manager.

One YAML library reads and writes stack files: ruamel.yaml (its C parser for reading, its
round-trip mode for editing). :func:`json_depth` guards the engine path the same way as the
reader: there the CLI hands the program JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent

from meshstack.errors import ConfigError, Problem

#: Far deeper than any meshstack config (about 10 levels), far below Python's recursion limit.
MAX_DEPTH = 64
#: The stack-file keys that hold a stack's secrets manager (its KMS-wrapped data key, or its
#: passphrase salt). Pulumi writes them when the stack is created and reads them on every run.
SECRETS_MANAGER_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt")
#: What a ``secure:`` value becomes where it cannot be decrypted (the mock runtime, a render).
SECRET_PLACEHOLDER = "[secret]"


def stack_path(root: Path, stack: str) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def known_stacks(root: Path) -> list[str]:
    """The stacks that have a file in ``root``."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


# --- reading ----------------------------------------------------------------------------------------


class _Located(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Constructor(SafeConstructor):
    """The safe constructor, refusing non-string and duplicate mapping keys with their lines."""

    def check_mapping_key(self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any) -> bool:
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise _Located(line, f"key {key!r} is not a string; config keys are strings")
        if key in mapping:
            first = next(k.start_mark.line + 1 for k, _ in node.value if getattr(k, "value", None) == key_node.value)
            raise _Located(line, f"key {key!r} is given twice (first on line {first}); the pulumi CLI refuses that")
        return True


def _reader() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.Constructor = _Constructor
    return yaml


def _check_depth(yaml: YAML, text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH using the event stream (no recursion)."""
    depth = 0
    for event in yaml.parse(text):
        if isinstance(event, MappingStartEvent | SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise _Located(mark.line + 1 if mark is not None else 1, f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            depth -= 1


@lru_cache(maxsize=32)
def _document(path: str, _mtime_ns: int, _size: int) -> str:
    """The parsed document of ``path`` (cached while the file is unchanged), as JSON text: a copy
    for each caller costs a ``json.loads``, much less than parsing the YAML again."""
    text = Path(path).read_text()
    where = Path(path).name
    yaml = _reader()
    try:
        _check_depth(yaml, text)
        doc = yaml.load(text)
    except _Located as err:
        raise ConfigError([Problem(f"{where}:{err.line}", err.message)]) from None
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError([Problem(f"{where}{line}", f"not valid YAML: {err.problem or err}")]) from None
    except YAMLError as err:
        raise ConfigError([Problem(where, f"not valid YAML: {err}")]) from None
    if doc is not None and not isinstance(doc, dict):
        raise ConfigError([Problem(f"{where}:1", f"a stack file is a mapping (config: …), not a {_kind(doc)}")])
    config = (doc or {}).get("config")
    if config is not None and not isinstance(config, dict):
        raise ConfigError(
            [Problem(f"{where}:{_line_of(text, 'config')}", f"config is a mapping of keys, not a {_kind(config)}")]
        )
    return json.dumps(doc or {}, default=str)


def read_document(path: Path) -> dict[str, Any]:
    """The whole stack file (``config`` and the secrets manager's keys), checked as :func:`read_config`."""
    stat = os.stat(path)
    text = _document(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def read_config(path: Path) -> dict[str, Any]:
    """The ``config:`` mapping of a stack file (empty when the file has none)."""
    config: dict[str, Any] = read_document(path).get("config") or {}
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


# --- what the engine hands a program -------------------------------------------------------------------


def flat_config(raw: Mapping[str, Any], project: str) -> tuple[dict[str, str], list[str]]:
    """A stack file's config as the engine hands it to the program: a flat map of strings (objects
    JSON-encoded; bare keys belong to ``project``), and the secret keys. ``secure:`` values cannot
    be decrypted without the engine: they are :data:`SECRET_PLACEHOLDER`."""
    flat: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in raw.items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            flat[full] = SECRET_PLACEHOLDER
            secrets.append(full)
        elif isinstance(value, str):
            flat[full] = value
        else:
            flat[full] = json.dumps(value)
    return flat, secrets


# --- writing -----------------------------------------------------------------------------------------


def write_generated(path: Path, doc: Mapping[str, Any]) -> None:
    """Write a file nobody edits by hand (the engine's project mirror): JSON, which is YAML too
    (pulumi reads it as such), and a hundredth of the time a YAML dump of a 100-service stack takes."""
    path.write_text(json.dumps(doc, indent=1) + "\n")


def read_generated(path: Path) -> dict[str, Any]:
    """A file :func:`write_generated` wrote, perhaps rewritten since by pulumi (in YAML: it adds the
    secrets manager's keys when it creates the stack). Empty when absent or not a mapping."""
    if not path.exists():
        return {}
    text = path.read_text()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = YAML(typ="safe", pure=False).load(text)
    return doc if isinstance(doc, dict) else {}


def _round_trip() -> YAML:
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


def update_config(path: Path, config: Mapping[str, Any], *, out: Path | None = None) -> None:
    """Make ``path``'s ``config:`` equal ``config`` (written to ``out`` if given, else in place),
    changing only the values that differ: comments and the order of the keys kept stay."""
    yaml = _round_trip()
    doc = yaml.load(path.read_text()) if path.exists() else None
    if not isinstance(doc, CommentedMap):
        doc = CommentedMap()
    if not isinstance(doc.get("config"), CommentedMap):
        doc["config"] = CommentedMap()
    _merge(doc["config"], config)
    with (out or path).open("w") as fh:
        yaml.dump(doc, fh)
