"""Read ``meshstack:*`` stack config into a validated :class:`StackSpec` — or one ConfigError.

Every problem (unknown key, wrong type, out-of-range value, missing required value, a prod rule)
is reported at once with its config path, before any resource is registered. Environment and
profile defaults are applied by the model itself, exactly as for a spec built in Python; samples
(``apps.bookinfo``) are expanded here into ``apps.services`` (:mod:`meshstack.stacks.samples`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from meshstack.errors import ConfigError, Problem, join_path, split_path
from meshstack.model.app import AppSpec
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


def load_stack_spec(values: Mapping[str, Any]) -> StackSpec:
    """Validate ``values`` (stack config without ``meshstack:``); raises ConfigError(prefix=meshstack:)."""
    known = stack_keys()
    problems = [Problem(key, "unknown key; allowed keys are " + ", ".join(known)) for key in values if key not in known]
    data = {k: v for k, v in values.items() if k in known and v is not None}
    origins: dict[str, str] = {}
    if isinstance(data.get("apps"), Mapping):
        data["apps"], origins, sample_problems = _expand_samples(data["apps"])
        problems += sample_problems
    try:
        spec = StackSpec.parse(data)
    except ConfigError as err:
        raise ConfigError([*problems, *(_blame(p, origins) for p in err.problems)], PREFIX) from None
    if problems:
        raise ConfigError(problems, PREFIX)
    return spec


def parse_apps(section: Any) -> AppsConfig:
    """The ``apps`` section of a stack file on its own (samples expanded), errors under ``apps``."""
    problems: list[Problem] = []
    origins: dict[str, str] = {}
    if isinstance(section, Mapping):
        section, origins, problems = _expand_samples(section)
    try:
        config = AppsConfig.parse(section, path=["apps"])
    except ConfigError as err:
        raise ConfigError([*problems, *(_blame(p, origins) for p in err.problems)]) from None
    if problems:
        raise ConfigError(problems)
    return config


def _expand_samples(apps: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str], list[Problem]]:
    """``apps`` with every sample key replaced by its apps under ``services``; which sample made
    which app; problems of the samples' own config."""
    out = dict(apps)
    generated: dict[str, AppSpec] = {}
    origins: dict[str, str] = {}
    problems: list[Problem] = []
    for key, sample in SAMPLES.items():
        raw = out.pop(key, None)
        if raw is None:
            continue
        try:
            config = sample.config.parse(raw, path=["apps", key])
        except ConfigError as err:
            problems += err.problems
            continue
        for name, spec in sample.expand(config).items():
            generated[name] = spec
            origins[name] = key
    if not generated:
        return out, origins, problems
    services = out.get("services", {})
    if isinstance(services, Mapping):
        for name in services:
            if name in generated:
                problems.append(
                    Problem(
                        join_path(["apps", "services", name]),
                        f"the {origins[name]} sample already defines the mesh host {name!r}; one VirtualService per host",
                    )
                )
        out["services"] = {**generated, **{k: v for k, v in services.items() if k not in generated}}
    return out, origins, problems


def _blame(problem: Problem, origins: Mapping[str, str]) -> Problem:
    """A problem of a sample's app, reported at the sample's key (``apps.bookinfo.scenario``)."""
    parts = split_path(problem.path)
    if len(parts) < 3 or parts[:2] != ["apps", "services"] or parts[2] not in origins:
        return problem
    name = str(parts[2])
    sample_key = origins[name]
    sample = SAMPLES[sample_key]
    first = parts[3] if len(parts) > 3 else None
    fields = {f.alias or n for n, f in sample.config.model_fields.items()}
    at = first if isinstance(first, str) and first in fields else sample.blame
    return Problem(join_path(["apps", sample_key, at]), f"{name}: {problem.message}")
