"""``meshstack promote --from dev --to prod``: a release from one stack to another (docs/cd.md).

Exit codes: 0 promoted (or previewed with --dry-run), 1 error, 2 refused (invalid for the target,
no --yes when not interactive, a source that did not deploy), 6 the target drifted from its state.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from pulumi import automation as auto
from rich.console import Console

from meshstack.cli.options import (
    DEFAULT_STATE,
    BackendOpt,
    ChartsOpt,
    JsonOpt,
    KubeconfigOpt,
    SecretsOpt,
    StateOpt,
    engine,
)
from meshstack.errors import ConfigError
from meshstack.tools.engine import EngineError, StackLocked, project_root
from meshstack.tools.promote import PromoteOutcome, PromotionRefused, Report
from meshstack.tools.promote import promote as run_promotion


def _show(report: Report) -> None:
    console = Console(stderr=True)
    src = report.source
    console.print(
        f"[bold]promote[/] {src.get('stack')} update #{src.get('update')} (commit {src.get('commit') or 'unknown'}) → {report.target}"
    )
    changes = {k: v for k, v in report.preview.get("changes", {}).items() if k != "same"}
    console.print(f"preview of {report.target}: {changes or 'no changes'}")
    for step in report.preview.get("steps", []):
        console.print(f"  {step['op']:>8}  {step['urn'].split('::')[-1]}  [dim]{step['type']}[/]")


def promote(
    source: Annotated[str, typer.Option("--from", help="The stack whose release to promote (what it runs now).")],
    target: Annotated[str, typer.Option("--to", help="The stack to update.")],
    kubeconfig: KubeconfigOpt = None,
    charts: ChartsOpt = None,
    state: StateOpt = DEFAULT_STATE,
    backend: BackendOpt = None,
    secrets_provider: SecretsOpt = "passphrase",
    target_file: Annotated[
        Path | None, typer.Option("--target-file", help="The target's stack file. Default: Pulumi.<to>.yaml.")
    ] = None,
    mesh_version: Annotated[bool, typer.Option("--mesh-version", help="Promote the Istio version too.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Update without asking (pipelines).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Preview only.")] = False,
    overwrite_drift: Annotated[
        bool, typer.Option("--overwrite-drift", help="Replace what drifted in the target's cluster.")
    ] = False,
    write: Annotated[
        bool, typer.Option("--write/--no-write", help="Record the promoted release in the target's stack file.")
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Promote SOURCE's release (apps, images, routes, policies, rollouts) to TARGET's environment."""
    file = (target_file or project_root() / f"Pulumi.{target}.yaml").resolve()
    interactive = sys.stdin.isatty() and not json_out

    def confirm(report: Report) -> bool:
        _show(report)
        return typer.confirm(f"update {target}?", default=False)

    try:
        src = engine(source, None, charts, state, None, backend, secrets_provider)
        dst = engine(target, kubeconfig, charts, state, None, backend, secrets_provider)
        if not json_out:
            dst.on_output = lambda line: print(line, file=sys.stderr)
        report = run_promotion(
            src, dst, target_file=file, mesh_version=mesh_version, yes=yes, dry_run=dry_run,
            overwrite_drift=overwrite_drift, confirm=confirm if interactive else None, write=write,
        )  # fmt: skip
    except PromotionRefused as err:
        typer.echo(f"meshstack: {err}", err=True)
        raise typer.Exit(err.outcome) from None
    except StackLocked as err:
        typer.echo(f"meshstack: {err}", err=True)
        raise typer.Exit(5) from None
    except (ConfigError, EngineError, FileNotFoundError) as err:
        typer.echo(f"meshstack: {err}", err=True)
        raise typer.Exit(PromoteOutcome.REFUSED) from None
    except auto.errors.CommandError as err:
        typer.echo(f"meshstack: the engine failed:\n{err}", err=True)
        raise typer.Exit(PromoteOutcome.ERROR) from None
    if json_out:
        typer.echo(json.dumps(asdict(report), sort_keys=True))
    else:
        _show(report)
        done = "previewed (dry run)" if report.applied is None else f"applied {report.applied}"
        typer.echo(f"meshstack: {done} in {report.seconds.get('total', 0):.1f}s")
