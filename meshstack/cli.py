"""The ``meshstack`` command line.

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
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from kubernetes import client, config
from rich.console import Console
from rich.table import Table

from meshstack.errors import ConfigError
from meshstack.tools.engine import DEFAULT_STATE, Engine, EngineError
from meshstack.tools.events import Event, Sink, fan_out, json_lines, webhook
from meshstack.tools.lease import LeaseHeld, RolloutLease
from meshstack.tools.prometheus import Prometheus
from meshstack.tools.rollout import Outcome, Runner
from meshstack.tools.rollout_stack import EngineStack, NoRollout

app = typer.Typer(help="meshstack: the Istio service mesh as code.", no_args_is_help=True, add_completion=False)
rollout_app = typer.Typer(help="Progressive delivery of an app's canary, gated on Prometheus.", no_args_is_help=True)
app.add_typer(rollout_app, name="rollout")


class Command(StrEnum):
    RUN = "run"
    RESUME = "resume"
    PROMOTE = "promote"
    ABORT = "abort"


StackOpt = Annotated[str, typer.Option("--stack", help="The stack (Pulumi.<stack>.yaml).")]
AppOpt = Annotated[str, typer.Option("--app", help="The app whose rollout to drive.")]
KubeconfigOpt = Annotated[
    Path | None, typer.Option("--kubeconfig", help="The cluster's kubeconfig. Default: $KUBECONFIG.")
]
ChartsOpt = Annotated[
    Path | None, typer.Option("--charts", help="A local Istio chart directory (air-gapped; scripts/istio_charts.sh).")
]
StateOpt = Annotated[Path, typer.Option("--state", help="The engine's working directory (local file backend).")]
StackFileOpt = Annotated[
    Path | None, typer.Option("--stack-file", help="The stack file. Default: Pulumi.<stack>.yaml of the project.")
]
PrometheusOpt = Annotated[
    str | None,
    typer.Option(
        "--prometheus", help="Prometheus's URL (e.g. a port-forward of the addon). Default: $MESHSTACK_PROMETHEUS_URL."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON event per line (for pipelines).")]
WebhookOpt = Annotated[str | None, typer.Option("--webhook", help="POST each event as JSON to this URL.")]


def _engine(
    stack: str, kubeconfig: Path | None, charts: Path | None, state: Path, stack_file: Path | None = None
) -> Engine:
    kube = kubeconfig or (Path(os.environ["KUBECONFIG"]) if os.environ.get("KUBECONFIG") else None)
    if kube is None:
        raise typer.BadParameter("give --kubeconfig or set $KUBECONFIG", param_hint="--kubeconfig")
    engine = Engine(
        stack,
        kube.resolve(),
        charts.resolve() if charts else None,
        state.resolve(),
        on_output=None,
        stack_file=stack_file.resolve() if stack_file else None,
    )
    if os.environ.get("MESHSTACK_SECRETS_GENERATOR"):
        engine.set_overrides(secrets={"generator": os.environ["MESHSTACK_SECRETS_GENERATOR"]})
    return engine


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


def _drive(command: Command, stack: str, app_name: str, kubeconfig: Path | None, charts: Path | None, state: Path,
           prometheus: str | None, json_out: bool, hook: str | None, stack_file: Path | None) -> None:  # fmt: skip
    url = prometheus or os.environ.get("MESHSTACK_PROMETHEUS_URL")
    if not url and command is not Command.ABORT:
        raise typer.BadParameter("give --prometheus or set $MESHSTACK_PROMETHEUS_URL", param_hint="--prometheus")
    try:
        engine = _engine(stack, kubeconfig, charts, state, stack_file)
        runner = Runner(EngineStack(engine), app_name, Prometheus(url or "http://127.0.0.1:9"), _sinks(json_out, hook))
    except (ConfigError, NoRollout, EngineError, FileNotFoundError) as err:
        typer.echo(f"meshstack: {err}", err=True)
        raise typer.Exit(Outcome.BAD_INPUT) from None
    lease = RolloutLease(
        client.CoordinationV1Api(config.new_client_from_config(str(engine.kubeconfig))), runner.namespace, app_name
    )
    try:
        lease.acquire()
    except LeaseHeld as err:
        typer.echo(f"meshstack: {err}", err=True)
        raise typer.Exit(Outcome.BUSY) from None
    try:
        actions = {
            Command.RUN: runner.run,
            Command.RESUME: runner.resume,
            Command.PROMOTE: runner.promote,
            Command.ABORT: runner.abort,
        }
        outcome = actions[command]()
    except Exception as err:  # noqa: BLE001 - reported as an error exit, the state stays recorded
        typer.echo(f"meshstack: rollout {command.value} failed: {err}", err=True)
        raise typer.Exit(Outcome.ERROR) from None
    finally:
        lease.release()
    raise typer.Exit(int(outcome))


@rollout_app.command("run")
def run(stack: StackOpt, app_name: AppOpt, kubeconfig: KubeconfigOpt = None, charts: ChartsOpt = None, stack_file: StackFileOpt = None,
        state: StateOpt = DEFAULT_STATE, prometheus: PrometheusOpt = None, json_out: JsonOpt = False,
        hook: WebhookOpt = None) -> None:  # fmt: skip
    """Start the app's rollout, or go on from where it stands."""
    _drive(Command.RUN, stack, app_name, kubeconfig, charts, state, prometheus, json_out, hook, stack_file)


