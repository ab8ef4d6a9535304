"""What an engine operation planned or did, read from its events and summaries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi import automation as auto


def changed_resources(events: list[auto.EngineEvent]) -> list[dict[str, str]]:
    """``[{op, urn, type}]`` of the steps a preview or update planned, without same/read (and
    without the refresh steps a ``--refresh`` preview reads the cluster with)."""
    steps: list[dict[str, str]] = []
    for event in events:
        pre = event.resource_pre_event
        if pre is None:
            continue
        op = str(getattr(pre.metadata.op, "value", pre.metadata.op))
        if op not in ("same", "read", "refresh"):
            steps.append({"op": op, "urn": pre.metadata.urn, "type": pre.metadata.type})
    return steps


def change_counts(summary: Mapping[Any, int] | None) -> dict[str, int]:
    """An operation's summary (``{OpType.UPDATE: 1, OpType.SAME: 80}``) as ``{"update": 1}``:
    what changed, without ``same`` and without zeros."""
    named = {str(getattr(op, "value", op)): n for op, n in (summary or {}).items()}
    return {op: n for op, n in named.items() if op != "same" and n}
