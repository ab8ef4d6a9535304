"""Where a Helm chart comes from: an https repository, an oci:// registry or a local directory."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ChartSource:
    """Arguments for a chart install. ``repository`` is None for OCI and local charts, whose
    location is part of ``chart``; ``version`` is None for a local directory (it has one version)."""

    chart: str
    repository: str | None
    version: str | None

    @property
    def is_local(self) -> bool:
        return self.repository is None and not self.chart.startswith("oci://")


def chart_source(repository: str, chart: str, version: str) -> ChartSource:
    """``chart`` of ``version`` from ``repository`` (https://…, oci://…, file://… or a path)."""
    if repository.startswith("oci://"):
        return ChartSource(chart=f"{repository.rstrip('/')}/{chart}", repository=None, version=version)
    if repository.startswith(("http://", "https://")):
        return ChartSource(chart=chart, repository=repository, version=version)
    # A local directory holds one release's unpacked charts; ``{version}`` in its path selects the
    # directory of each revision's release (``~/.cache/meshstack/istio-charts-{version}``), so
    # offline canary upgrades can run two releases side by side.
    path = repository.removeprefix("file://").replace("{version}", version)
    return ChartSource(chart=os.path.join(os.path.expanduser(path), chart), repository=None, version=None)
