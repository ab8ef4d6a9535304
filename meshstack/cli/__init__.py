"""The ``meshstack`` command line (typer + rich), for people and pipelines.

meshstack up|preview|refresh|recover|destroy --stack S   a stack's lifecycle (docs/cd.md)
meshstack promote --from dev --to prod                  a release from one stack to another (docs/cd.md)
meshstack rollout run|status|promote|abort|resume --stack S --app A    progressive delivery (docs/rollouts.md)
meshstack render --stack S --out DIR                    the stack's objects, offline, for review
meshstack diff A B                                      two renders or stacks, object by object
meshstack verify --stack S                              the stack's mesh, working on its cluster
meshstack graph --stack S --out FILE.svg [--live]       the mesh as a picture (docs/apps.md#meshstack-graph)
"""

from __future__ import annotations

import faulthandler
import signal
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from meshstack.cli import graph, promote, render, rollout, stack, verify


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"meshstack {version('meshstack')}")
        except PackageNotFoundError:  # a checkout that was never installed
            typer.echo("meshstack (not installed)")
        raise typer.Exit(0)


app = typer.Typer(
    help="meshstack: the Istio service mesh as code. Every command lists its exit codes in its --help.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root(
    show_version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print meshstack's version and exit."),
    ] = None,
) -> None:
    """meshstack: the Istio service mesh as code."""


app.command("up")(stack.up)
app.command("preview")(stack.preview)
app.command("refresh")(stack.refresh)
app.command("recover")(stack.recover)
app.command("destroy")(stack.destroy)
app.command("promote")(promote.promote)
app.command("promotion-summary")(promote.promotion_summary)
app.command("render")(render.render)
app.command("diff")(render.diff)
app.command("verify")(verify.verify_command)
app.command("config-reference")(render.config_reference)
app.command("graph")(graph.graph)
app.add_typer(rollout.rollout_app, name="rollout")


def main() -> None:
    # `kill -USR1 <pid>` prints every thread's stack to stderr and goes on: how a pipeline (or a
    # test) finds where a job that stopped moving waits.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    app()


__all__ = ["app", "main"]
