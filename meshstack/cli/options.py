"""Options every ``meshstack`` command shares: which stack, where its state and cluster are."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from meshstack.tools.engine import DEFAULT_STATE, Engine

StackOpt = Annotated[str, typer.Option("--stack", help="The stack (Pulumi.<stack>.yaml).")]
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
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (for pipelines).")]

__all__ = ["DEFAULT_STATE"]


def engine(
    stack: str,
    kubeconfig: Path | None,
    charts: Path | None,
    state: Path,
    stack_file: Path | None = None,
    backend: str | None = None,
    secrets_provider: str = "passphrase",
) -> Engine:
    kube = kubeconfig or (Path(os.environ["KUBECONFIG"]) if os.environ.get("KUBECONFIG") else None)
    made = Engine(
        stack,
        kube.resolve() if kube else None,
        charts.resolve() if charts else None,
        state.resolve(),
        on_output=None,
        stack_file=stack_file.resolve() if stack_file else None,
        backend=backend,
        secrets_provider=secrets_provider,
    )
    if os.environ.get("MESHSTACK_SECRETS_GENERATOR"):
        made.set_overrides(secrets={"generator": os.environ["MESHSTACK_SECRETS_GENERATOR"]})
    return made
