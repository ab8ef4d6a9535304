"""``meshstack promote --from dev --to prod``: dev's release, prod's environment, prod's guardrails.

1. The source: the ``release`` output of the source stack's latest update, read from its state
   (what dev actually runs, not a stack file that may have moved on), with that update's number
   and the commit it ran. A source whose last update failed is refused.
2. The target config: the target's stack file with its release parts replaced by the source's
   (:mod:`meshstack.model.release` declares the split), plus the provenance record
   (``meshstack:promotion``). It is validated as the target: a dev release breaking a prod rule
   fails here with prod's path-named errors, before anything touches a cluster.
3. Drift: a target whose cluster no longer matches its state is reported and not overwritten
   (unless ``--overwrite-drift``).
4. The preview of the target (its policy pack mandatory for prod), then the update, only with
   ``--yes`` (or a confirmation on a terminal). The target's stack file is rewritten with the
   promoted release and its provenance — keys and comments of its own kept — for the pipeline to
   commit: the next plain ``up`` of the target runs the same release.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from meshstack.errors import ConfigError
from meshstack.model.promotion import Promotion
from meshstack.stacks import release as releases
from meshstack.stacks.config import PREFIX, load_stack_spec
from meshstack.stacks.stack_file import read_config, update_config
from meshstack.tools.engine import Engine, changed_resources


class PromoteOutcome(IntEnum):
    """``meshstack promote``'s exit codes (docs/cd.md)."""

    PROMOTED = 0
    ERROR = 1
    #: Bad input, an invalid promoted config, or an update refused without --yes.
    REFUSED = 2
    #: The target has drifted from its state.
    DRIFT = 6


class PromotionRefused(RuntimeError):
    def __init__(self, message: str, outcome: PromoteOutcome = PromoteOutcome.REFUSED) -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass
class Report:
    """What a promotion found and did (``--json`` prints it)."""

    source: dict[str, Any] = field(default_factory=dict)
    target: str = ""
    promotion: dict[str, Any] = field(default_factory=dict)
    drift: list[dict[str, str]] = field(default_factory=list)
    preview: dict[str, Any] = field(default_factory=dict)
    applied: dict[str, int] | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    stack_file: str | None = None


