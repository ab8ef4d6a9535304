"""``meshstack render`` and ``meshstack diff``: a project's program evaluated offline (Pulumi's
mocks) for a stack, every Kubernetes object it creates written for review (charts' objects
included), and two such renders compared object by object."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from pulumi.errors import RunError

from meshstack.cli.options import Exit, JsonOpt, emit, exit_codes, fail
from meshstack.errors import ConfigError
from meshstack.stacks.program import StackConfigRefused
from meshstack.tools import render as files
from meshstack.tools.charts import CHART_TYPE, ChartTools, ExpansionError, ProviderObject, expand
from meshstack.tools.manifest_diff import DuplicateObject, diff_renders, format_diff
from meshstack.tools.project import Project, ProjectRefused, load_project
from meshstack.tools.recording import Recording

RootOpt = Annotated[
    Path,
    typer.Option(
        "--root",
        help="The project: a directory with Pulumi.yaml (its program is evaluated: this repository, "
        "examples/platform-team, a team's own project) or with meshstack stack files only. Default: here.",
    ),
]
RenderChartsOpt = Annotated[
    str | None,
    typer.Option(
        "--charts",
        envvar="MESHSTACK_CHARTS",
        help="A directory of unpacked charts standing in for remote chart repositories ({version} is replaced by "
        "each chart's version). Default: Istio's offline charts of the release (scripts/istio_charts.sh).",
    ),
]
HelmOpt = Annotated[
    Path | None,
    typer.Option(
        "--helm",
        envvar="MESHSTACK_HELM",
        help="The helm binary that templates the charts. Default: the one `make engine` builds "
        "($MESHSTACK_CACHE/helm-bin/helm).",
    ),
]
NoChartsOpt = Annotated[
    bool,
    typer.Option(
        "--no-charts",
        help="Leave out the objects the provider renders (Helm charts, YAML config groups): the program's own only.",
    ),
]


def _evaluate(
    project: Project, stack: str, charts: str | None, helm: Path | None, no_charts: bool, json_out: bool
) -> tuple[Recording, list[ProviderObject] | None]:
    """The stack's recording and the objects the provider renders for it (None: --no-charts);
    each failure as its exit."""
    try:
        rec = project.evaluate(stack)
    except FileNotFoundError as err:
        raise fail(json_out, Exit.REFUSED, str(err)) from None
    except (ConfigError, StackConfigRefused) as err:
        error = err.error if isinstance(err, StackConfigRefused) else err
        problems = [{"path": f"{error.prefix}{p.path}", "message": p.message} for p in error.problems]
        raise fail(json_out, Exit.REFUSED, f"stack {stack!r} has bad config:\n{error}", problems) from None
    except RunError as err:
        raise fail(json_out, Exit.REFUSED, f"stack {stack!r} cannot be rendered: {err}") from None
    except ImportError as err:
        where = f"the program runs in this Python ({sys.prefix}): install what it needs there"
        raise fail(json_out, Exit.REFUSED, f"stack {stack!r} cannot be rendered: {err}; {where}") from None
    if no_charts:
        return rec, None
    try:
        tools = ChartTools.locate(helm, charts) if any(r.type == CHART_TYPE for r in rec.resources) else None
        return rec, expand(rec, tools, project.program_dir)
    except ExpansionError as err:
        raise fail(json_out, Exit.REFUSED, f"stack {stack!r}: {err}") from None


def _project(root: Path, json_out: bool) -> Project:
    try:
        return load_project(root)
    except ProjectRefused as err:
        raise fail(json_out, Exit.REFUSED, str(err)) from None


def _side(
    side: str, root: Path, charts: str | None, helm: Path | None, no_charts: bool, json_out: bool
) -> list[dict[str, Any]]:
    """The objects of one side of a diff: a render directory's, or those of a stack rendered now
    (through the same files, so both kinds of side read alike)."""
    directory = Path(side)
    if directory.is_dir():
        try:
            return files.read_manifests(directory)
        except FileNotFoundError as err:
            raise fail(json_out, Exit.REFUSED, str(err)) from None
    project = _project(root, json_out)
    rec, expanded = _evaluate(project, side, charts, helm, no_charts, json_out)
    with tempfile.TemporaryDirectory(prefix="meshstack-diff-") as tmp:
        files.write_render(rec, Path(tmp), expanded, project.name)
        return files.read_manifests(Path(tmp))


def render(
    stack: Annotated[str, typer.Option("--stack", help="The stack: Pulumi.<stack>.yaml in --root.")],
    out: Annotated[Path, typer.Option("--out", help="The directory to write the render into.")],
    root: RootOpt = Path(),
    charts: RenderChartsOpt = None,
    helm: HelmOpt = None,
    no_charts: NoChartsOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Render every Kubernetes object the stack creates into --out: manifests.yaml (charts' objects included),
    charts.yaml, resources.yaml, summary.txt. No cluster and no pulumi CLI; secret values are redacted; the same
    inputs give byte-identical files."""
    project = _project(root, json_out)
    rec, expanded = _evaluate(project, stack, charts, helm, no_charts, json_out)
    for warning in rec.warnings:
        typer.echo(f"warning: {warning}", err=True)
    hashes = files.write_render(rec, out, expanded, project.name)
    if json_out:
        emit(True, {"stack": stack, "project": project.name, "out": str(out), "sha256": hashes,
                    "digest": files.digest(hashes)})  # fmt: skip
        return
    typer.echo((out / "summary.txt").read_text(), nl=False)
    typer.echo(f"wrote {out}/{', '.join(files.FILES)} (digest {files.digest(hashes)})")


render.__doc__ = (
    f"{render.__doc__}\n\n"
    f"{exit_codes((Exit.OK, 'written'), (Exit.REFUSED, 'bad config, or a chart cannot be rendered (the message says what to run)'))}"
)


def diff(
    a: Annotated[str, typer.Argument(help="A render directory (meshstack render --out) or a stack of --root.")],
    b: Annotated[str, typer.Argument(help="The same for the other side.")],
    root: RootOpt = Path(),
    charts: RenderChartsOpt = None,
    helm: HelmOpt = None,
    no_charts: NoChartsOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Show what changes, object by object, from A to B (two renders, two stacks, or one of each): the objects
    added and removed, and for each changed object every field path with its old → new value."""
    sides = [_side(side, root, charts, helm, no_charts, json_out) for side in (a, b)]
    try:
        changes = diff_renders(sides[0], sides[1])
    except DuplicateObject as err:
        raise fail(json_out, Exit.REFUSED, str(err)) from None
    if json_out:
        emit(True, {"a": a, "b": b, **changes.as_json()})
    else:
        typer.echo(format_diff(changes, a, b), nl=False)
    if not changes.empty:
        raise typer.Exit(int(Exit.CHANGES))


diff.__doc__ = (
    f"{diff.__doc__}\n\n"
    f"{exit_codes((Exit.OK, 'no differences'), (Exit.REFUSED, 'a side cannot be read or rendered'), (Exit.CHANGES, 'differences'))}"
)


def config_reference() -> None:
    """Print the reference of every meshstack:* stack config key, as docs/config.md has it (make docs)."""
    from meshstack.tools import config_docs  # noqa: PLC0415 - only this command needs it

    typer.echo(config_docs.render(), nl=False)
