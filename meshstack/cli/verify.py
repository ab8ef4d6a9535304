"""``meshstack verify --stack S``: after an ``up``, is the stack's mesh working on its cluster?"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from meshstack.cli.options import Exit, JsonOpt, StackTarget, emit, exit_codes, fail, guarded, stack_options
from meshstack.tools.engine import bootstrap_env
from meshstack.tools.verify import find_istioctl, verify


def _tool_dirs() -> list[Path]:
    try:
        return [Path(p) for p in bootstrap_env().get("PATH", "").split(os.pathsep)[:1] if p]
    except OSError:
        return []


@stack_options
def verify_command(target: StackTarget, json_out: JsonOpt = False) -> None:
    """Check the stack's mesh on its cluster: the control plane, the webhooks (serving, with a CA
    bundle), injection, every proxy connected and in sync with istiod, the gateways' endpoints, and
    istioctl's live analysis. Nothing is changed."""
    with guarded(json_out):
        eng = target.engine()
        kubeconfig = eng.cluster_kubeconfig()
        if kubeconfig is None and not os.environ.get("KUBECONFIG"):
            raise fail(json_out, Exit.REFUSED, "verify needs the cluster: give --kubeconfig or set $KUBECONFIG")
        report = verify(eng.spec(), target.stack, kubeconfig, find_istioctl(_tool_dirs()))
    if json_out:
        emit(True, report.as_json())
    else:
        typer.echo(report.text())
    if not report.ok:
        raise typer.Exit(Exit.CHANGES)


verify_command.__doc__ = (
    f"{verify_command.__doc__}\n\n"
    f"{exit_codes((Exit.OK, 'every check holds'), (Exit.REFUSED, 'bad input'), (Exit.CHANGES, 'a check failed'))}"
)
