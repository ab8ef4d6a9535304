"""The base of every model object: frozen, strict, camelCase on the wire, eager validation.

Model objects are built two ways and both validate at construction, with the same defaults:

* from Python: ``Retries(attempts=3, per_try_timeout="2s")`` (snake_case field names); errors
  name Python attribute paths (``routes[0].to[1].weight``, ``services["web"].ports[0]``) and
  suggest Python field names;
* from stack config / YAML: ``Retries.parse({"attempts": 3, "perTryTimeout": "2s"}, path=...)``
  (camelCase keys, the same names the Istio APIs use); errors name config paths
  (``routes[0].to[1].weight``, ``services.web.ports[0]``) and suggest config keys.

Any failure raises :class:`meshstack.errors.ConfigError` listing every problem with its path:

    >>> Retries(attempts=3, per_try_timout="2s")
    Traceback (most recent call last):
    meshstack.errors.ConfigError: 1 configuration problem:
      per_try_timout: unknown key; allowed keys are attempts, per_try_timeout, retry_on; did you mean per_try_timeout?
    >>> Retries.parse({"attempts": 3, "perTryTimout": "2s"}, path=["routes", 0, "retries"])
    Traceback (most recent call last):
    meshstack.errors.ConfigError: 1 configuration problem:
      routes[0].retries.perTryTimout: unknown key; allowed keys are attempts, perTryTimeout, retryOn; did you mean perTryTimeout?

A problem found in one part does not hide the others: the rules that span fields (and prod's)
still run on everything else, with what was refused taken as unset (:func:`hidden_problems`).

**Layered defaults.** Some defaults depend on other values (the environment picks sizes, the
profile picks sidecar resources). A model declares them in :meth:`Model.layered_defaults`; they
fill only what the caller left unset, and "unset" means the same thing on both paths: a key absent
from the config, or an argument not passed to the constructor (:attr:`Model.explicit_fields`).
So these are equal:

    >>> MeshConfig(profile="demo", istiod=IstiodConfig(replicas=2)) == MeshConfig.parse(
    ...     {"profile": "demo", "istiod": {"replicas": 2}}
    ... )
    True
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from pydantic.alias_generators import to_camel, to_snake
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

from meshstack._sdk.pydantic_models import ModelMetaclass
from meshstack.errors import KEY_PATTERNS, ConfigError, Loc, allowing, fail, render_problems, validation_problems

#: How error paths are written: ``config`` (camelCase keys, ``a.b[0].c``) or ``python``
#: (attribute names and subscripts, ``a.b[0]["key"].c``).
PathStyle = Literal["config", "python"]


class _ValidatingMeta(ModelMetaclass):
    """Turns pydantic's ValidationError into our path-named ConfigError for ``Model(...)`` calls.

    Overriding ``__call__`` (not ``__init__``) keeps nested validation inside pydantic, so one
    construction still collects every problem of the whole object tree.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if args:  # pydantic's TypeError would not say what to write instead
            given = ", ".join(type(a).__name__ for a in args)
            raise ConfigError.single(
                f"{cls.__name__}(...)",
                f"takes its fields as keyword arguments, got {len(args)} positional ({given}); "
                f"for config-form data (a mapping) use {cls.__name__}.parse(data)",
            )
        try:
            return super().__call__(**kwargs)
        except ValidationError as exc:
            raise error_of(exc, cls, style="python", data=kwargs) from None  # type: ignore[arg-type]


