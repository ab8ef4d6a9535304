"""The base of every model object: frozen, strict, camelCase on the wire, eager validation.

Model objects are built two ways and both validate at construction:

* from Python: ``Retries(attempts=3, per_try_timeout="2s")`` (snake_case field names), and
* from stack config / YAML: ``Retries.parse({"attempts": 3, "perTryTimeout": "2s"}, path=...)``
  (camelCase keys, the same names the Istio APIs use).

Any failure raises :class:`meshstack.errors.ConfigError` listing every problem with its path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic._internal._model_construction import ModelMetaclass
from pydantic.alias_generators import to_camel

from meshstack.errors import ConfigError, Loc, from_validation_error


class _ValidatingMeta(ModelMetaclass):
    """Turns pydantic's ValidationError into our path-named ConfigError for ``Model(...)`` calls.

    Overriding ``__call__`` (not ``__init__``) keeps nested validation inside pydantic, so one
    construction still collects every problem of the whole object tree.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except ValidationError as exc:
            raise from_validation_error(exc, _schema(cls)) from None


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

    @classmethod
    def parse(cls, data: Any, path: Loc = ()) -> Self:
        """Validate config data (camelCase keys); errors are prefixed with ``path``."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc, _schema(cls), path) from None

    def to_config(self) -> dict[str, Any]:
        """The config form (camelCase keys), which :meth:`parse` accepts back."""
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)


@cache
def _schema(cls: type[BaseModel]) -> Mapping[str, Any]:
    try:
        return cls.model_json_schema(by_alias=True)
    except Exception:  # noqa: BLE001 - a schema is only used to word errors; never fail on it
        return {}


def validation_errors(cls: type[Model], data: Any, path: Loc = ()) -> ConfigError | None:
    """The ConfigError ``cls.parse(data)`` would raise, or None (handy for collecting)."""
    try:
        cls.parse(data, path)
    except ConfigError as err:
        return err
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
        description="allowed: a DNS label (lowercase letters, digits and '-', at most 63 characters)",
    ),
]

Percent = Annotated[float, Field(ge=0, le=100, description="allowed: a percentage between 0 and 100")]
Fraction = Annotated[float, Field(ge=0, le=1)]
Port = Annotated[int, Field(ge=1, le=65535, description="allowed: a port number between 1 and 65535")]
PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]

_DURATION_RE = re.compile(r"^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$")
#: An Istio/protobuf-style duration: ``1.5s``, ``100ms``, ``1m30s``.
Duration = Annotated[
    str,
    Field(
        pattern=r"^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$",
        description="allowed: a duration such as 100ms, 2s, 1.5s or 1m30s",
    ),
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
    for number, _, unit in re.findall(r"(\d+(\.\d+)?)(h|ms|m|s|us|µs|ns)", value):
        total_ns += float(number) * _UNIT_NS[unit]
    return total_ns / 1_000_000_000


#: A Kubernetes CPU quantity (``100m``, ``0.5``, ``2``).
CpuQuantity = Annotated[
    str,
    Field(pattern=r"^([0-9]+(\.[0-9]+)?m?)$", description="allowed: a CPU quantity such as 100m, 0.5 or 2"),
]
#: A Kubernetes memory quantity (``128Mi``, ``2Gi``, ``1G``).
MemoryQuantity = Annotated[
    str,
    Field(
        pattern=r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$",
        description="allowed: a memory quantity such as 128Mi, 2Gi or 1G",
    ),
]
