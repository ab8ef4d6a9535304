"""``meshstack render``: a stack's whole program evaluated offline (Pulumi's mocks), written for review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pulumi.errors import RunError

from meshstack.cli.options import Exit, JsonOpt, StackOpt, emit, exit_codes, fail
from meshstack.errors import ConfigError
from meshstack.stacks.program import StackConfigRefused
from meshstack.stacks.program import main as program
from meshstack.tools.recording import run_stack_file
from meshstack.tools.render import write_render


def render(
    stack: StackOpt,
    out: Annotated[Path, typer.Option("--out", help="The directory to write the render into.")],
    root: Annotated[
        Path, typer.Option("--root", help="The project directory holding Pulumi.<stack>.yaml. Default: here.")
    ] = Path(),
    json_out: JsonOpt = False,
) -> None:
    """Render the stack's objects into --out: manifests.yaml, charts.yaml, resources.yaml, summary.txt.
    No cluster and no pulumi CLI; secret values are redacted."""
    try:
        rec = run_stack_file(stack, root, program)
    except FileNotFoundError as err:
        raise fail(json_out, Exit.REFUSED, str(err)) from None
    except (ConfigError, StackConfigRefused) as err:
        error = err.error if isinstance(err, StackConfigRefused) else err
        problems = [{"path": f"{error.prefix}{p.path}", "message": p.message} for p in error.problems]
        raise fail(json_out, Exit.REFUSED, f"stack {stack!r} has bad config:\n{error}", problems) from None
    except RunError as err:
        raise fail(json_out, Exit.REFUSED, f"stack {stack!r} cannot be rendered: {err}") from None
    for warning in rec.warnings:
        typer.echo(f"warning: {warning}", err=True)
    counts = write_render(rec, out)
    if json_out:
        emit(True, {"stack": stack, "out": str(out), "counts": counts})
        return
    typer.echo((out / "summary.txt").read_text(), nl=False)
    typer.echo(f"wrote {out}/manifests.yaml, charts.yaml, resources.yaml")


render.__doc__ = f"{render.__doc__}\n\n{exit_codes((Exit.OK, 'written'), (Exit.REFUSED, 'bad config'))}"


def config_reference() -> None:
    """Print the reference of every meshstack:* stack config key, as docs/config.md has it (make docs)."""
    from meshstack.tools import config_docs  # noqa: PLC0415 - only this command needs it

    typer.echo(config_docs.render(), nl=False)
