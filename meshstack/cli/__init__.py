"""The ``meshstack`` command line (typer + rich), for people and pipelines.

meshstack up|preview|refresh|recover --stack S    a stack's lifecycle (docs/cd.md)
meshstack promote --from dev --to prod           a release from one stack to another (docs/cd.md)
meshstack rollout run|status|promote|abort|resume --stack S --app A    progressive delivery (docs/rollouts.md)
"""

from __future__ import annotations

import faulthandler
import signal

import typer

from meshstack.cli import promote, rollout, stack

app = typer.Typer(help="meshstack: the Istio service mesh as code.", no_args_is_help=True, add_completion=False)
app.command("up")(stack.up)
app.command("preview")(stack.preview)
app.command("refresh")(stack.refresh)
app.command("recover")(stack.recover)
app.command("promote")(promote.promote)
app.add_typer(rollout.rollout_app, name="rollout")


def main() -> None:
    # `kill -USR1 <pid>` prints every thread's stack to stderr and goes on: how a pipeline (or a
    # test) finds where a job that stopped moving waits.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    app()


__all__ = ["app", "main"]