def source_release(source: Engine) -> tuple[dict[str, Any], Promotion]:
    """The source stack's recorded release and the provenance a promotion of it carries."""
    if not source.exists():
        raise PromotionRefused(f"stack {source.stack_name} does not exist in this backend: nothing to promote")
    last = source.last_update()
    if last is None:
        raise PromotionRefused(f"stack {source.stack_name} has no update yet: nothing to promote")
    if str(getattr(last.result, "value", last.result)) != "succeeded":
        raise PromotionRefused(
            f"stack {source.stack_name}'s last update (#{last.version}) {last.result}: promote a release that "
            "deployed; re-run its update first"
        )
    recorded = source.outputs().get(releases.OUTPUT)
    if not isinstance(recorded, Mapping) or not isinstance(recorded.get("config"), Mapping):
        raise PromotionRefused(
            f"stack {source.stack_name}'s update #{last.version} recorded no release (it predates `release` outputs); "
            "run its update again"
        )
    config = dict(recorded["config"])
    provenance = Promotion(
        source=source.stack_name,
        update=last.version or 0,
        commit=recorded.get("commit") or None,
        digest=releases.digest(config),
        at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return config, provenance


def promoted_stack_config(
    target_file: Path, release: Mapping[str, Any], provenance: Promotion, *, mesh_version: bool
) -> dict[str, Any]:
    """The target's stack config (``namespace:key`` form) running ``release``, validated as the target."""
    committed = read_config(target_file)
    ours = {k[len(PREFIX) :]: v for k, v in committed.items() if k.startswith(PREFIX)}
    promoted = releases.promoted_config(ours, release, mesh_version=mesh_version)
    promoted["promotion"] = provenance.model_copy(update={"mesh_version": mesh_version}).to_config()
    try:
        load_stack_spec(promoted)
    except ConfigError as err:
        raise PromotionRefused(f"the promoted release is not valid for {target_file.name}:\n{err}") from None
    others = {k: v for k, v in committed.items() if not k.startswith(PREFIX)}
    return {**others, **{f"{PREFIX}{k}": v for k, v in promoted.items()}}


def promote(
    source: Engine,
    target: Engine,
    *,
    target_file: Path,
    mesh_version: bool = False,
    yes: bool = False,
    dry_run: bool = False,
    overwrite_drift: bool = False,
    confirm: Callable[[Report], bool] | None = None,
    write: bool = True,
) -> Report:
    """Promote ``source``'s release to ``target`` (see the module's docstring). ``confirm``: asked
    before the update when ``yes`` is not given (None: not interactive, refuse)."""
    report = Report(target=target.stack_name)
    started = time.perf_counter()
    release, provenance = source_release(source)
    report.source = {"stack": source.stack_name, "update": provenance.update, "commit": provenance.commit}
    config = promoted_stack_config(target_file, release, provenance, mesh_version=mesh_version)
    report.promotion = config[f"{PREFIX}promotion"]
    with tempfile.TemporaryDirectory(prefix="meshstack-promote-") as tmp:
        promoted_file = Path(tmp) / target_file.name
        update_config(target_file, config, out=promoted_file)
        committed_file = target.stack_file
        try:
            _preview_and_update(
                target,
                report,
                promoted_file,
                yes=yes,
                dry_run=dry_run,
                overwrite_drift=overwrite_drift,
                confirm=confirm,
            )
        finally:
            target.stack_file = committed_file
        if report.applied is not None and write:
            update_config(target_file, config)
            report.stack_file = str(target_file)
    report.seconds["total"] = time.perf_counter() - started
    return report


def _preview_and_update(
    target: Engine,
    report: Report,
    promoted_file: Path,
    *,
    yes: bool,
    dry_run: bool,
    overwrite_drift: bool,
    confirm: Callable[[Report], bool] | None,
) -> None:
    """Drift check, preview, then (with --yes or a confirmation) the update: on ``target`` as it
    mirrors the promoted stack file."""
    # Drift: the cluster against the target's own (committed) config, before the promoted one.
    if target.exists() and target.last_update() is not None:  # a stack never updated has nothing to drift from
        report.drift = target.drift()
        if report.drift and not overwrite_drift:
            names = ", ".join(step["urn"].rsplit("::", 1)[-1] for step in report.drift[:10])
            raise PromotionRefused(
                f"stack {target.stack_name} has drifted from its state ({len(report.drift)} resources differ in "
                f"the cluster: {names}); look at `meshstack refresh --stack {target.stack_name} --preview-only`, "
                "then re-run with --overwrite-drift to replace them",
                PromoteOutcome.DRIFT,
            )
        if report.drift:  # told to replace it: take back the fields other managers took (server-side apply force)
            target.extra_env["PULUMI_K8S_ENABLE_PATCH_FORCE"] = "true"
    target.stack_file = promoted_file
    events: list[Any] = []
    t0 = time.perf_counter()
    preview = target.preview(refresh=bool(report.drift), on_event=events.append)
    report.seconds["preview"] = time.perf_counter() - t0
    report.preview = {
        "changes": {str(getattr(k, "value", k)): v for k, v in preview.change_summary.items()},
        "steps": changed_resources(events),
    }
    if dry_run:
        return
    if not yes and (confirm is None or not confirm(report)):
        raise PromotionRefused(
            "refusing to update "
            f"{target.stack_name} without --yes (not interactive, or not confirmed); --dry-run shows the preview"
        )
    t1 = time.perf_counter()
    result = target.up(refresh=bool(report.drift))  # replacing drift: read the cluster first
    report.seconds["up"] = time.perf_counter() - t1
    report.applied = {str(getattr(k, "value", k)): v for k, v in (result.summary.resource_changes or {}).items() if v}


def describe(stack_file: Path) -> str:
    """One line for the commit that records a promotion: where the target's release came from."""
    recorded = read_config(stack_file).get(f"{PREFIX}promotion")
    if not isinstance(recorded, Mapping):
        return f"{stack_file.name} (no promotion recorded)"
    commit = recorded.get("commit") or "unknown commit"
    return f"release of {recorded.get('source')} update #{recorded.get('update')} ({commit}, {recorded.get('digest')})"