class Model(BaseModel, metaclass=_ValidatingMeta):
    """Frozen, strict, no unknown keys; fields are snake_case in Python and camelCase in config.

    Strict means ``"2"`` is not an integer and ``"yes"`` is not a boolean. Enum fields are the
    exception: declare them with ``Field(..., strict=False)`` so config strings (``"STRICT"``)
    are accepted as well as enum members.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
        use_enum_values=False,
        arbitrary_types_allowed=False,
    )

    #: Field names the caller set (constructor arguments or config keys), before layered defaults.
    _explicit: frozenset[str] = PrivateAttr(default=frozenset())
    #: Whether :meth:`layered_defaults` is overridden (skips the work for every other model).
    _layered: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._layered = "layered_defaults" in cls.__dict__ or any(
            getattr(base, "_layered", False) for base in cls.__mro__[1:]
        )

    @classmethod
    def layered_defaults(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults (config form, camelCase keys) for what ``given`` leaves unset.

        ``given`` is what the caller set, by config key; nested values may be model instances.
        Only a value the caller did not set is filled, key by key into nested sections.
        """
        return {}

    @model_validator(mode="wrap")
    @classmethod
    def _layer(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if not isinstance(data, Mapping):
            return handler(data)  # an instance passes through unchanged
        keys = data.explicit if isinstance(data, Layered) else frozenset(data)
        effective: Any = data
        if cls._layered:
            defaults = cls.layered_defaults({_alias(cls, _field_key(cls, k)): v for k, v in data.items()})
            if defaults:
                aliased = Layered({_alias(cls, _field_key(cls, k)): v for k, v in data.items()}, keys_alias(cls, keys))
                effective = merge_defaults(defaults, aliased)
        instance = handler(effective)
        instance._explicit = frozenset(n for n in (_field_key(cls, k) for k in keys) if n in cls.model_fields)
        return instance

    def __eq__(self, other: object) -> bool:
        """Equal values are equal specs, however they were built (which fields were given explicitly
        is bookkeeping for defaults, not part of the value)."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *self.__dict__.values())) if self.model_config.get("frozen") else id(self)

    @property
    def explicit_fields(self) -> frozenset[str]:
        """The fields the caller set; everything else holds a default."""
        return self._explicit

    @classmethod
    def parse(cls, data: Any, path: Loc = (), context: dict[str, Any] | None = None) -> Self:
        """Validate config data (camelCase keys); errors name config paths prefixed with ``path``.
        ``context``: pydantic's validation context (the stack path passes its samples in it)."""
        try:
            return cls.model_validate(data, context=context)
        except ValidationError as exc:
            raise error_of(exc, cls, style="config", path_prefix=path, data=data, context=context) from None

    def to_config(self) -> dict[str, Any]:
        """The config form (camelCase keys), which :meth:`parse` accepts back."""
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)

    def given(self) -> dict[str, Any]:
        """What the caller set, by config key (nested values are model instances)."""
        return {_alias(type(self), name): getattr(self, name) for name in self._explicit}


class Layered(dict[str, Any]):
    """Config data some of whose keys came from a defaults layer: ``explicit`` names the keys the
    caller set. A model built from it remembers only those as set, so a later layer (the
    environment under a profile, say) still fills the rest."""

    def __init__(self, data: Mapping[str, Any], explicit: frozenset[str] | set[str] = frozenset()) -> None:
        super().__init__(data)
        self.explicit = frozenset(explicit)


def keys_alias(cls: type[BaseModel], keys: frozenset[str]) -> frozenset[str]:
    return frozenset(_alias(cls, _field_key(cls, k)) for k in keys)


def from_wire(value: Any) -> Any:
    """Data as it was written before crossing Pulumi's wire (protobuf carries every number as a
    double): integral floats become ints again (``replicas: 2``, not ``2.0``)."""
    if isinstance(value, Mapping):
        return {k: from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def merge_defaults(defaults: Mapping[str, Any], given: Mapping[str, Any] | Model) -> Layered:
    """``given`` over ``defaults`` key by key. A nested model instance counts only with what its
    caller set (:meth:`Model.given`); what comes from ``defaults`` is never marked as set."""
    top = given.given() if isinstance(given, Model) else given
    explicit = top.explicit if isinstance(top, Layered) else frozenset(top)
    out: dict[str, Any] = {key: _from_defaults(value) for key, value in defaults.items()}
    for key, value in top.items():
        below = out.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping | Model):
            out[key] = merge_defaults(below, value)
        else:
            out[key] = value
    return Layered(out, explicit)


