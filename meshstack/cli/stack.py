"""``meshstack up|preview|refresh|recover|destroy``: a stack's lifecycle, as a pipeline job runs it.

Every command runs the policy pack (mandatory for prod); docs/cd.md.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from pulumi import automation as auto

from meshstack.cli.options import (
    CheckpointsOpt,
    Exit,
    JsonOpt,
    StackTarget,
    emit,
    exit_codes,
    fail,
    guarded,
    stack_options,
)
from meshstack.tools.engine import Engine, change_counts, changed_resources

WaitLockOpt = Annotated[
    float,
    typer.Option("--wait-lock", help="Seconds to wait for another update's lock to go (default 0: fail fast)."),
]
RefreshOpt = Annotated[
    bool,
    typer.Option("--refresh/--no-refresh", help="Read the cluster into the state first (drift is then replaced)."),
]
EXPECT_NO_CHANGES_HELP = "Exit 3 when the preview has changes (a pipeline's check that the stack is converged)."

COMMON = (
    (Exit.OK, "done"),
    (Exit.ERROR, "the engine failed"),
    (Exit.REFUSED, "bad input, or refused by the guardrails"),
)
LOCK = ((Exit.LOCKED, "another update holds the stack's lock"),)


def _engine(target: StackTarget, json_out: bool) -> Engine:
    eng = target.engine()
    if not json_out:
        eng.on_output = lambda line: print(line, file=sys.stderr)
    return eng


@stack_options
def up(target: StackTarget, wait_lock: WaitLockOpt = 0, refresh: RefreshOpt = False,
       checkpoints: CheckpointsOpt = None, json_out: JsonOpt = False) -> None:  # fmt: skip
    """Update the stack (`pulumi up`): fails fast on a locked stack unless --wait-lock."""
    with guarded(json_out):
        eng = _engine(target, json_out)
        if checkpoints is not None:
            eng.checkpoints = checkpoints
        result = eng.up(refresh=refresh, wait_lock=wait_lock)
        info = {"stack": target.stack, "changes": change_counts(result.summary.resource_changes)}
    emit(json_out, {**info, "update": result.summary.version})


up.__doc__ = f"{up.__doc__}\n\n{exit_codes(*COMMON, *LOCK)}"


@stack_options
def preview(target: StackTarget,
            expect_no_changes: Annotated[bool, typer.Option("--expect-no-changes/--allow-changes",
                                                            help=EXPECT_NO_CHANGES_HELP)] = False,
            json_out: JsonOpt = False) -> None:  # fmt: skip
    """What an update would change, resource by resource (the policy pack runs on it too)."""
    with guarded(json_out):
        events: list[auto.EngineEvent] = []
        result = _engine(target, json_out).preview(on_event=events.append)
        info = {
            "stack": target.stack,
            "changes": change_counts(result.change_summary),
            "steps": changed_resources(events),
        }
    emit(json_out, info)
    if expect_no_changes and info["changes"]:
        raise typer.Exit(Exit.CHANGES)


preview.__doc__ = f"{preview.__doc__}\n\n{exit_codes(*COMMON, (Exit.CHANGES, 'changes, with --expect-no-changes'))}"


@stack_options
def refresh(target: StackTarget,
            preview_only: Annotated[bool, typer.Option("--preview-only/--apply",
                                                       help="Report drift and change nothing (default: adopt it).")] = False,
            json_out: JsonOpt = False) -> None:  # fmt: skip
    """Drift: what differs between the stack's state and its cluster (--preview-only), or adopt it."""
    info: dict[str, Any]
    with guarded(json_out):
        eng = _engine(target, json_out)
        if preview_only:  # what a refresh would bring in and the stack would then change back
            info = {"stack": target.stack, "drift": eng.drift()}
        else:
            events: list[auto.EngineEvent] = []
            eng.stack().refresh(on_event=events.append, color="never", on_output=eng.on_output)
            info = {"stack": target.stack, "refreshed": len([e for e in events if e.res_outputs_event is not None])}
    emit(json_out, info)
    if preview_only and info["drift"]:
        raise typer.Exit(Exit.CHANGES)


refresh.__doc__ = f"{refresh.__doc__}\n\n{exit_codes(*COMMON, (Exit.CHANGES, 'drift, with --preview-only'), *LOCK)}"


@stack_options
def recover(target: StackTarget,
            converge: Annotated[bool, typer.Option("--converge/--no-converge", help="Update the stack afterwards.")] = True,
            json_out: JsonOpt = False) -> None:  # fmt: skip
    """After a job was killed mid-update (and only then): release its lock, clear its pending
    creates, and update the stack, taking back the objects the dead job half-created."""
    with guarded(json_out):
        info = {"stack": target.stack, **_engine(target, json_out).recover(converge=converge)}
    emit(json_out, info)


recover.__doc__ = f"{recover.__doc__}\n\n{exit_codes(*COMMON)}"


@stack_options
def destroy(target: StackTarget,
            yes: Annotated[bool, typer.Option("--yes/--no-yes", help="Destroy without asking (required off a terminal).")] = False,
            json_out: JsonOpt = False) -> None:  # fmt: skip
    """Delete every resource of the stack (prod keeps what it protects and retains)."""
    if not yes and not (sys.stdin.isatty() and typer.confirm(f"destroy every resource of {target.stack}?")):
        raise fail(json_out, Exit.REFUSED, f"refusing to destroy {target.stack} without --yes")
    with guarded(json_out):
        result = _engine(target, json_out).destroy()
        info = {"stack": target.stack, "changes": change_counts(result.summary.resource_changes)}
    emit(json_out, info)


destroy.__doc__ = f"{destroy.__doc__}\n\n{exit_codes(*COMMON, *LOCK)}"
