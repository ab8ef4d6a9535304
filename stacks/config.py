"""Read ``meshstack:*`` stack config into a validated :class:`StackSpec` — or one ConfigError.

Every problem (unknown key, wrong type, out-of-range value, missing required value, a prod rule)
is reported at once with its config path, before any resource is registered. Environment and
profile defaults are applied by the model itself, exactly as for a spec built in Python; samples
(``apps.bookinfo``) are expanded by the apps section's own validation, to which this module hands
them (:mod:`meshstack.stacks.samples`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from meshstack.errors import ConfigError, Problem, unknown_key
from meshstack.model.apps import AppsConfig
from meshstack.model.stack import StackSpec
from meshstack.stacks.samples import SAMPLES
from meshstack.stacks.stack_file import MAX_DEPTH, json_depth

NAMESPACE = "meshstack"
PREFIX = f"{NAMESPACE}:"


def parse_value(raw: Any) -> Any:
    """Pulumi hands config to the program as strings (objects JSON-encoded); decode them. JSON nested
    deeper than MAX_DEPTH is refused before it is decoded (decoding it would recurse)."""
    if not isinstance(raw, str):
        return raw
    if json_depth(raw) > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def collect(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``meshstack:`` keys of a flat Pulumi config map, without the namespace, decoded."""
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in config.items():
        if not key.startswith(PREFIX):
            continue
        try:
            out[key[len(PREFIX) :]] = parse_value(value)
        except ValueError as err:
            problems.append(Problem(key[len(PREFIX) :], str(err)))
    if problems:
        raise ConfigError(problems)
    return out


def stack_keys() -> list[str]:
    """The top-level keys of the stack schema."""
    return sorted(f.alias or n for n, f in StackSpec.model_fields.items())


#: What the apps section's validation expands samples with (pydantic's validation context).
CONTEXT: dict[str, Any] = {"samples": SAMPLES}


def load_stack_spec(values: Mapping[str, Any]) -> StackSpec:
    """Validate ``values`` (stack config without ``meshstack:``); raises ConfigError(prefix=meshstack:)."""
    known = stack_keys()
    problems = [Problem(key, unknown_key(key, known)) for key in values if key not in known]
    data = {k: v for k, v in values.items() if k in known and v is not None}
    try:
        spec = StackSpec.parse(data, context=dict(CONTEXT))
    except ConfigError as err:
        raise ConfigError([*problems, *err.problems], PREFIX) from None
    if problems:
        raise ConfigError(problems, PREFIX)
    return spec


def parse_apps(section: Any) -> AppsConfig:
    """The ``apps`` section of a stack file on its own (samples expanded), errors under ``apps``."""
    return AppsConfig.parse(section, path=["apps"], context=dict(CONTEXT))
