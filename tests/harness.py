"""Test harness: run the real program for a stack under Pulumi mocks and query what it registered.

    rec = run_stack("prod")                       # Pulumi.prod.yaml as written
    rec = run_stack("dev", mesh={"mtls": "STRICT"})  # the stack file with keys overridden
    rec.one(kind="PeerAuthentication", namespace="istio-system").inputs["spec"]
    rec.depends_on(istiod, base)

``run_stack`` reads ``Pulumi.<stack>.yaml`` and deep-merges keyword overrides (config keys
without ``meshstack:``) over its config; ``config_error(...)`` returns the ConfigError text the
program stops with, plus what was registered before it stopped (must be nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pulumi.errors import RunError

from meshstack.stacks.program import main as program
from meshstack.testing import Recording, Registered, run_stack_file
from meshstack.tools.engine.workspace import deep_merge

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ROOT", "Recording", "Registered", "config_error", "run_stack", "stack_values"]


def stack_values(stack: str) -> dict[str, Any]:
    """The ``meshstack:`` config of a stack file, keys without the namespace, values as YAML."""
    doc = yaml.safe_load(Path(ROOT, f"Pulumi.{stack}.yaml").read_text()) or {}
    return {k.split(":", 1)[1] if k.startswith("meshstack:") else k: v for k, v in (doc.get("config") or {}).items()}


def run_stack(stack: str, replace: dict[str, Any] | None = None, **overrides: Any) -> Recording:
    """Run ``stack``'s program. ``overrides`` deep-merge over the stack file; ``replace`` replaces
    the whole config (keys without ``meshstack:``)."""
    values = replace if replace is not None else deep_merge(stack_values(stack), overrides)
    return run_stack_file(
        stack, ROOT, program, config={f"meshstack:{k}" if ":" not in k else k: v for k, v in values.items()}
    )


def config_error(stack: str, replace: dict[str, Any] | None = None, **overrides: Any) -> tuple[str, list[Registered]]:
    """The error message the program stops with, and the resources registered before that."""
    try:
        run_stack(stack, replace, **overrides)
    except RunError as err:
        return str(err), list(getattr(err, "recording").resources)  # noqa: B009 - attached by mockrun
    raise AssertionError(f"stack {stack} with {overrides or replace} ran without a config error")