@rollout_app.command("resume")
def resume(stack: StackOpt, app_name: AppOpt, kubeconfig: KubeconfigOpt = None, charts: ChartsOpt = None, stack_file: StackFileOpt = None,
           state: StateOpt = DEFAULT_STATE, prometheus: PrometheusOpt = None, json_out: JsonOpt = False,
           hook: WebhookOpt = None) -> None:  # fmt: skip
    """After a kill or a hold: re-apply the last recorded step, then go on (or roll back past the deadline)."""
    _drive(Command.RESUME, stack, app_name, kubeconfig, charts, state, prometheus, json_out, hook, stack_file)


@rollout_app.command("promote")
def promote(stack: StackOpt, app_name: AppOpt, kubeconfig: KubeconfigOpt = None, charts: ChartsOpt = None, stack_file: StackFileOpt = None,
            state: StateOpt = DEFAULT_STATE, prometheus: PrometheusOpt = None, json_out: JsonOpt = False,
            hook: WebhookOpt = None) -> None:  # fmt: skip
    """Take a paused rollout past its gate (or hold) to the next step, then go on."""
    _drive(Command.PROMOTE, stack, app_name, kubeconfig, charts, state, prometheus, json_out, hook, stack_file)


@rollout_app.command("abort")
def abort(stack: StackOpt, app_name: AppOpt, kubeconfig: KubeconfigOpt = None, charts: ChartsOpt = None, stack_file: StackFileOpt = None,
          state: StateOpt = DEFAULT_STATE, json_out: JsonOpt = False, hook: WebhookOpt = None) -> None:  # fmt: skip
    """Roll back now: traffic to the stable version, then the canary scaled down."""
    _drive(Command.ABORT, stack, app_name, kubeconfig, charts, state, None, json_out, hook, stack_file)


@rollout_app.command("status")
def status(stack: StackOpt, app_name: AppOpt, kubeconfig: KubeconfigOpt = None, charts: ChartsOpt = None, stack_file: StackFileOpt = None,
           state: StateOpt = DEFAULT_STATE, json_out: JsonOpt = False) -> None:  # fmt: skip
    """Where the app's rollout stands, as the stack recorded it."""
    try:
        runner = Runner(
            EngineStack(_engine(stack, kubeconfig, charts, state, stack_file)),
            app_name,
            Prometheus("http://127.0.0.1:9"),
            lambda _: None,
        )
        info: dict[str, Any] = runner.status()
    except (ConfigError, NoRollout, EngineError) as err:
        typer.echo(f"meshstack: {err}", err=True)
        raise typer.Exit(2) from None
    if json_out:
        typer.echo(json.dumps(info, sort_keys=True))
        return
    table = Table(title=f"rollout of {app_name} on {stack}")
    for key in ("phase", "step", "plan", "weights", "failures", "reason"):
        table.add_row(key, str(info[key]))
    Console().print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
