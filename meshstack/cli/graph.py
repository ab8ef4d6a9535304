"""``meshstack graph``: the mesh as SVG — gateways → hosts → services → versions, the traffic, the
mTLS of each edge, who may call whom, where a rollout stands (docs/apps.md#meshstack-graph).

The stack's program is evaluated offline as ``meshstack render`` does (Pulumi's mocks: no cluster,
no pulumi CLI), a team's own program too (its ``__main__.py``, or ``--program module:function``);
the graph is read from the objects it renders (:mod:`meshstack.tools.graph.model`). ``--live`` adds
what the cluster has: endpoints and sidecar proxies.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pulumi.errors import RunError

from meshstack.cli.options import Exit, JsonOpt, StackOpt, exit_codes, fail
from meshstack.errors import ConfigError
from meshstack.stacks.program import StackConfigRefused
from meshstack.tools.graph.live import ClusterUnreadable, live_graph
from meshstack.tools.graph.model import Graph, of_recording
from meshstack.tools.graph.svg import write_svg
from meshstack.tools.recording import ProgramNotFound, project_program, run_stack_file


def _outputs(path: Path | None, json_out: bool) -> dict[str, Any] | None:
    """The stack's recorded outputs (``pulumi stack output --json``): where its rollouts stand."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise fail(json_out, Exit.REFUSED, f"--outputs {path}: {err}") from None
    if not isinstance(data, dict):
        raise fail(json_out, Exit.REFUSED, f"--outputs {path}: expected a JSON object of outputs") from None
    return data


def graph(
    stack: StackOpt,
    out: Annotated[Path | None, typer.Option("--out", help="The SVG file to write.")] = None,
    root: Annotated[
        Path, typer.Option("--root", help="The project directory holding Pulumi.<stack>.yaml. Default: here.")
    ] = Path(),
    program: Annotated[
        str | None,
        typer.Option(
            "--program",
            help="The program as module:function, importable from --root (a team's own program). Default: "
            "meshstack's for the meshstack project, else the project's __main__.py.",
        ),
    ] = None,
    outputs: Annotated[
        Path | None,
        typer.Option(
            "--outputs",
            help="The stack's recorded outputs (pulumi stack output --json --show-secrets > FILE): where its "
            "rollouts stand. Default: none recorded (each rollout at its start).",
        ),
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Also draw what the cluster has: endpoints, and sidecar proxies.")
    ] = False,
    kubeconfig: Annotated[
        Path | None, typer.Option("--kubeconfig", help="The cluster --live reads. Default: $KUBECONFIG.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Draw the stack's mesh as SVG into --out: gateways → hosts → services → versions with weights,
    matches, faults, mirrors, each edge's mTLS, the callers authorization allows and where each
    rollout stands. --json prints the graph's nodes and edges. The program's warnings (an app
    nothing may call) are printed and drawn."""
    if out is None and not json_out:
        raise fail(json_out, Exit.REFUSED, "give --out FILE.svg, --json, or both")
    recorded = _outputs(outputs, json_out)
    try:
        entry, project = project_program(root, program)
        rec = run_stack_file(stack, root, entry, project=project, stack_outputs=recorded)
    except (FileNotFoundError, ProgramNotFound) as err:
        raise fail(json_out, Exit.REFUSED, str(err)) from None
    except (ConfigError, StackConfigRefused) as err:
        error = err.error if isinstance(err, StackConfigRefused) else err
        problems = [{"path": f"{error.prefix}{p.path}", "message": p.message} for p in error.problems]
        raise fail(json_out, Exit.REFUSED, f"stack {stack!r} has bad config:\n{error}", problems) from None
    except RunError as err:
        raise fail(json_out, Exit.REFUSED, f"stack {stack!r} cannot be evaluated: {err}") from None
    drawn: Graph = of_recording(rec)
    if live:
        given = kubeconfig or (Path(os.environ["KUBECONFIG"]) if os.environ.get("KUBECONFIG") else None)
        if given is None:
            raise fail(json_out, Exit.REFUSED, "--live reads the cluster: give --kubeconfig or set $KUBECONFIG")
        try:
            drawn = live_graph(drawn, given.expanduser())
        except ClusterUnreadable as err:
            raise fail(json_out, Exit.ERROR, str(err)) from None
    for warning in drawn.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_svg(drawn, out)
    if json_out:
        typer.echo(json.dumps({**drawn.to_json(), "out": str(out) if out else None}, sort_keys=True))
        return
    typer.echo(f"wrote {out}: {len(drawn.nodes)} nodes, {len(drawn.edges)} edges, {len(drawn.warnings)} warnings")


graph.__doc__ = (
    f"{inspect.cleandoc(graph.__doc__ or '')}\n\n"
    f"{exit_codes((Exit.OK, 'drawn'), (Exit.ERROR, '--live: the cluster could not be read'), (Exit.REFUSED, 'bad config or options, no such stack or program'))}"
)
