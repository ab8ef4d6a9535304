"""``meshstack rollout``: progressive delivery of an app's canary, gated on Prometheus.

    meshstack rollout run     --stack dev --app reviews     start the app's rollout, or go on
    meshstack rollout status  --stack dev --app reviews     where it stands
    meshstack rollout promote --stack dev --app reviews     past a manual gate (or a hold), then on
    meshstack rollout abort   --stack dev --app reviews     roll back now
    meshstack rollout resume  --stack dev --app reviews     after a kill or a hold, from the last step

Exit codes: 0 promoted, 1 error, 2 bad input, 3 rolled back, 4 paused, 5 another runner holds the
rollout (docs/rollouts.md). ``--json`` prints one event per line; ``--webhook URL`` receives each
event as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer
from kubernetes import client, config
from rich.console import Console
from rich.table import Table

from meshstack.cli.options import JsonOpt, StackTarget, fail, stack_options
from meshstack.errors import ConfigError
from meshstack.tools.engine import Engine, EngineError
from meshstack.tools.runner.engine_stack import EngineStack, NoRollout
from meshstack.tools.runner.events import Event, Sink, fan_out, json_lines, webhook
from meshstack.tools.runner.lease import LeaseHeld, RolloutLease
from meshstack.tools.runner.machine import Outcome, Runner
from meshstack.tools.runner.prometheus import Prometheus

rollout_app = typer.Typer(help="Progressive delivery of an app's canary, gated on Prometheus.", no_args_is_help=True)


class Command(StrEnum):
    RUN = "run"
    RESUME = "resume"
    PROMOTE = "promote"
    ABORT = "abort"


AppOpt = Annotated[str, typer.Option("--app", help="The app whose rollout to drive.")]
PrometheusOpt = Annotated[
    str | None,
    typer.Option(
        "--prometheus", help="Prometheus's URL (e.g. a port-forward of the addon). Default: $MESHSTACK_PROMETHEUS_URL."
    ),
]
WebhookOpt = Annotated[str | None, typer.Option("--webhook", help="POST each event as JSON to this URL.")]


class LiveView:
    """Step, weights, each metric against its threshold, time to the next check — on a terminal."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, event: Event) -> None:
        weights = " ".join(f"{v} {w}%" for v, w in event.weights.items())
        d = event.detail
        if event.type == "metric":
            mark = "[green]✓[/]" if d.get("passed") else "[red]✗[/]"
            value = "no value" if d.get("value") is None else f"{d['value']:.4g}"
            self.console.print(
                f"  {mark} {d['metric']}: {value} (threshold {d['threshold']}, {d.get('requests', 0):.0f} requests)"
            )
        elif event.type == "waiting":
            self.console.print(f"[dim]{event.app} @ {event.step} [{weights}]: next check in {d['seconds']:.0f}s[/]")
        elif event.type in (
            "started",
            "applied",
            "resumed",
            "rolled-back",
            "promoted",
            "paused",
            "cleaned-up",
            "no-data",
            "error",
        ):
            extra = ", ".join(f"{k}={v}" for k, v in d.items())
            colour = {"rolled-back": "red", "promoted": "green", "paused": "yellow", "error": "red"}.get(
                event.type, "cyan"
            )
            self.console.print(f"[{colour}]{event.type}[/] {event.app} @ {event.step} [{weights}] {extra}")


def _sinks(json_out: bool, hook: str | None) -> Sink:
    sinks: list[Sink] = [json_lines(sys.stdout) if json_out or not sys.stdout.isatty() else LiveView(Console())]
    if hook:
        sinks.append(webhook(hook))
    return fan_out(*sinks)


def _drive(command: Command, make: Callable[[], Engine], app_name: str, prometheus: str | None, json_out: bool,
           hook: str | None) -> None:  # fmt: skip
    url = prometheus or os.environ.get("MESHSTACK_PROMETHEUS_URL")
    if not url and command is not Command.ABORT:
        raise typer.BadParameter("give --prometheus or set $MESHSTACK_PROMETHEUS_URL", param_hint="--prometheus")
    try:
        eng = make()
        kubeconfig = eng.cluster_kubeconfig()
        if kubeconfig is None:
            raise EngineError(
                "the runner reads routes back from the API server: give --kubeconfig, set $KUBECONFIG, or set "
                f"meshstack:kubernetes in the stack {eng.stack_name}"
            )
        runner = Runner(EngineStack(eng), app_name, Prometheus(url or "http://127.0.0.1:9"), _sinks(json_out, hook))
    except (ConfigError, NoRollout, EngineError, FileNotFoundError) as err:
        raise fail(json_out, Outcome.BAD_INPUT, str(err)) from None
    lease = RolloutLease(
        client.CoordinationV1Api(config.new_client_from_config(str(kubeconfig))), runner.namespace, app_name
    )
    try:
        lease.acquire()
    except LeaseHeld as err:
        raise fail(json_out, Outcome.BUSY, str(err)) from None
    try:
        actions = {
            Command.RUN: runner.run,
            Command.RESUME: runner.resume,
            Command.PROMOTE: runner.promote,
            Command.ABORT: runner.abort,
        }
        outcome = actions[command]()
    except Exception as err:  # noqa: BLE001 - reported as an error exit, the state stays recorded
        raise fail(json_out, Outcome.ERROR, f"rollout {command.value} failed: {err}") from None
    finally:
        lease.release()
    raise typer.Exit(int(outcome))


EXIT_CODES = (
    "Exit codes:\n\n0  promoted\n\n1  error\n\n2  bad input\n\n3  rolled back\n\n4  paused\n\n"
    "5  another runner holds the rollout (docs/rollouts.md)"
)


def _command(command: Command, doc: str) -> Callable[..., None]:
    @stack_options
    def drive(target: StackTarget, app_name: AppOpt, prometheus: PrometheusOpt = None, json_out: JsonOpt = False,
              hook: WebhookOpt = None) -> None:  # fmt: skip
        _drive(command, target.engine, app_name, prometheus, json_out, hook)

    drive.__doc__ = f"{doc}\n\n{EXIT_CODES}"
    return drive


rollout_app.command("run")(_command(Command.RUN, "Start the app's rollout, or go on from where it stands."))
rollout_app.command("resume")(
    _command(
        Command.RESUME,
        "After a kill or a hold: re-apply the last recorded step, then go on (or roll back past the deadline).",
    )
)
rollout_app.command("promote")(
    _command(Command.PROMOTE, "Take a paused rollout past its gate (or hold) to the next step, then go on.")
)
rollout_app.command("abort")(
    _command(Command.ABORT, "Roll back now: traffic to the stable version, then the canary scaled down.")
)


@rollout_app.command("status")
@stack_options
def status(target: StackTarget, app_name: AppOpt, json_out: JsonOpt = False) -> None:
    """Where the app's rollout stands, as the stack recorded it. Exit codes: 0, or 2 (bad input)."""
    try:
        runner = Runner(EngineStack(target.engine()), app_name, Prometheus("http://127.0.0.1:9"), lambda _: None)
        info: dict[str, Any] = runner.status()
    except (ConfigError, NoRollout, EngineError) as err:
        raise fail(json_out, Outcome.BAD_INPUT, str(err)) from None
    if json_out:
        typer.echo(json.dumps(info, sort_keys=True))
        return
    table = Table(title=f"rollout of {app_name} on {target.stack}")
    for key in ("phase", "step", "plan", "weights", "failures", "reason"):
        table.add_row(key, str(info[key]))
    Console().print(table)
