"""Validation errors that name the config path of every problem and say what is allowed.

A ``ConfigError`` carries *all* problems found in one pass, so a user fixes a stack's config in
one round trip instead of one error at a time. Paths are dotted with list indices in brackets,
e.g. ``apps.reviews.versions[1].replicas``; ``prefix`` (``meshstack:`` for stack config) is
prepended when the error is shown.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

Loc = Sequence[str | int]

#: The ``type`` of errors raised by our own semantic validators (see :func:`fail`).
CUSTOM_ERROR_TYPE = "meshstack"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input: where it is and what is allowed instead."""

    path: str
    message: str

    def render(self, prefix: str = "") -> str:
        return f"{prefix}{self.path}: {self.message}" if self.path else f"{prefix}{self.message}"


class ConfigError(ValueError):
    """Every problem found in one validation pass, each with its path."""

    def __init__(self, problems: Iterable[Problem], prefix: str = "") -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(set(problems)))
        self.prefix = prefix
        lines = [p.render(prefix) for p in self.problems]
        noun = "problem" if len(lines) == 1 else "problems"
        super().__init__(f"{len(lines)} configuration {noun}:\n  " + "\n  ".join(lines))

    @classmethod
    def single(cls, path: str, message: str, prefix: str = "") -> ConfigError:
        """One problem at ``path``."""
        return cls([Problem(path, message)], prefix)

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.problems]

    def under(self, head: str, prefix: str | None = None) -> ConfigError:
        """The same problems below ``head`` (``apps["web"]`` + ``routes[0]`` → ``apps["web"].routes[0]``),
        optionally shown with another ``prefix``."""
        problems = [Problem(nest(head, p.path), p.message) for p in self.problems]
        return ConfigError(problems, self.prefix if prefix is None else prefix)


def nest(head: str, path: str) -> str:
    """``path`` below ``head``: a subscript attaches directly, a name after a dot."""
    if not head or not path:
        return head or path
    return head + (path if path.startswith("[") else "." + path)


