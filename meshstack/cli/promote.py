"""``meshstack promote --from dev --to prod``: a release from one stack to another (docs/cd.md);
``meshstack promotion-summary FILE``: one line saying where a stack file's release came from."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from meshstack.cli.options import JsonOpt, StackTarget, fail, guarded, location_options
from meshstack.tools.engine import project_root
from meshstack.tools.promote import PromotionRefused, Report, describe
from meshstack.tools.promote import promote as run_promotion

EXIT_CODES = (
    "Exit codes:\n\n0  promoted (or previewed with --dry-run)\n\n1  the engine failed\n\n2  refused: invalid for "
    "the target, no --yes when not interactive, a source that did not deploy, the guardrails\n\n5  a stack is "
    "locked by another update\n\n6  the target drifted from its state (--overwrite-drift replaces it)"
)


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


@location_options
def promote(
    where: StackTarget,
    source: Annotated[str, typer.Option("--from", help="The stack whose release to promote (what it runs now).")],
    target: Annotated[str, typer.Option("--to", help="The stack to update.")],
    target_file: Annotated[
        Path | None, typer.Option("--target-file", help="The target's stack file. Default: Pulumi.<to>.yaml.")
    ] = None,
    mesh_version: Annotated[
        bool, typer.Option("--mesh-version/--no-mesh-version", help="Promote the Istio version too.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes/--no-yes", help="Update without asking (pipelines).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run/--no-dry-run", help="Preview only.")] = False,
    overwrite_drift: Annotated[
        bool, typer.Option("--overwrite-drift/--keep-drift", help="Replace what drifted in the target's cluster.")
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
        with guarded(json_out):
            src = where.engine(source, kubeconfig=False)
            dst = where.engine(target)
            if not json_out:
                dst.on_output = lambda line: print(line, file=sys.stderr)
            report = run_promotion(
                src, dst, target_file=file, mesh_version=mesh_version, yes=yes, dry_run=dry_run,
                overwrite_drift=overwrite_drift, confirm=confirm if interactive else None, write=write,
            )  # fmt: skip
    except PromotionRefused as err:
        raise fail(json_out, err.outcome, str(err)) from None
    if json_out:
        typer.echo(json.dumps(asdict(report), sort_keys=True))
    else:
        _show(report)
        done = "previewed (dry run)" if report.applied is None else f"applied {report.applied}"
        typer.echo(f"meshstack: {done} in {report.seconds.get('total', 0):.1f}s")


promote.__doc__ = f"{promote.__doc__}\n\n{EXIT_CODES}"


def promotion_summary(
    stack_file: Annotated[Path, typer.Argument(help="A stack file (Pulumi.<stack>.yaml) a promotion rewrote.")],
) -> None:
    """One line: where the stack file's promoted release came from (a promotion commit's message)."""
    typer.echo(describe(stack_file))
