"""Placeholder for the ``meshstack:apps`` config section (replaced by the apps/policies work)."""

from __future__ import annotations

from pydantic import Field

from meshstack.model.base import Model


class AppsConfig(Model):
    """The ``meshstack:apps`` section."""

    enabled: bool = Field(False, description="Deploy the workload apps of this stack.")