def join_path(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if part == "" or part is None:
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def fail(message: str, subpath: str | Loc = "") -> PydanticCustomError:
    """An error for a model validator to ``raise``; ``subpath`` extends the validator's location.

    Example: a validator on ``Route`` raising ``fail("weights sum to 90; ...", "weights")``
    shows up as ``apps.reviews.route.weights: weights sum to 90; ...``.
    """
    return PydanticCustomError(CUSTOM_ERROR_TYPE, "{message}", {"message": message, "subloc": _loc(subpath)})


def _loc(subpath: str | Loc) -> list[str | int]:
    """A subpath as a location: a dotted string is split, a sequence is kept (keys may hold dots)."""
    return split_path(subpath) if isinstance(subpath, str) else list(subpath)


def fail_all(problems: Iterable[tuple[str | Loc, str]]) -> PydanticCustomError | None:
    """One error carrying several ``(subpath, message)`` problems, or None when there are none.

    Validators use it to report every cross-field problem at once::

        if err := fail_all(problems):
            raise err
    """
    items = [(_loc(s), m) for s, m in problems]
    if not items:
        return None
    text = "; ".join(m for _, m in items)
    return PydanticCustomError(CUSTOM_ERROR_TYPE, "{message}", {"message": text, "problems": items})


def show(value: Any) -> str:
    """A value as the user wrote it (JSON-ish), short enough for one error line."""
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- pydantic errors → Problems --------------------------------------------------------------


def split_path(path: str) -> list[str | int]:
    """``a.b[0].c`` → ``["a", "b", 0, "c"]`` (the inverse of :func:`join_path`)."""
    out: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        out.append(int(part[1:-1]) if part.startswith("[") else part)
    return out


def from_validation_error(
    exc: ValidationError,
    schema: Mapping[str, Any] | None = None,
    path_prefix: Loc = (),
    render: Callable[[list[str | int]], str] | None = None,
    keys: Callable[[list[str | int]], Iterable[str] | None] | None = None,
) -> ConfigError:
    """Turn pydantic's errors into Problems whose messages say what *is* allowed.

    ``schema`` is the root model's JSON schema (by alias); it is used to describe the allowed
    values at a location (``an integer >= 1``, ``one of STRICT, PERMISSIVE``, the allowed keys).
    ``render`` writes a location relative to the root model (default: a config path); ``keys``
    names the keys allowed in the object at a location, spelled the same way (default: the
    schema's, i.e. config keys). Paths and suggested keys are always in one spelling.
    """
    return render_problems(validation_problems(exc, schema, keys), path_prefix, render)


def render_problems(
    problems: Iterable[tuple[list[str | int], str]],
    path_prefix: Loc = (),
    render: Callable[[list[str | int]], str] | None = None,
) -> ConfigError:
    """``(location, message)`` problems as one ConfigError, each location written by ``render``
    (default: a config path) below ``path_prefix``."""
    head = join_path(path_prefix)
    return ConfigError(
        Problem(nest(head, render(loc) if render is not None else join_path(loc)), message) for loc, message in problems
    )


def validation_problems(
    exc: ValidationError,
    schema: Mapping[str, Any] | None = None,
    keys: Callable[[list[str | int]], Iterable[str] | None] | None = None,
) -> list[tuple[list[str | int], str]]:
    """pydantic's errors as ``(location, message)``, locations relative to the root model
    (see :func:`from_validation_error`)."""
    problems: list[tuple[list[str | int], str]] = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(err["loc"])
        ctx = err.get("ctx") or {}
        if err["type"] == CUSTOM_ERROR_TYPE:
            for sub, message in ctx.get("problems") or ():
                problems.append(([*loc, *sub], str(message)))
            if ctx.get("problems"):
                continue
            problems.append(([*loc, *(ctx.get("subloc") or [])], str(ctx.get("message", err["msg"]))))
            continue
        if err["loc"] and err["loc"][-1] == "[key]":  # the mapping key itself is wrong, not its value
            mapping = schema_at(schema, loc[:-1]) if schema is not None else None
            problems.append((loc, _key_message(err.get("input"), _resolve(mapping, schema) if mapping else None)))
            continue
        if err["type"] == "extra_forbidden":
            spelled = keys(loc[:-1]) if keys is not None else None
            if spelled is None:
                spelled = _properties(schema_at(schema, loc[:-1]), schema)
            problems.append((loc, unknown_key(loc[-1] if loc else "", spelled)))
            continue
        fragment = schema_at(schema, loc) if schema is not None else None
        problems.append((loc, _message(err, fragment, schema)))
    return problems


def _clean_loc(loc: Sequence[Any]) -> list[str | int]:
    """Drop pydantic's synthetic location parts (union member tags, function validators)."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (("[" in part and "]" in part) or part.startswith("function-")):
            continue
        out.append(part)
    return out


def unknown_key(given: Any, allowed: Iterable[str]) -> str:
    """Why a key was refused: the keys allowed there and, when one is close, the one meant. The
    caller spells ``allowed`` the way its user writes keys (config keys, or Python field names)."""
    names = sorted(allowed)
    if not names:
        return "unknown key"
    text = "unknown key; allowed keys are " + ", ".join(names)
    close = difflib.get_close_matches(str(given), names, n=1, cutoff=0.75)
    return f"{text}; did you mean {close[0]}?" if close else text


def _message(err: Any, fragment: Mapping[str, Any] | None, root: Mapping[str, Any] | None) -> str:
    kind: str = err["type"]
    value = err.get("input")
    allowed_text = describe(fragment, root) if fragment is not None else None
    if kind == "missing":
        return f"required; expected {allowed_text}" if allowed_text else "required"
    if allowed_text:
        return f"expected {allowed_text}, got {show(value)}"
    return f"{err['msg']}, got {show(value)}"


def _properties(fragment: Mapping[str, Any] | None, root: Mapping[str, Any] | None) -> list[str]:
    """The keys of the object a schema fragment describes (the object member of an optional one)."""
    if fragment is None:
        return []
    fragment = _resolve(fragment, root)
    if "properties" in fragment:
        return list(fragment["properties"])
    for key in ("anyOf", "oneOf"):
        for option in fragment.get(key, ()):
            if found := _properties(option, root):
                return found
    return []


def _resolve(fragment: Mapping[str, Any], root: Mapping[str, Any] | None) -> Mapping[str, Any]:
    seen = 0
    while "$ref" in fragment and root is not None and seen < 32:
        name = str(fragment["$ref"]).rsplit("/", 1)[-1]
        target = root.get("$defs", {}).get(name, {})
        fragment = {**target, **{k: v for k, v in fragment.items() if k != "$ref"}}
        seen += 1
    return fragment


def schema_at(schema: Mapping[str, Any] | None, loc: Loc) -> Mapping[str, Any] | None:
    """The JSON-schema fragment that describes the value at ``loc`` (None when unknown)."""
    if schema is None:
        return None
    root = schema
    node: Mapping[str, Any] | None = _resolve(schema, root)
    for part in loc:
        if node is None:
            return None
        node = _step(node, part, root)
    return node


def _step(node: Mapping[str, Any], part: str | int, root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    node = _resolve(node, root)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            for option in node[key]:
                found = _step(option, part, root)
                if found is not None:
                    return found
            return None
    if isinstance(part, int) or (node.get("type") == "array"):
        items = node.get("items")
        return _resolve(items, root) if isinstance(items, Mapping) else None
    props = node.get("properties", {})
    if part in props:
        return _resolve(props[part], root)
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping):
        return _resolve(extra, root)
    for value in (node.get("patternProperties") or {}).values():  # a mapping whose keys have a pattern
        return _resolve(value, root) if isinstance(value, Mapping) else None
    return None


#: How mapping keys with a pattern are described (JSON schema keeps only the pattern).
KEY_PATTERNS: dict[str, str] = {}


def _key_message(value: Any, mapping: Mapping[str, Any] | None) -> str:
    """Why a mapping key was refused, from the mapping's schema (propertyNames or patternProperties)."""
    patterns = list((mapping or {}).get("patternProperties") or {})
    names = (mapping or {}).get("propertyNames")
    allowed = describe(names) if isinstance(names, Mapping) else None
    if allowed is None and patterns:
        allowed = KEY_PATTERNS.get(patterns[0], f"a key matching {patterns[0]}")
    return f"{show(value)} is not allowed as a key; expected {allowed or 'another key'}"


_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "a boolean (true or false)",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


#: The JSON-schema key that says in words what a value may be (``a duration such as 2s``). It is
#: kept apart from ``description``, which says what a field does: a message says what is allowed,
#: never what the field is for.
ALLOWED = "x-allowed"


def allowing(text: str) -> dict[str, Any]:
    """``json_schema_extra`` for a type or field whose allowed values are best said in words:
    ``Field(pattern=..., json_schema_extra=allowing("a duration such as 100ms, 2s or 1m30s"))``."""
    return {ALLOWED: text}


def describe(fragment: Mapping[str, Any] | None, root: Mapping[str, Any] | None = None) -> str | None:
    """Say in words what a JSON-schema fragment allows (``an integer >= 1``); never its description."""
    if fragment is None:
        return None
    fragment = _resolve(fragment, root)
    if ALLOWED in fragment:
        return str(fragment[ALLOWED])
    if "enum" in fragment:
        return "one of " + ", ".join(str(v) for v in fragment["enum"])
    if "const" in fragment:
        return f"exactly {show(fragment['const'])}"
    for key in ("anyOf", "oneOf"):
        if key in fragment:
            parts = [describe(opt, root) for opt in fragment[key]]
            words = [p for p in parts if p and p != "null"]
            return " or ".join(dict.fromkeys(words)) if words else None
    kind = fragment.get("type")
    if not isinstance(kind, str):
        return None
    text = _TYPE_NAMES.get(kind, kind)
    bounds = []
    for key, sym in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if key in fragment:
            bounds.append(f"{sym} {fragment[key]}")
    if bounds:
        text += " " + " and ".join(bounds)
    if kind == "string":
        if "pattern" in fragment:
            text += f" matching {fragment['pattern']}"
        if "minLength" in fragment and fragment["minLength"] > 0:
            text = "a non-empty string" + text[len("a string") :]
        if "maxLength" in fragment:
            text += f" of at most {fragment['maxLength']} characters"
    if kind == "array" and "minItems" in fragment:
        text += f" with at least {fragment['minItems']} item(s)"
    return text