def _from_defaults(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Layered({k: _from_defaults(v) for k, v in value.items()})
    return value


def _alias(cls: type[BaseModel], name: str) -> str:
    field = cls.model_fields.get(name)
    return (field.alias or name) if field is not None else name


def _field_key(cls: type[BaseModel], key: Any) -> Any:
    """The field name of a config key or field name (unknown keys unchanged)."""
    if key in cls.model_fields:
        return key
    return _aliases(cls).get(key, key)


@cache
def _aliases(cls: type[BaseModel]) -> dict[str, str]:
    return {f.alias: name for name, f in cls.model_fields.items() if f.alias}


# --- errors ------------------------------------------------------------------------------------


@cache
def _schema(cls: type[BaseModel]) -> Mapping[str, Any]:
    try:
        return cls.model_json_schema(by_alias=True)
    except Exception:  # noqa: BLE001 - a schema is only used to word errors; never fail on it
        return {}


def error_of(
    exc: ValidationError,
    cls: type[BaseModel],
    *,
    style: PathStyle = "config",
    path_prefix: Loc = (),
    data: Any = None,
    context: dict[str, Any] | None = None,
) -> ConfigError:
    """pydantic's errors as one ConfigError, paths written in ``style``. With the ``data`` that
    failed, the problems its first errors hid are added (:func:`hidden_problems`)."""
    schema = _schema(cls)
    if style == "config":
        keys, render = None, None
    else:
        keys, render = (lambda loc: python_keys(cls, loc)), (lambda loc: python_path(cls, loc))
    problems = validation_problems(exc, schema, keys)
    if isinstance(data, Mapping):
        problems += hidden_problems(cls, data, problems, context, keys)
    return render_problems(problems, path_prefix, render)


#: How many times a failed validation is repeated with what it refused set aside. Each round sets
#: aside at least one more value, so the rounds end anyway; this bounds the work on bad input.
_ROUNDS = 8


def hidden_problems(
    cls: type[BaseModel],
    data: Mapping[str, Any],
    problems: list[tuple[list[str | int], str]],
    context: dict[str, Any] | None = None,
    keys: Callable[[list[str | int]], list[str] | None] | None = None,
) -> list[tuple[list[str | int], str]]:
    """The problems ``problems`` hid: pydantic runs an object's rules (its ``after`` validators:
    the rules across fields, prod's) only once all its fields are valid, so a bad field anywhere
    below an object hides every rule of it and of the objects above it. Every problem at once
    means validating again with what was refused set aside (left unset: its default applies), and
    reporting what the rules then find, until nothing more is found.

    What was set aside is unknown, not its default: a problem the rules find at (or inside) a
    value set aside, or that names it, may be about the default and is not reported."""
    found: list[tuple[list[str | int], str]] = []
    aside: list[list[str | int]] = []
    current: Any = data
    reported = problems
    for _ in range(_ROUNDS):
        cuts: list[list[str | int]] = []
        for loc, _message in reported:
            cut = _cut(cls, current, loc)
            if cut is not None and cut not in aside and cut not in cuts:
                cuts.append(cut)
        if not cuts:
            break
        aside += cuts
        for cut in cuts:
            current = _without(cls, current, cut)
        try:
            cls.model_validate(current, context=dict(context) if context is not None else None)
        except ValidationError as again:
            reported = validation_problems(again, _schema(cls), keys)
        else:
            break
        found += [(loc, m) for loc, m in reported if not _about(cls, loc, m, aside)]
    return found


def _cut(cls: type[BaseModel], data: Any, loc: Sequence[str | int]) -> list[str | int] | None:
    """Where to set aside the value a problem at ``loc`` is about: the longest part of ``loc``
    that is a key present in ``data`` (a list item takes its whole list: later items keep their
    indices, so their problems keep their paths)."""
    for end in range(len(loc), 0, -1):
        if isinstance(loc[end - 1], str) and _find(cls, data, loc[:end]) is not None:
            return list(loc[:end])
    return None


def _find(cls: type[BaseModel], data: Any, loc: Sequence[str | int]) -> list[str | int] | None:
    """``loc`` as the keys ``data`` spells it (a Python field name or its config alias), or None
    when it is not in ``data``."""
    keys: list[str | int] = []
    tp: Any = cls
    node = data
    for part in loc:
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                return None
            node, tp = node[part], _item_type(tp)
            keys.append(part)
            continue
        if not isinstance(node, Mapping):
            return None
        model = _model_in(tp)
        spellings = [part]
        if model is not None:
            name = _field_key(model, part)
            spellings += [name, _alias(model, name)]
            tp = model.model_fields[name].annotation if name in model.model_fields else None
        else:
            tp = _value_type(tp)
        key = next((s for s in spellings if s in node), None)
        if key is None:
            return None
        node = node[key]
        keys.append(key)
    return keys


def _without(cls: type[BaseModel], data: Any, loc: Sequence[str | int]) -> Any:
    """``data`` without the value at ``loc`` (copied along the way; ``data`` is not changed)."""
    keys = _find(cls, data, loc)
    if not keys:
        return data

    def drop(node: Any, rest: list[str | int]) -> Any:
        head, *tail = rest
        if isinstance(node, list):
            copy = list(node)
            copy[int(head)] = drop(node[int(head)], tail)
            return copy
        out = {k: v for k, v in node.items() if k != head}
        if tail:
            out[str(head)] = drop(node[head], tail)
        return out

    return drop(data, keys)


def _about(cls: type[BaseModel], loc: Sequence[str | int], message: str, aside: list[list[str | int]]) -> bool:
    """Whether a problem may be about a value set aside: it sits at, inside or above one, or its
    message names one (by its dotted path, or by its own name when it is a key the user chose:
    the version ``v2``, the namespace ``shop``)."""
    for cut in aside:
        n = min(len(loc), len(cut))
        if list(loc[:n]) == cut[:n]:
            return True
        names = [".".join(str(part) for part in cut if isinstance(part, str))]
        if _is_mapping(_type_at(cls, cut[:-1])):
            names.append(str(cut[-1]))
        if any(re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", message) for name in names):
            return True
    return False


def _type_at(root: Any, loc: Sequence[str | int]) -> Any:
    """The annotation of the value at ``loc`` below a ``root`` model (None when unknown)."""
    tp: Any = root
    for part in loc:
        if isinstance(part, int):
            tp = _item_type(tp)
            continue
        model = _model_in(tp)
        name = _field_key(model, part) if model is not None else None
        if model is not None and name in model.model_fields:
            tp = model.model_fields[name].annotation
        elif _is_mapping(tp):
            tp = _value_type(tp)
        else:
            return None
    return tp


def python_keys(root: Any, loc: Sequence[str | int]) -> list[str] | None:
    """The field names (snake_case, as Python code writes them) of the model at ``loc`` below a
    ``root`` model; None when no model is there."""
    model = _model_in(_type_at(root, loc))
    return sorted(model.model_fields) if model is not None else None


def python_path(root: Any, loc: Sequence[str | int]) -> str:
    """A location as Python attribute access from an object of type ``root``:
    ``["apps", "web", "routes", 0, "to"]`` → ``apps["web"].routes[0].to``."""
    out = ""
    tp: Any = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            tp = _item_type(tp)
            continue
        model = _model_in(tp)
        name = _field_key(model, part) if model is not None else None
        if model is not None and name in model.model_fields:
            out += f".{name}" if out else name
            tp = model.model_fields[name].annotation
        elif _is_mapping(tp):
            out += f"[{part!r}]".replace("'", '"')
            tp = _value_type(tp)
        else:
            snake = to_snake(part)
            out += f".{snake}" if out else snake
            tp = None
    return out


def _strip(tp: Any) -> list[Any]:
    """The members of ``tp`` with Optional/Union/Annotated removed."""
    if tp is None:
        return []
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _strip(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(tp) for m in _strip(arg) if m is not type(None)]
    return [tp]


def _model_in(tp: Any) -> type[BaseModel] | None:
    for member in _strip(tp):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _is_mapping(tp: Any) -> bool:
    return any(typing.get_origin(m) in (dict, Mapping) for m in _strip(tp))


def _value_type(tp: Any) -> Any:
    for member in _strip(tp):
        if typing.get_origin(member) in (dict, Mapping):
            return typing.get_args(member)[1]
    return None


def _item_type(tp: Any) -> Any:
    for member in _strip(tp):
        if typing.get_origin(member) in (list, tuple, Sequence):
            return typing.get_args(member)[0]
    return None


# --- shared constrained types ------------------------------------------------------------------

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"

#: A Kubernetes object name that is also a DNS label (Services, Namespaces, versions).
Name = Annotated[
    str,
    Field(
        pattern=DNS_LABEL,
        max_length=63,
        json_schema_extra=allowing("a DNS label (lowercase letters, digits and '-', at most 63 characters)"),
    ),
]

#: A Kubernetes label key: an optional DNS-subdomain prefix and '/', then a name of at most 63
#: characters (alphanumerics, '-', '_', '.', alphanumeric at both ends).
LABEL_KEY = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"


def _label_key(value: str) -> str:
    prefix = value.rpartition("/")[0]
    if len(prefix) > 253:
        raise fail(f"the prefix of label key {value[:40]!r}… has {len(prefix)} characters; at most 253")
    return value


LabelKey = Annotated[
    str,
    Field(
        pattern=LABEL_KEY,
        max_length=317,
        json_schema_extra=allowing("a label key such as app, team or example.com/tier"),
    ),
    AfterValidator(_label_key),
]
KEY_PATTERNS[DNS_LABEL] = "a DNS label (lowercase letters, digits and '-', at most 63 characters)"
KEY_PATTERNS[LABEL_KEY] = "a label key such as app, team or example.com/tier"

#: A Kubernetes label value: empty, or at most 63 alphanumerics, '-', '_', '.' (alphanumeric at both ends).
LabelValue = Annotated[
    str,
    Field(
        pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$",
        max_length=63,
        json_schema_extra=allowing(
            "a label value (at most 63 letters, digits, '-', '_' or '.', alphanumeric at both ends)"
        ),
    ),
]

Percent = Annotated[float, Field(ge=0, le=100, json_schema_extra=allowing("a percentage between 0 and 100"))]
Port = Annotated[int, Field(ge=1, le=65535, json_schema_extra=allowing("a port number between 1 and 65535"))]
PositiveInt = Annotated[int, Field(ge=1)]

#: The longest duration anything on the path accepts: Go's time.Duration (Kubernetes CEL
#: ``duration()``, Envoy via istiod) tops out at about 292 years.
MAX_DURATION_HOURS = 2_562_047


def _bounded_duration(value: str) -> str:
    if duration_seconds(value) > MAX_DURATION_HOURS * 3600:
        raise fail(f"{value} is longer than {MAX_DURATION_HOURS}h, the longest duration Kubernetes and Envoy accept")
    return value


#: An Istio/protobuf-style duration: ``1.5s``, ``100ms``, ``1m30s`` (ASCII digits only, bounded).
Duration = Annotated[
    str,
    Field(
        pattern=r"^([0-9]{1,12}(\.[0-9]{1,9})?(h|m|s|ms|us|ns))+$",
        max_length=64,
        json_schema_extra=allowing("a duration such as 100ms, 2s, 1.5s or 1m30s"),
    ),
    AfterValidator(_bounded_duration),
]

_UNIT_NS = {
    "h": 3_600_000_000_000,
    "m": 60_000_000_000,
    "s": 1_000_000_000,
    "ms": 1_000_000,
    "us": 1_000,
    "µs": 1_000,
    "ns": 1,
}


def duration_seconds(value: str) -> float:
    """Seconds in a duration string (``1m30s`` → 90.0)."""
    total_ns = 0.0
    for number, _, unit in re.findall(r"([0-9]+(\.[0-9]+)?)(h|ms|m|s|us|µs|ns)", value):
        total_ns += float(number) * _UNIT_NS[unit]
    return total_ns / 1_000_000_000


#: A Kubernetes CPU quantity (``100m``, ``0.5``, ``2``).
CpuQuantity = Annotated[
    str,
    Field(pattern=r"^([0-9]+(\.[0-9]+)?m?)$", json_schema_extra=allowing("a CPU quantity such as 100m, 0.5 or 2")),
]
#: A Kubernetes memory quantity (``128Mi``, ``2Gi``, ``1G``).
MemoryQuantity = Annotated[
    str,
    Field(
        pattern=r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$",
        json_schema_extra=allowing("a memory quantity such as 128Mi, 2Gi or 1G"),
    ),
]
