"""Arguments at the Python boundary: what a component's typed arguments must be, in one rule.

A platform team's program hands meshstack's components (``MeshPlatform``, ``MeshApp`` …) and its
public functions (``bookinfo_apps``) plain Python values. A value of the wrong type — a dict for an
``AppSpec``, the ``MeshPlatform`` itself for its ``.mesh``, ``"production"`` for an environment —
must be a :class:`~meshstack.errors.ConfigError` naming the argument's Python path (``app``,
``images["v1"]``, ``mesh``) and saying what is allowed, not an ``AttributeError`` deep inside.

The annotations are the rule: :func:`check_value` checks a value against a type annotation
(models, enums, unions, mappings, sequences, constrained strings such as
:data:`~meshstack.model.base.Name`, and any other class by ``isinstance``; a typing construct it
does not know passes). An enum argument also takes its value (``target="gatewayApi"``), as model
fields do; :func:`check_fields` returns the coerced value. Model values are not validated again:
a model validated itself when it was built.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from meshstack.errors import ConfigError, Problem, describe, nest, show, validation_problems

#: Mapping and sequence origins (``Mapping[str, X]``, ``dict``, ``Sequence[X]``, ``list`` …).
_MAPPINGS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)
_SEQUENCES = (list, tuple, collections.abc.Sequence, collections.abc.MutableSequence)


def check_value(value: Any, annotation: Any, path: str) -> tuple[list[Problem], Any]:
    """The problems of ``value`` as an argument annotated ``annotation`` at Python path ``path``,
    and the value to use (an enum's value becomes the enum member)."""
    if annotation is Any or annotation is object or isinstance(annotation, typing.TypeVar):
        return [], value
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _constrained(value, annotation, path)
    if origin in (typing.Union, types.UnionType):
        return _union(value, typing.get_args(annotation), path)
    if annotation is None or annotation is type(None):
        return ([] if value is None else [_expected(value, annotation, path)]), value
    if origin in _MAPPINGS or annotation in _MAPPINGS:
        return _mapping(value, annotation, path)
    if origin in _SEQUENCES or annotation in _SEQUENCES:
        return _sequence(value, annotation, path)
    cls = origin if isinstance(origin, type) else annotation
    if not isinstance(cls, type):
        return [], value  # a typing construct this check does not know (Callable, Literal …): no rule
    if issubclass(cls, enum.Enum):
        return _enum(value, cls, path)
    if _is_instance(value, cls):
        return [], value
    return [_expected(value, annotation, path)], value


def check_fields(obj: Any) -> tuple[list[Problem], dict[str, Any]]:
    """The problems of a dataclass's public fields against their annotations (paths: the field
    names), and the fields whose value is to be replaced (coerced enums)."""
    problems: list[Problem] = []
    coerced: dict[str, Any] = {}
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        if f.name.startswith("_") or f.name not in hints:
            continue
        value = getattr(obj, f.name)
        found, fixed = check_value(value, hints[f.name], f.name)
        problems += found
        if fixed is not value:
            coerced[f.name] = fixed
    return problems, coerced


def prepare(obj: Any) -> None:
    """For a frozen arguments dataclass's ``__post_init__``: coerce what can be coerced, keep the
    problems for :func:`problems_of` (the component reports them with every other problem)."""
    problems, coerced = check_fields(obj)
    for name, value in coerced.items():
        object.__setattr__(obj, name, value)
    object.__setattr__(obj, "_argument_problems", tuple(problems))


def problems_of(args: Any, expected: type, path: str = "args") -> list[Problem]:
    """The problems of ``args``, the arguments object of a component: its type, then its fields."""
    if not isinstance(args, expected):
        return [_expected(args, expected, path)]
    kept = getattr(args, "_argument_problems", None)
    return list(kept) if kept is not None else check_fields(args)[0]


def bad_fields(problems: list[Problem]) -> set[str]:
    """The top-level argument names ``problems`` are about (``images["v1"]`` → ``images``)."""
    out = set()
    for problem in problems:
        head = problem.path.split(".", 1)[0].split("[", 1)[0]
        out.add(head)
    return out


def refuse(problems: list[Problem]) -> None:
    """Raise every problem at once (nothing when there are none)."""
    if problems:
        raise ConfigError(problems)


def check_call(function: Callable[..., Any], **arguments: Any) -> list[Problem]:
    """The problems of the arguments of a call of ``function``, against its annotations (paths:
    the parameter names)."""
    hints = _hints(function)
    problems: list[Problem] = []
    for name, value in arguments.items():
        if name in hints:
            problems += check_value(value, hints[name], name)[0]
    return problems


# --- the kinds of annotation ---------------------------------------------------------------------------


def _union(value: Any, members: tuple[Any, ...], path: str) -> tuple[list[Problem], Any]:
    results = [check_value(value, member, path) for member in members]
    for problems, fixed in results:
        if not problems:
            return [], fixed
    # One member of the value's own shape (a mapping for a mapping …) says best what is wrong inside.
    shaped = [r for m, r in zip(members, results, strict=True) if _shape_fits(value, m)]
    if len(shaped) == 1:
        return shaped[0]
    return [_expected(value, typing.Union[members], path)], value  # noqa: UP007 - a runtime union of members


def _mapping(value: Any, annotation: Any, path: str) -> tuple[list[Problem], Any]:
    if not isinstance(value, Mapping):
        return [_expected(value, annotation, path)], value
    args = typing.get_args(annotation)
    key_type, value_type = args if len(args) == 2 else (Any, Any)
    problems: list[Problem] = []
    out: dict[Any, Any] = {}
    changed = False
    for key, item in value.items():
        at = nest(path, f"[{show(key)}]" if isinstance(key, str) else f"[{key!r}]")
        found, _ = check_value(key, key_type, at)
        problems += [Problem(p.path, f"as a key: {p.message}") for p in found]
        found, fixed = check_value(item, value_type, at)
        problems += found
        out[key] = fixed
        changed = changed or fixed is not item
    return problems, (out if changed else value)


def _sequence(value: Any, annotation: Any, path: str) -> tuple[list[Problem], Any]:
    if isinstance(value, str | bytes) or not isinstance(value, collections.abc.Sequence):
        return [_expected(value, annotation, path)], value
    args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
    item_type = args[0] if len(args) == 1 or typing.get_origin(annotation) is not tuple else Any
    problems: list[Problem] = []
    for i, item in enumerate(value):
        problems += check_value(item, item_type, f"{path}[{i}]")[0]
    return problems, value


def _enum(value: Any, cls: type[enum.Enum], path: str) -> tuple[list[Problem], Any]:
    if isinstance(value, cls):
        return [], value
    try:
        return [], cls(value)
    except (ValueError, TypeError):
        return [_expected(value, cls, path)], value


def _constrained(value: Any, annotation: Any, path: str) -> tuple[list[Problem], Any]:
    """A type with pydantic constraints (``Name``: a DNS label): the model's own rule, strictly."""
    base = typing.get_args(annotation)[0]
    problems, fixed = check_value(value, base, path)
    if problems:
        return problems, value
    adapter = _adapter(annotation)
    if adapter is None:
        return [], fixed
    try:
        adapter.validate_python(fixed)
    except ValidationError as exc:
        schema = adapter.json_schema()
        return [Problem(path, message) for _, message in validation_problems(exc, schema)], value
    return [], fixed


# --- words ---------------------------------------------------------------------------------------------


def _expected(value: Any, annotation: Any, path: str) -> Problem:
    return Problem(path, f"expected {_words(annotation)}, got {_value_words(value)}{_hint(value, annotation)}")


def _words(annotation: Any) -> str:
    """An annotation in words: ``an AppSpec``, ``one of dev, prod``, ``a string or an Output``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        adapter = _adapter(annotation)
        text = describe(adapter.json_schema()) if adapter is not None else None
        return text or _words(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(annotation) if _words_of_member(m)]
        words = [_words(m) for m in members]
        return " or ".join(dict.fromkeys(words))
    if annotation is None or annotation is type(None):
        return "None"
    if origin in _MAPPINGS or annotation in _MAPPINGS:
        return "a mapping"
    if origin in _SEQUENCES or annotation in _SEQUENCES:
        return "a list"
    cls = origin if isinstance(origin, type) else annotation
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return f"{_a(cls.__name__)} (one of {', '.join(str(m.value) for m in cls)})"
    if isinstance(cls, type):
        return _BUILTIN_WORDS.get(cls) or _a(cls.__name__)
    return str(annotation)


def _words_of_member(member: Any) -> bool:
    """Whether a union member is worth naming (an awaitable is what an Output already says)."""
    origin = typing.get_origin(member) or member
    return origin is not collections.abc.Awaitable


_BUILTIN_WORDS: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "True or False",
}


def _value_words(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, str | int | float | bool):
        return show(value)
    return _a(type(value).__name__)


def _a(name: str) -> str:
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _hint(value: Any, annotation: Any) -> str:
    """What to pass instead: the attribute of ``value`` that is of the expected class (a
    ``MeshPlatform``'s ``.mesh``), or how to build the expected object from a mapping."""
    classes = [c for c in _classes(annotation) if not issubclass(c, enum.Enum)]
    for cls in classes:
        names = [n for n, v in sorted(_attributes(value).items()) if isinstance(v, cls) and not n.startswith("_")]
        if names:
            return f"; pass its .{names[0]}"
    if isinstance(value, Mapping):
        for cls in classes:
            if issubclass(cls, BaseModel):
                return f"; build it with {cls.__name__}(...), or {cls.__name__}.parse(data) for config-form data"
            if dataclasses.is_dataclass(cls):
                return f"; build it with {cls.__name__}(...)"
    return ""


def _classes(annotation: Any) -> list[type]:
    """The classes an annotation names (the members of a union, the class of ``Output[T]``)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _classes(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [c for m in typing.get_args(annotation) for c in _classes(m)]
    cls = origin if isinstance(origin, type) else annotation
    if isinstance(cls, type) and cls not in _BUILTIN_WORDS and cls is not type(None) and cls not in _MAPPINGS:
        return [cls]
    return []


def _attributes(value: Any) -> dict[str, Any]:
    try:
        return dict(vars(value))
    except TypeError:
        return {}


# --- helpers ---------------------------------------------------------------------------------------------


def _is_instance(value: Any, cls: type) -> bool:
    if cls is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if cls is int:
        return isinstance(value, int) and not isinstance(value, bool)
    try:
        return isinstance(value, cls)
    except TypeError:
        return True  # a class isinstance cannot check (a protocol): no rule


def _shape_fits(value: Any, member: Any) -> bool:
    origin = typing.get_origin(member) or member
    if origin is typing.Annotated:
        return _shape_fits(value, typing.get_args(member)[0])
    if origin in _MAPPINGS:
        return isinstance(value, Mapping)
    if origin in _SEQUENCES:
        return isinstance(value, collections.abc.Sequence) and not isinstance(value, str | bytes)
    return isinstance(origin, type) and _is_instance(value, origin)


_HINTS: dict[Any, dict[str, Any]] = {}


def _hints(owner: Any) -> dict[str, Any]:
    """The resolved annotations of a class or function (cached). A name that a library's own type
    alias leaves as a string (``pulumi.Input`` names ``"Output[T]"``) is looked up in the modules
    the owner's module imports; the owner's own names come first."""
    if owner not in _HINTS:
        module = sys.modules.get(getattr(owner, "__module__", ""), None)
        own = dict(vars(module)) if module is not None else {}
        imported: dict[str, Any] = {"T": typing.TypeVar("T")}  # what such an alias names its parameter
        for value in own.values():
            if isinstance(value, types.ModuleType):
                imported.update({k: v for k, v in vars(value).items() if not k.startswith("_")})
        try:
            _HINTS[owner] = typing.get_type_hints(owner, localns={**imported, **own}, include_extras=True)
        except (NameError, TypeError, AttributeError):
            _HINTS[owner] = {}
    return _HINTS[owner]


_ADAPTERS: dict[int, tuple[Any, TypeAdapter[Any] | None]] = {}


def _adapter(annotation: Any) -> TypeAdapter[Any] | None:
    """A strict pydantic adapter of a constrained type (cached; None when pydantic cannot build one)."""
    entry = _ADAPTERS.get(id(annotation))
    if entry is None or entry[0] is not annotation:
        try:
            adapter: TypeAdapter[Any] | None = TypeAdapter(annotation, config=ConfigDict(strict=True))
        except Exception:  # noqa: BLE001 - a type pydantic cannot adapt has no constraint to check here
            adapter = None
        entry = (annotation, adapter)
        _ADAPTERS[id(annotation)] = entry
    return entry[1]
