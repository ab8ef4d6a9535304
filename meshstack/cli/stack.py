"""``meshstack up|preview|refresh|recover``: a stack's lifecycle, as a pipeline job runs it.

Every command runs the policy pack (mandatory for prod). Exit codes: 0 done (preview: no changes
when ``--expect-no-changes``), 1 error, 2 bad input or refused, 3 changes (preview
``--expect-no-changes``, refresh ``--preview-only`` with drift), 5 the stack is locked by another
update (docs/cd.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from pulumi import automation as auto

from meshstack.cli.options import (
    DEFAULT_STATE,
    BackendOpt,
    ChartsOpt,
    CheckpointsOpt,
    JsonOpt,
    KubeconfigOpt,
    SecretsOpt,
    StackFileOpt,
    StackOpt,
    StateOpt,
    engine,
)
from meshstack.errors import ConfigError
from meshstack.tools.engine import Engine, EngineError, StackLocked, changed_resources

LOCKED = 5
CHANGES = 3

WaitLockOpt = Annotated[
    float,
    typer.Option("--wait-lock", help="Seconds to wait for another update's lock to go (default 0: fail fast)."),
]


def _run(json_out: bool, action: Callable[[Engine], dict[str, Any]], make: Callable[[], Engine]) -> dict[str, Any]:
    try:
        eng = make()
        if not json_out:
            eng.on_output = lambda line: print(line, file=sys.stderr)
        return action(eng)
    except StackLocked as err:
        typer.echo(f"meshstack: {err}", err=True)
        raise typer.Exit(LOCKED) from None
    except (ConfigError, EngineError, FileNotFoundError) as err:
        typer.echo(f"meshstack: {err}", err=True)
        raise typer.Exit(2) from None
    except auto.errors.CommandError as err:
        typer.echo(f"meshstack: the engine failed:\n{err}", err=True)
        raise typer.Exit(1) from None


def _emit(json_out: bool, info: dict[str, Any]) -> None:
    if json_out:
        typer.echo(json.dumps(info, sort_keys=True))
    else:
        typer.echo(" ".join(f"{k}={v}" for k, v in info.items()))


def _counts(summary: Any) -> dict[str, int]:
    return {str(getattr(k, "value", k)): v for k, v in (summary or {}).items() if v}


def up(stack: StackOpt, kubeconfig: KubeconfigOpt = None, charts: ChartsOpt = None, stack_file: StackFileOpt = None,
       state: StateOpt = DEFAULT_STATE, backend: BackendOpt = None, secrets_provider: SecretsOpt = "passphrase",
       wait_lock: WaitLockOpt = 0, refresh: Annotated[bool, typer.Option("--refresh")] = False,
       checkpoints: CheckpointsOpt = None, json_out: JsonOpt = False) -> None:  # fmt: skip
    """Update the stack (`pulumi up`): fails fast on a locked stack unless --wait-lock."""

    def action(eng: Engine) -> dict[str, Any]:
        if checkpoints is not None:
            eng.checkpoints = checkpoints
        result = eng.up(refresh=refresh, wait_lock=wait_lock)
        return {"stack": stack, "changes": _counts(result.summary.resource_changes), "update": result.summary.version}

    _emit(
        json_out,
        _run(json_out, action, lambda: engine(stack, kubeconfig, charts, state, stack_file, backend, secrets_provider)),
    )


def preview(stack: StackOpt, kubeconfig: KubeconfigOpt = None, charts: ChartsOpt = None, stack_file: StackFileOpt = None,
            state: StateOpt = DEFAULT_STATE, backend: BackendOpt = None, secrets_provider: SecretsOpt = "passphrase",
            expect_no_changes: Annotated[bool, typer.Option("--expect-no-changes")] = False,
            json_out: JsonOpt = False) -> None:  # fmt: skip
    """What an update would change, resource by resource (the policy pack runs on it too)."""

    def action(eng: Engine) -> dict[str, Any]:
        events: list[auto.EngineEvent] = []
        result = eng.preview(on_event=events.append)
        changes = {k: v for k, v in _counts(result.change_summary).items() if k != "same"}
        return {"stack": stack, "changes": changes, "steps": changed_resources(events)}

    info = _run(
        json_out, action, lambda: engine(stack, kubeconfig, charts, state, stack_file, backend, secrets_provider)
    )
    _emit(json_out, info)
    if expect_no_changes and info["changes"]:
        raise typer.Exit(CHANGES)


def refresh(stack: StackOpt, kubeconfig: KubeconfigOpt = None, charts: ChartsOpt = None, stack_file: StackFileOpt = None,
            state: StateOpt = DEFAULT_STATE, backend: BackendOpt = None, secrets_provider: SecretsOpt = "passphrase",
            preview_only: Annotated[bool, typer.Option("--preview-only", help="Report drift; change nothing.")] = False,
            json_out: JsonOpt = False) -> None:  # fmt: skip
    """Drift: what differs between the stack's state and its cluster (`--preview-only`), or adopt it."""

    def action(eng: Engine) -> dict[str, Any]:
        if preview_only:  # what a refresh would bring in and the stack would then change back
            return {"stack": stack, "drift": eng.drift()}
        events: list[auto.EngineEvent] = []
        eng.stack().refresh(on_event=events.append, color="never", on_output=eng.on_output)
        return {"stack": stack, "refreshed": len([e for e in events if e.res_outputs_event is not None])}

    info = _run(
        json_out, action, lambda: engine(stack, kubeconfig, charts, state, stack_file, backend, secrets_provider)
    )
    _emit(json_out, info)
    if preview_only and info["drift"]:
        raise typer.Exit(CHANGES)


def recover(stack: StackOpt, kubeconfig: KubeconfigOpt = None, charts: ChartsOpt = None, stack_file: StackFileOpt = None,
            state: StateOpt = DEFAULT_STATE, backend: BackendOpt = None, secrets_provider: SecretsOpt = "passphrase",
            converge: Annotated[bool, typer.Option("--converge/--no-converge", help="Update the stack afterwards.")] = True,
            json_out: JsonOpt = False) -> None:  # fmt: skip
    """After a job was killed mid-update (and only then): release its lock, clear its pending
    creates, and update the stack, taking back the objects the dead job half-created."""

    def action(eng: Engine) -> dict[str, Any]:
        return {"stack": stack, **eng.recover(converge=converge)}

    _emit(
        json_out,
        _run(json_out, action, lambda: engine(stack, kubeconfig, charts, state, stack_file, backend, secrets_provider)),
    )
