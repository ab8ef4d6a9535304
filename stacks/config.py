"""Read ``meshstack:*`` stack config into a validated :class:`StackSpec` — or one ConfigError.

Every problem (unknown key, wrong type, out-of-range value, missing required value, a prod rule)
is reported at once with its config path, before any resource is registered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from meshstack.errors import ConfigError, Problem
from meshstack.model.environment import Environment
from meshstack.model.stack import StackSpec
from stacks.defaults import ENVIRONMENT_DEFAULTS, deep_merge

NAMESPACE = "meshstack"
PREFIX = f"{NAMESPACE}:"


def parse_value(raw: Any) -> Any:
    """Pulumi hands config to the program as strings (objects JSON-encoded); decode them."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def collect(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``meshstack:`` keys of a flat Pulumi config map, without the namespace, decoded."""
    return {key[len(PREFIX) :]: parse_value(value) for key, value in config.items() if key.startswith(PREFIX)}


def load_stack_spec(values: Mapping[str, Any]) -> StackSpec:
    """Environment defaults merged under ``values`` and validated; raises ConfigError(prefix=meshstack:)."""
    known = sorted(f.alias or n for n, f in StackSpec.model_fields.items())
    problems = [Problem(key, "unknown key; allowed keys are " + ", ".join(known)) for key in values if key not in known]
    values = {k: v for k, v in values.items() if k in known}
    env_raw = values.get("environment")
    defaults: dict[str, Any] = {}
    if isinstance(env_raw, str) and env_raw in {e.value for e in Environment}:
        defaults = ENVIRONMENT_DEFAULTS[Environment(env_raw)]
    merged = deep_merge(defaults, {k: v for k, v in values.items() if v is not None})
    try:
        spec = StackSpec.parse(merged)
    except ConfigError as err:
        raise ConfigError([*problems, *err.problems], PREFIX) from None
    if problems:
        raise ConfigError(problems, PREFIX)
    return spec
