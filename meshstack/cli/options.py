"""What every ``meshstack`` command shares, declared once: the stack options, ``--json``, the exit
codes, and how failures are reported.

A command that works on a stack takes one ``target: StackTarget`` parameter and is decorated with
:func:`stack_options`, which declares ``--stack``, ``--kubeconfig``, ``--charts``,
``--stack-file``, ``--state``, ``--backend`` and ``--secrets-provider`` on it. :func:`guarded`
runs a command's work and turns each kind of failure into its exit code and one message (one
JSON object with ``--json``).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pulumi import automation as auto

from meshstack.errors import ConfigError
from meshstack.tools.engine import DEFAULT_STATE, Engine, EngineError, PolicyRefused, StackLocked


class Exit(IntEnum):
    """The exit codes of every ``meshstack`` command (each command's help lists those it uses)."""

    OK = 0
    #: The engine (or the runner) failed; the message says where.
    ERROR = 1
    #: Bad input (config, options) or a refusal (guardrails, a promotion without --yes): nothing changed.
    REFUSED = 2
    #: ``preview --expect-no-changes`` / ``refresh --preview-only``: there are changes. ``rollout``: rolled back.
    CHANGES = 3
    #: ``rollout``: paused at a gate or a hold.
    PAUSED = 4
    #: Another update holds the stack's lock (or another runner the rollout's lease).
    LOCKED = 5
    #: ``promote``: the target drifted from its state.
    DRIFT = 6


def exit_codes(*codes: tuple[Exit, str]) -> str:
    """An epilog listing a command's exit codes, for its ``--help``."""
    lines = "\n\n".join(f"{int(code)}  {text}" for code, text in codes)
    return f"Exit codes:\n\n{lines}"


StackOpt = Annotated[str, typer.Option("--stack", help="The stack: Pulumi.<stack>.yaml.")]
KubeconfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--kubeconfig",
        help="The cluster's kubeconfig. Default: $KUBECONFIG, else the stack's own meshstack:kubernetes (EKS …).",
    ),
]
ChartsOpt = Annotated[
    Path | None,
    typer.Option(
        "--charts",
        envvar="MESHSTACK_CHARTS",
        help="A local Istio chart directory (air-gapped; scripts/istio_charts.sh). Default: the stack's chartRepository.",
    ),
]
StateOpt = Annotated[
    Path,
    typer.Option(
        "--state",
        envvar="MESHSTACK_STATE",
        help="The engine's working directory (and the local backend when --backend is unset).",
    ),
]
StackFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--stack-file", help="The stack file. Default: Pulumi.<stack>.yaml in $MESHSTACK_PROJECT, else this checkout."
    ),
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend",
        envvar="PULUMI_BACKEND_URL",
        help="Where state lives, as for `pulumi login`: s3://bucket?region=… (docs/cd.md). Default: a local file "
        "backend under --state.",
    ),
]
SecretsOpt = Annotated[
    str,
    typer.Option(
        "--secrets-provider",
        envvar="MESHSTACK_SECRETS_PROVIDER",
        help="passphrase ($PULUMI_CONFIG_PASSPHRASE) or a KMS key URL: awskms://alias/meshstack?region=…",
    ),
]
CheckpointsOpt = Annotated[
    str | None,
    typer.Option(
        "--checkpoints",
        envvar="MESHSTACK_CHECKPOINTS",
        help="When the update writes state: final (once, at the end: the default; a killed run needs recover), or "
        "every (each resource operation, Pulumi's default). docs/benchmarks.md#checkpoints",
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json/--no-json", help="Machine-readable output for pipelines; errors as one JSON object too.")
]


@dataclass(frozen=True)
class StackTarget:
    """Which stack a command works on, and where its state and cluster are (:func:`stack_options`)."""

    stack: str
    kubeconfig: Path | None = None
    charts: Path | None = None
    stack_file: Path | None = None
    state: Path = DEFAULT_STATE
    backend: str | None = None
    secrets_provider: str = "passphrase"

    def engine(self, stack: str | None = None, *, kubeconfig: bool = True) -> Engine:
        """The engine driver for this target, or for ``stack`` on the same backend (a promotion's
        source: not the target's --kubeconfig or --stack-file)."""
        given = self.kubeconfig if kubeconfig else None
        kube = given or (Path(os.environ["KUBECONFIG"]) if os.environ.get("KUBECONFIG") else None)
        own = stack is None or stack == self.stack
        made = Engine(
            stack or self.stack,
            kube.resolve() if kube else None,
            self.charts.resolve() if self.charts else None,
            self.state.resolve(),
            on_output=None,
            stack_file=self.stack_file.resolve() if self.stack_file and own else None,
            backend=self.backend,
            secrets_provider=self.secrets_provider,
        )
        if os.environ.get("MESHSTACK_SECRETS_GENERATOR"):
            made.set_overrides(secrets={"generator": os.environ["MESHSTACK_SECRETS_GENERATOR"]})
        return made


#: Which stack (``--stack``, ``--stack-file``), and where it lives (the rest), as
#: (parameter, annotation, default).
_WHICH: tuple[tuple[str, Any, Any], ...] = (
    ("stack", StackOpt, inspect.Parameter.empty),
    ("stack_file", StackFileOpt, None),
)
_WHERE: tuple[tuple[str, Any, Any], ...] = (
    ("kubeconfig", KubeconfigOpt, None),
    ("charts", ChartsOpt, None),
    ("state", StateOpt, DEFAULT_STATE),
    ("backend", BackendOpt, None),
    ("secrets_provider", SecretsOpt, "passphrase"),
)

F = TypeVar("F", bound=Callable[..., Any])


def _declare(func: F, shared: tuple[tuple[str, Any, Any], ...], name: str) -> F:
    signature = inspect.signature(func)
    resolved = typing.get_type_hints(func, include_extras=True)  # the Annotated[..., typer.Option] objects
    own = [
        p.replace(annotation=resolved.get(p.name, p.annotation))
        for p in signature.parameters.values()
        if p.name != name
    ]
    declared = [
        inspect.Parameter(option, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        for option, annotation, default in shared
    ]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        values = {option: kwargs.pop(option) for option, _, _ in shared}
        return func(**{name: StackTarget(**{"stack": "", **values})}, **kwargs)

    params = [*declared, *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own)]
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    hints = {k: v for k, v in resolved.items() if k != name}
    wrapper.__annotations__ = {**{option: annotation for option, annotation, _ in shared}, **hints}
    return wrapper  # type: ignore[return-value]


def stack_options(func: F) -> F:
    """Declare the shared stack options on ``func``, which takes them as one ``target: StackTarget``."""
    return _declare(func, (*_WHICH, *_WHERE), "target")


def location_options(func: F) -> F:
    """Declare where stacks live (everything :func:`stack_options` declares but ``--stack`` and
    ``--stack-file``) on ``func``, which takes them as ``where: StackTarget`` (a command naming
    its stacks itself: ``promote --from dev --to prod``)."""
    return _declare(func, _WHERE, "where")


# --- reporting ---------------------------------------------------------------------------------------


def emit(json_out: bool, info: dict[str, Any]) -> None:
    """A command's result: one JSON object, or ``key=value`` pairs for people."""
    if json_out:
        typer.echo(json.dumps(info, sort_keys=True))
    else:
        typer.echo(" ".join(f"{k}={v}" for k, v in info.items()))


def fail(json_out: bool, code: Exit | int, message: str, problems: list[dict[str, str]] | None = None) -> typer.Exit:
    """Report a failure: the message on stderr for people (and a pipeline's log), and with
    ``--json`` also one JSON object on stdout (``{"error": {code, message, problems}}``), so that
    stdout always holds one document to parse. Returns the exit to raise."""
    typer.echo(f"meshstack: {message}", err=True)
    if json_out:
        error = {"code": int(code), "message": message, "problems": problems or []}
        typer.echo(json.dumps({"error": error}, sort_keys=True))
    return typer.Exit(int(code))


@contextmanager
def guarded(json_out: bool) -> Iterator[None]:
    """Each kind of failure of the work inside as its exit code and one message."""
    try:
        yield
    except StackLocked as err:
        raise fail(json_out, Exit.LOCKED, str(err)) from None
    except ConfigError as err:
        problems = [{"path": f"{err.prefix}{p.path}", "message": p.message} for p in err.problems]
        raise fail(json_out, Exit.REFUSED, str(err), problems) from None
    except (PolicyRefused, EngineError, FileNotFoundError) as err:
        raise fail(json_out, Exit.REFUSED, str(err)) from None
    except auto.CommandError as err:
        raise fail(json_out, Exit.ERROR, f"the engine failed:\n{err}") from None
